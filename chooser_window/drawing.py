"""Drawing the chooser's frames: the static parts once, then the focused tile and its preview.

A `Scene` holds what a window shows (layout, title, candidates, decoded images) and caches what
does not change with the focus; `render()` draws one frame for a `ChooserState`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from chooser_window.candidate import Crop, SelectableCandidate
from chooser_window.controls import ChooserState
from chooser_window.layout import Layout, Rect

# Colours are BGR: the canvas is an OpenCV image, and Pillow draws the same tuples into it.
BACKGROUND = (30, 26, 23)
PANEL = (48, 43, 40)
BORDER = (78, 72, 68)
TEXT = (245, 245, 245)
MUTED = (170, 163, 158)
ACCENT = (0, 190, 255)
ON_ACCENT = (20, 20, 20)
BADGE = (25, 22, 20)


def format_timestamp(seconds: float, tenths: bool = False) -> str:
    """Seconds into the video as m:ss (h:mm:ss past an hour), optionally with tenths."""
    whole = math.floor(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    if tenths:
        text += f".{math.floor((seconds - whole) * 10)}"
    return text


def tile_texts(candidate: SelectableCandidate) -> tuple[str, str, str]:
    """(badge, score, time) drawn on a candidate's tile."""
    return (
        str(candidate.rank),
        f"score {candidate.score:.2f}",
        format_timestamp(candidate.timestamp),
    )


HELP_KEYS = (
    ("arrows / h j k l", "move"),
    ("Enter / Space", "choose highlighted"),
    ("A", "accept #1"),
    ("Esc / Q", "cancel"),
    ("click", "highlight"),
    ("double-click", "choose"),
)


@cache
def _font(size: int, weight: str = "SemiBold") -> ImageFont.FreeTypeFont:
    # Montserrat covers Vietnamese names and the arrow glyphs of the help line
    path = resources.files("fontpkg_montserrat") / "files" / "Montserrat[wght].ttf"
    font = ImageFont.truetype(str(path), max(size, 6))
    font.set_variation_by_name(weight)
    return font


