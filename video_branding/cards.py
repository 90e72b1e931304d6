"""The title cards laid over the footage, drawn in the thumbnails' brand.

The intro names the match: the tournament in its theme's accent colour, the two teams around a
"VS" on a panel of the theme colour, the match type and date beneath, the logo above. The outro
thanks the viewer under the logo. Everything else is transparent, so the game shows through.

Cards are drawn upright for the picture as it is shown (a phone's portrait video included) and
sized from a 1920x1080 design: `unit` is how many pixels one design pixel is on this video, so
720p and 4K get the same card, smaller or larger. Only the part of the picture a card covers is
kept (`Card.image` and where it goes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter

from thumbnail_enhancement.fonts import (
    ANTON,
    MONTSERRAT_BOLD,
    MONTSERRAT_EXTRABOLD,
    TEXT_LOCK,
    font,
)
from thumbnail_enhancement.layout import (
    Box,
    MatchText,
    TextBlock,
    Theme,
    Words,
    fit_text,
    place,
    theme_for,
)
from thumbnail_enhancement.renderer import Logo

DESIGN_WIDTH, DESIGN_HEIGHT = 1920, 1080
PANEL_OPACITY = 232  # of 255: the panel is nearly solid, the picture around it untouched
SHADOW = (0, 0, 0, 150)
LOGO_WIDTH_SHARE = 0.10  # the burned-in logo: 10% of the picture's width
LOGO_MARGIN_PX = 20  # from the top and right edges


@dataclass(frozen=True)
class Card:
    """An RGBA picture and where its top-left corner lies on the shown picture."""

    image: Image.Image
    x: int
    y: int


def _unit(width: int, height: int) -> float:
    """Pixels per design pixel: a landscape picture fits the design by its height, a portrait
    one by its width."""
    return min(width / DESIGN_WIDTH, height / DESIGN_HEIGHT)


def _rounded(size: tuple[int, int], radius: float, fill: tuple[int, ...]) -> Image.Image:
    """A rounded rectangle drawn at twice the size, then reduced: smooth edges."""
    width, height = size
    big = Image.new("RGBA", (width * 2, height * 2), (0, 0, 0, 0))
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, width * 2 - 1, height * 2 - 1), radius=radius * 2, fill=fill
    )
    return big.resize(size, Image.Resampling.LANCZOS)


def _gradient_panel(size: tuple[int, int], radius: float, theme: Theme) -> Image.Image:
    width, height = size
    top, bottom = theme.panel, theme.panel_deep
    ramp = Image.linear_gradient("L").resize((width, height))
    panel = Image.composite(
        Image.new("RGB", size, bottom), Image.new("RGB", size, top), ramp
    ).convert("RGBA")
    shape = _rounded(size, radius, (255, 255, 255, PANEL_OPACITY)).getchannel("A")
    panel.putalpha(shape)
    return panel


def _shadow_of(layer: Image.Image, blur: float) -> Image.Image:
    """A soft black shadow of the layer's shape, as large as the layer."""
    alpha = layer.getchannel("A").filter(ImageFilter.GaussianBlur(blur))
    shadow = Image.new("RGBA", layer.size, (*SHADOW[:3], 0))
    shadow.putalpha(alpha.point(lambda value: value * SHADOW[3] // 255))
    return shadow


def _draw_text(canvas: Image.Image, block: TextBlock, shadow: float = 0.0) -> None:
    """The block's lines on `canvas`, over a soft shadow when `shadow` (its blur) is set."""
    margin = math.ceil(3 * shadow) + 2  # room for the blur around the ink
    ink = block.ink
    left, top = math.floor(ink.x0) - margin, math.floor(ink.y0) - margin
    size = (math.ceil(ink.x1) + margin - left, math.ceil(ink.y1) + margin - top)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    with TEXT_LOCK:
        typeface = font(block.face, block.size)
        for line in block.lines:
            origin = (line.origin[0] - left, line.origin[1] - top)
            draw.text(origin, line.text, font=typeface, fill=block.colour, anchor="ls")
    if shadow:
        offset = max(1, round(shadow / 2))
        _composite(canvas, _shadow_of(layer, shadow), left + offset, top + offset)
    _composite(canvas, layer, left, top)


def _composite(canvas: Image.Image, layer: Image.Image, x: int, y: int) -> None:
    """`layer` over `canvas` at (x, y); what falls outside the canvas is left out."""
    source_left, source_top = max(0, -x), max(0, -y)
    right = min(layer.width, canvas.width - x)
    bottom = min(layer.height, canvas.height - y)
    if right > source_left and bottom > source_top:
        box = (source_left, source_top, right, bottom)
        canvas.alpha_composite(layer, (x + source_left, y + source_top), box)


def _logo_layer(logo: Logo, height: int) -> Image.Image:
    width, logo_height = logo.size
    size = (max(1, round(width * height / logo_height)), max(1, height))
    return logo.scaled(size)


def _cropped(canvas: Image.Image) -> Card:
    box = canvas.getchannel("A").getbbox()
    if box is None:
        return Card(Image.new("RGBA", (2, 2), (0, 0, 0, 0)), 0, 0)
    # even corners: the card's chroma samples line up with the picture's (4:2:0)
    left, top = box[0] // 2 * 2, box[1] // 2 * 2
    right = min(canvas.width, math.ceil(box[2] / 2) * 2)
    bottom = min(canvas.height, math.ceil(box[3] / 2) * 2)
    return Card(canvas.crop((left, top, right, bottom)), left, top)


def intro_card(match: MatchText, width: int, height: int, logo: Logo | None) -> Card:
    """The match's card for a picture shown at width x height."""
    return _intro(match, width, height, logo)


@lru_cache(maxsize=8)
def _intro(match: MatchText, width: int, height: int, logo: Logo | None) -> Card:
    unit = _unit(width, height)
    theme = theme_for(match.tournament)
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))

    def px(value: float) -> int:
        return max(1, round(value * unit))

    panel_width = min(width - px(80), px(1500))
    left = (width - panel_width) // 2
    panel_height = px(230)
    caption_height = px(58) if match.caption else 0
    bottom_margin = px(96)
    panel_top = height - bottom_margin - caption_height - panel_height
    tournament_height = px(70)
    tournament_top = panel_top - tournament_height - px(14)

    panel = _gradient_panel((panel_width, panel_height), px(36), theme)
    canvas.alpha_composite(_shadow_of(panel, px(14)), (left + px(4), panel_top + px(8)))
    canvas.alpha_composite(panel, (left, panel_top))

    disc = px(150)
    cx, cy = width // 2, panel_top + panel_height // 2
    canvas.alpha_composite(
        _rounded((disc, disc), disc / 2, (*theme.accent, 255)), (cx - disc // 2, cy - disc // 2)
    )
    vs_box = Box(cx - disc * 0.38, cy - disc * 0.34, cx + disc * 0.38, cy + disc * 0.34)
    vs = fit_text(Words.of(["VS"]), ANTON, vs_box, px(90), px(30))
    _draw_text(canvas, place(vs, vs_box, "vs", theme.on_accent))

    pad = px(40)
    sides = (
        Box(
            left + pad,
            panel_top + px(18),
            cx - disc // 2 - px(28),
            panel_top + panel_height - px(18),
        ),
        Box(
            cx + disc // 2 + px(28),
            panel_top + px(18),
            left + panel_width - pad,
            panel_top + panel_height - px(18),
        ),
    )
    teams = [Words.of([name.upper() for name in team]) for team in (match.team1, match.team2)]
    fitted = [
        fit_text(words, ANTON, box, px(96), px(44), max_lines=2, spacing=1.04)
        for words, box in zip(teams, sides, strict=True)
    ]
    common = min(f.size for f in fitted)
    fitted = [
        f
        if f.size <= common
        else fit_text(words, ANTON, box, common, common, max_lines=2, spacing=1.04)
        for f, words, box in zip(fitted, teams, sides, strict=True)
    ]
    for role, f, box in zip(("team1", "team2"), fitted, sides, strict=True):
        _draw_text(canvas, place(f, box, role, theme.text), shadow=px(3))

    slot = Box(
        left + px(10),
        tournament_top,
        left + panel_width - px(10),
        tournament_top + tournament_height,
    )
    tournament = fit_text(
        Words.of([match.tournament.upper()]), MONTSERRAT_EXTRABOLD, slot, px(60), px(30)
    )
    _draw_text(canvas, place(tournament, slot, "tournament", theme.accent), shadow=px(6))

    if match.caption:
        slot = Box(
            left,
            panel_top + panel_height + px(12),
            left + panel_width,
            panel_top + panel_height + caption_height,
        )
        caption = fit_text(Words.of([match.caption]), MONTSERRAT_BOLD, slot, px(36), px(20))
        _draw_text(canvas, place(caption, slot, "caption", (255, 255, 255)), shadow=px(5))

    if logo is not None:
        layer = _logo_layer(logo, px(120))
        if layer.width > panel_width:
            layer = _logo_layer(logo, round(px(120) * panel_width / layer.width))
        top = tournament_top - layer.height - px(16)
        canvas.alpha_composite(
            _shadow_of(layer, px(8)), ((width - layer.width) // 2 + px(3), top + px(4))
        )
        canvas.alpha_composite(layer, ((width - layer.width) // 2, top))
    return _cropped(canvas)


def outro_card(text: str, tournament: str, width: int, height: int, logo: Logo | None) -> Card:
    return _outro(text, tournament, width, height, logo)


@lru_cache(maxsize=8)
def _outro(text: str, tournament: str, width: int, height: int, logo: Logo | None) -> Card:
    unit = _unit(width, height)
    theme = theme_for(tournament)
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))

    def px(value: float) -> int:
        return max(1, round(value * unit))

    block_width = min(width - px(80), px(1500))
    left = (width - block_width) // 2
    slot = Box(left, height // 2 - px(20), left + block_width, height // 2 + px(150))
    words = fit_text(Words.of([text.upper()]), ANTON, slot, px(150), px(60), max_lines=2)
    block = place(words, slot, "outro", (255, 255, 255))
    _draw_text(canvas, block, shadow=px(8))
    ink = block.ink
    rule = (px(220), px(12))
    rule_top = math.ceil(ink.y1) + px(26)
    canvas.alpha_composite(
        _rounded(rule, rule[1] / 2, (*theme.accent, 255)), ((width - rule[0]) // 2, rule_top)
    )
    if logo is not None:
        layer = _logo_layer(logo, px(150))
        if layer.width > block_width:
            layer = _logo_layer(logo, round(px(150) * block_width / layer.width))
        top = math.floor(ink.y0) - layer.height - px(36)
        canvas.alpha_composite(
            _shadow_of(layer, px(8)), ((width - layer.width) // 2 + px(3), top + px(4))
        )
        canvas.alpha_composite(layer, ((width - layer.width) // 2, top))
    return _cropped(canvas)


def logo_card(logo: Logo, width: int, height: int) -> Card:
    """The logo burned into every frame: 10% of the width, 20 px from the top-right corner."""
    logo_width, logo_height = logo.size
    target_width = max(2, round(width * LOGO_WIDTH_SHARE))
    size = (target_width, max(2, round(logo_height * target_width / logo_width)))
    x = width - size[0] - LOGO_MARGIN_PX
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    canvas.alpha_composite(logo.scaled(size), (max(0, x), LOGO_MARGIN_PX))
    return _cropped(canvas)