def fit_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` scaled to fit width x height, letterboxed (portrait phone frames stay whole)."""
    source_h, source_w = image.shape[:2]
    factor = min(width / source_w, height / source_h)
    new_w, new_h = max(1, round(source_w * factor)), max(1, round(source_h * factor))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    if (new_w, new_h) == (width, height):
        return resized
    boxed = np.zeros((height, width, 3), np.uint8)
    left, top = (width - new_w) // 2, (height - new_h) // 2
    boxed[top : top + new_h, left : left + new_w] = resized
    return boxed


def cropped(image: np.ndarray, crop: Crop | None) -> np.ndarray:
    """The part of `image` that `crop` names (fractions), or all of it."""
    if crop is None:
        return image
    height, width = image.shape[:2]
    left, top = round(crop[0] * width), round(crop[1] * height)
    right = max(left + 1, round(crop[2] * width))
    bottom = max(top + 1, round(crop[3] * height))
    return image[top:bottom, left:right]


def _paste(canvas: np.ndarray, image: np.ndarray, where: Rect) -> None:
    canvas[where.y : where.bottom, where.x : where.right] = fit_image(
        image, where.width, where.height
    )


def _ellipsize(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _text_middle(
    draw: ImageDraw.ImageDraw,
    x: float,
    box: Rect,
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: tuple[int, int, int],
) -> float:
    """Draw `text` vertically centred in `box` from x; returns the x after it."""
    draw.text((x, box.y + box.height / 2), text, font=font, fill=fill, anchor="lm")
    return x + font.getlength(text)


def _badge(draw: ImageDraw.ImageDraw, tile: Rect, text: str, scale: float, focused: bool) -> None:
    size = round(30 * scale)
    inset = round(6 * scale)
    box = (tile.x + inset, tile.y + inset, tile.x + inset + size, tile.y + inset + size)
    draw.rounded_rectangle(box, radius=round(7 * scale), fill=ACCENT if focused else BADGE)
    draw.text(
        ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2),
        text,
        font=_font(round(19 * scale), "Bold"),
        fill=ON_ACCENT if focused else TEXT,
        anchor="mm",
    )


def _label(
    draw: ImageDraw.ImageDraw, label: Rect, texts: tuple[str, str, str], scale: float, focused: bool
) -> None:
    draw.rectangle(
        (label.x, label.y, label.right - 1, label.bottom - 1), fill=ACCENT if focused else PANEL
    )
    font = _font(round(14 * scale), "SemiBold")
    colour = ON_ACCENT if focused else TEXT
    pad = round(8 * scale)
    _, score, when = texts
    _text_middle(draw, label.x + pad, label, score, font, colour)
    draw.text(
        (label.right - pad, label.y + label.height / 2), when, font=font, fill=colour, anchor="rm"
    )


def _help_line(draw: ImageDraw.ImageDraw, where: Layout, last_digit: int) -> None:
    """The keys, starting with the digits that choose a tile (1 to the highest rank)."""
    box = where.help_line
    keys = ((f"1–{last_digit}" if last_digit > 1 else "1", "choose"), *HELP_KEYS)
    spacing = round(22 * where.scale)
    size = round(14 * where.scale)
    while True:  # shrink the text until the whole line fits
        key_font, text_font = _font(size, "Bold"), _font(size, "Medium")
        parts = [(key_font.getlength(key) + text_font.getlength(" " + text)) for key, text in keys]
        total = sum(parts) + spacing * (len(parts) - 1)
        if total <= box.width - 2 * spacing or size <= 8:
            break
        size -= 1
    x = box.x + (box.width - total) / 2
    for key, text in keys:
        x = _text_middle(draw, x, box, key, key_font, TEXT)
        x = _text_middle(draw, x, box, " " + text, text_font, MUTED) + spacing


def _header(draw: ImageDraw.ImageDraw, where: Layout, title: str, count: int) -> None:
    box = where.header
    pad = where.preview.x
    summary = f"{count} candidate{'s' if count != 1 else ''} · best first"
    summary_font = _font(round(15 * where.scale), "Medium")
    summary_w = summary_font.getlength(summary)
    title_font = _font(round(21 * where.scale), "Bold")
    room = box.width - 2 * pad - summary_w - round(30 * where.scale)
    _text_middle(draw, pad, box, _ellipsize(title, title_font, room), title_font, TEXT)
    draw.text(
        (box.right - pad, box.y + box.height / 2),
        summary,
        font=summary_font,
        fill=MUTED,
        anchor="rm",
    )


def _caption(draw: ImageDraw.ImageDraw, where: Layout, candidate: SelectableCandidate) -> None:
    box = where.caption
    scale = where.scale
    x = _text_middle(
        draw, box.x, box, f"#{candidate.rank}", _font(round(26 * scale), "Bold"), ACCENT
    )
    details = (
        f"   score {candidate.score:.2f}   ·   "
        f"{format_timestamp(candidate.timestamp, tenths=True)} into the video"
    )
    _text_middle(draw, x, box, details, _font(round(16 * scale), "Medium"), TEXT)
    hint_font = _font(round(15 * scale), "SemiBold")
    draw.text(
        (box.right, box.y + box.height / 2),
        "Enter to choose",
        font=hint_font,
        fill=MUTED,
        anchor="rm",
    )


def _frame_rect(canvas: np.ndarray, where: Rect, colour: tuple[int, int, int], thickness: int):
    cv2.rectangle(
        canvas,
        (where.x - thickness, where.y - thickness),
        (where.right + thickness - 1, where.bottom + thickness - 1),
        colour,
        thickness,
    )


@dataclass(eq=False)
class Scene:
    """What a chooser window shows; caches the parts that do not change with the focus."""

    layout: Layout
    title: str
    candidates: Sequence[SelectableCandidate]  # best first, one per layout tile
    images: Sequence[np.ndarray]  # decoded BGR images of the candidates
    _static: np.ndarray | None = field(default=None, repr=False)
    _previews: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def static(self) -> np.ndarray:
        if self._static is None:
            self._static = _draw_static(self)
        return self._static

    def preview(self, index: int) -> np.ndarray:
        """The candidate large, as its thumbnail will frame it."""
        if index not in self._previews:
            where = self.layout.preview
            framed = cropped(self.images[index], self.candidates[index].crop)
            self._previews[index] = fit_image(framed, where.width, where.height)
        return self._previews[index]


def _draw_static(scene: Scene) -> np.ndarray:
    where = scene.layout
    width, height = where.canvas_size
    canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
    for tile, label, image in zip(where.tiles, where.labels, scene.images, strict=True):
        _paste(canvas, image, tile)
        _frame_rect(canvas, Rect(tile.x, tile.y, tile.width, label.bottom - tile.y), BORDER, 1)
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    draw.line((0, where.header.bottom - 1, width, where.header.bottom - 1), fill=PANEL, width=1)
    draw.line((0, where.help_line.y, width, where.help_line.y), fill=PANEL, width=1)
    _header(draw, where, scene.title, len(scene.candidates))
    for tile, label, candidate in zip(where.tiles, where.labels, scene.candidates, strict=True):
        texts = tile_texts(candidate)
        _badge(draw, tile, texts[0], where.scale, focused=False)
        _label(draw, label, texts, where.scale, focused=False)
    _help_line(draw, where, max(c.rank for c in scene.candidates))
    return np.asarray(picture).copy()


def render(scene: Scene, state: ChooserState) -> np.ndarray:
    """The window's frame for `state`: the focused tile highlighted and shown large."""
    where = scene.layout
    canvas = scene.static().copy()
    focus = state.focus
    preview = where.preview
    canvas[preview.y : preview.bottom, preview.x : preview.right] = scene.preview(focus)
    _frame_rect(canvas, preview, BORDER, max(1, round(2 * where.scale)))
    tile, label = where.tiles[focus], where.labels[focus]
    highlight = Rect(tile.x, tile.y, tile.width, label.bottom - tile.y)
    _frame_rect(canvas, highlight, ACCENT, max(2, round(4 * where.scale)))
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    candidate = scene.candidates[focus]
    texts = tile_texts(candidate)
    _badge(draw, tile, texts[0], where.scale, focused=True)
    _label(draw, label, texts, where.scale, focused=True)
    _caption(draw, where, candidate)
    return np.asarray(picture).copy()
