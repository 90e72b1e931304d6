"""The thumbnail templates: each turns a match into a `Plan` of panels, texts and the logo's box.

template_a: the frame full-bleed, a tournament badge top-left, the logo top-right and a
lower-third bar with the matchup around a "VS" disc.
template_b: a sidebar (30% of the width) in the theme colour with the logo, the tournament, the
two teams as stacked pills around a large "VS"; the frame fills the rest.

Each template names its photo panel and the part of it that its bars and badges leave clear:
the players are framed into that part (framing.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from errors import PipelineError, Remedy
from thumbnail_enhancement.fonts import ANTON, MONTSERRAT_BOLD, MONTSERRAT_EXTRABOLD
from thumbnail_enhancement.framing import BoxTuple, frame_crop
from thumbnail_enhancement.layout import (
    CANVAS_HEIGHT,
    CANVAS_WIDTH,
    RGB,
    RGBA,
    Box,
    Fitted,
    MatchText,
    Panel,
    Plan,
    TextBlock,
    Theme,
    Words,
    fit_logo,
    fit_text,
    hug,
    place,
    theme_for,
)

W, H = CANVAS_WIDTH, CANVAS_HEIGHT
LogoSize = tuple[int, int] | None


class UnknownTemplateError(PipelineError):
    pass


def _opaque(colour: RGB) -> RGBA:
    return (*colour, 255)


def _team_words(names: tuple[str, ...]) -> Words:
    return Words.of([name.upper() for name in names])


def _upper_words(text: str) -> Words:
    return Words.of([text.upper()])


def _fit_teams(
    match: MatchText, box: Box, max_size: int, min_size: int, max_lines: int
) -> dict[str, Fitted]:
    """Both teams fitted into `box`, then set at the same size (but not below `min_size` for a
    team whose names are short): the matchup looks balanced."""
    teams = {"team1": _team_words(match.team1), "team2": _team_words(match.team2)}

    def fit(words: Words, largest: int) -> Fitted:
        return fit_text(words, ANTON, box, largest, min(min_size, largest), max_lines, 1.04)

    fitted = {role: fit(words, max_size) for role, words in teams.items()}
    common = max(min_size, min(f.size for f in fitted.values()))
    return {
        role: fitted[role] if fitted[role].size <= common else fit(words, common)
        for role, words in teams.items()
    }


# -------------------------------------------------------------------------------- template_a

A_MARGIN = 40
A_BAR_BOTTOM = 684
A_BAR_MIN_HEIGHT = 114
A_DISC_RADIUS = 66
A_DISC_RING = 7
A_PHOTO = Box(0, 0, W, H)
A_CLEAR = Box(0, 150, W, 530)  # below the badge and the logo, above the matchup bar


def _a_badge(match: MatchText, theme: Theme, right_limit: float) -> tuple[list[Panel], TextBlock]:
    stripe, pad_x, pad_y, top = 8, 22, 15, 34
    slot = Box(
        A_MARGIN + stripe + pad_x, top + pad_y, min(A_MARGIN + 660, right_limit) - pad_x, top + 116
    )
    fitted = fit_text(
        _upper_words(match.tournament), MONTSERRAT_EXTRABOLD, slot, 30, 22, max_lines=2, spacing=1.2
    )
    block = place(fitted, slot, "tournament", theme.text, align="left", valign="top")
    around = hug(block, pad_x, pad_y)
    badge = Box(A_MARGIN, around.y0, around.x1, around.y1)
    block = replace(block, container=badge)
    panels = [
        Panel(badge, _opaque(theme.panel), 8, _opaque(theme.panel_deep), "right", shadow=True),
        Panel(Box(A_MARGIN, badge.y0, A_MARGIN + stripe, badge.y1), _opaque(theme.accent)),
    ]
    return panels, block


def _a_caption(match: MatchText, theme: Theme, bar: Box) -> tuple[list[Panel], list[TextBlock]]:
    if not match.caption:
        return [], []
    pad_x, height = 16, 34
    slot = Box(A_MARGIN + 20 + pad_x, bar.y0 - height, A_MARGIN + 520, bar.y0)
    fitted = fit_text(_upper_words(match.caption), MONTSERRAT_EXTRABOLD, slot, 17, 12)
    block = place(fitted, slot, "caption", theme.on_accent, align="left")
    tab = Box(slot.x0 - pad_x, slot.y0, math.ceil(block.ink.x1 + pad_x), slot.y1)
    block = replace(block, container=tab)
    square_bottom = Box(tab.x0, tab.center_y, tab.x1, tab.y1)  # the tab stands on the bar
    return [
        Panel(tab, _opaque(theme.accent), 8),
        Panel(square_bottom, _opaque(theme.accent)),
    ], [block]


def _a_matchup(match: MatchText, theme: Theme) -> tuple[Box, list[Panel], list[TextBlock]]:
    cx = W // 2
    ring = A_DISC_RADIUS + A_DISC_RING
    gap, pad_x, pad_y = 22, 28, 12
    side_width = cx - ring - gap - (A_MARGIN + pad_x)
    fitted = _fit_teams(match, Box(0, 0, side_width, 2 * 66), 60, 40, max_lines=2)
    height = max(A_BAR_MIN_HEIGHT, *(math.ceil(f.height) + 2 * pad_y for f in fitted.values()))
    bar = Box(A_MARGIN, A_BAR_BOTTOM - height, W - A_MARGIN, A_BAR_BOTTOM)
    cy = round(bar.center_y)
    sides = {
        "team1": Box(bar.x0 + pad_x, bar.y0 + pad_y, cx - ring - gap, bar.y1 - pad_y),
        "team2": Box(cx + ring + gap, bar.y0 + pad_y, bar.x1 - pad_x, bar.y1 - pad_y),
    }
    texts = [place(fitted[role], sides[role], role, theme.text) for role in ("team1", "team2")]
    vs_box = Box(cx - 40, cy - 32, cx + 40, cy + 32)
    vs = fit_text(Words.of(["VS"]), ANTON, vs_box, 60, 30)
    texts.append(place(vs, vs_box, "vs", theme.on_accent))
    panels = [
        Panel(bar, _opaque(theme.panel), 18, _opaque(theme.panel_deep), shadow=True),
        Panel(
            Box(cx - ring, cy - ring, cx + ring, cy + ring),
            _opaque(theme.panel_deep),
            ring,
            shadow=True,
        ),
        Panel(
            Box(cx - A_DISC_RADIUS, cy - A_DISC_RADIUS, cx + A_DISC_RADIUS, cy + A_DISC_RADIUS),
            _opaque(theme.accent),
            A_DISC_RADIUS,
        ),
    ]
    return bar, panels, texts


def plan_template_a(match: MatchText, logo_size: LogoSize) -> Plan:
    theme = theme_for(match.tournament)
    logo = None
    if logo_size:
        logo = fit_logo(Box(W - A_MARGIN - 300, 30, W - A_MARGIN, 30 + 94), logo_size, "right")
    right_limit = logo.x0 - 28 if logo else W - A_MARGIN
    badge_panels, badge_text = _a_badge(match, theme, right_limit)
    bar, matchup_panels, matchup_texts = _a_matchup(match, theme)
    caption_panels, caption_texts = _a_caption(match, theme, bar)
    shades = [
        Panel(Box(0, 0, W, 190), (0, 0, 0, 120), 0, (0, 0, 0, 0)),
        Panel(Box(0, 380, W, H), (0, 0, 0, 0), 0, (0, 0, 0, 175)),
    ]
    return Plan(
        template="template_a",
        theme=theme,
        frame=A_PHOTO,
        vignette=0.45,
        panels=(*shades, *badge_panels, *matchup_panels, *caption_panels),
        texts=(badge_text, *caption_texts, *matchup_texts),
        logo=logo,
    )


# -------------------------------------------------------------------------------- template_b

B_SIDEBAR = round(W * 0.3)
B_PAD = 28
B_STRIPE = 8
B_PHOTO = Box(B_SIDEBAR, 0, W, H)
B_CLEAR = Box(B_SIDEBAR + B_STRIPE + 48, 0, W, H)  # right of the stripe and its shadow


def _b_header(match: MatchText, theme: Theme, logo: Box | None) -> tuple[list[Panel], TextBlock]:
    top = logo.y1 + 24 if logo else 48
    slot = Box(B_PAD, top, B_SIDEBAR - B_PAD, top + 92)
    fitted = fit_text(
        _upper_words(match.tournament), MONTSERRAT_EXTRABOLD, slot, 32, 21, max_lines=2, spacing=1.2
    )
    block = place(fitted, slot, "tournament", theme.text, valign="top")
    rule_y = math.ceil(block.ink.y1) + 16
    centre = B_SIDEBAR // 2
    return [
        Panel(Box(centre - 30, rule_y, centre + 30, rule_y + 5), _opaque(theme.accent), 2)
    ], block


def _b_teams(match: MatchText, theme: Theme, area: Box) -> tuple[list[Panel], list[TextBlock]]:
    pad_x, pad_y, vs_height, gap = 28, 16, 84, 2
    inner = Box(0, 0, area.width - 2 * pad_x, (area.height - vs_height - 2 * gap) / 2 - 2 * pad_y)
    fitted = _fit_teams(match, inner, 60, 34, max_lines=4)
    pill_height = max(92, *(math.ceil(f.height) + 2 * pad_y for f in fitted.values()))
    top = round(area.center_y - (2 * pill_height + 2 * gap + vs_height) / 2)
    pill1 = Box(area.x0, top, area.x1, top + pill_height)
    vs_box = Box(area.x0, pill1.y1 + gap, area.x1, pill1.y1 + gap + vs_height)
    pill2 = Box(area.x0, vs_box.y1 + gap, area.x1, vs_box.y1 + gap + pill_height)
    radius = min(pill_height / 2, 34)
    panels = [Panel(pill, _opaque(theme.pill), radius, shadow=True) for pill in (pill1, pill2)]
    texts = [
        place(fitted[role], pill.inset(pad_x, pad_y), role, theme.on_pill)
        for role, pill in (("team1", pill1), ("team2", pill2))
    ]
    vs = fit_text(Words.of(["VS"]), ANTON, vs_box.inset(0, 6), 84, 40)
    texts.append(place(vs, vs_box.inset(0, 6), "vs", theme.accent))
    return panels, texts


def plan_template_b(match: MatchText, logo_size: LogoSize) -> Plan:
    theme = theme_for(match.tournament)
    sidebar = Box(0, 0, B_SIDEBAR, H)
    logo = None
    if logo_size:
        logo = fit_logo(Box(B_PAD, 32, B_SIDEBAR - B_PAD, 32 + 104), logo_size, "center")
    header_panels, tournament = _b_header(match, theme, logo)
    texts = [tournament]
    footer_top = H - 40
    if match.caption:
        slot = Box(B_PAD, H - 62, B_SIDEBAR - B_PAD, H - 30)
        caption = fit_text(_upper_words(match.caption), MONTSERRAT_BOLD, slot, 17, 12)
        texts.append(place(caption, slot, "caption", theme.muted))
        footer_top = slot.y0 - 14
    area = Box(B_PAD, header_panels[0].box.y1 + 22, B_SIDEBAR - B_PAD, footer_top)
    team_panels, team_texts = _b_teams(match, theme, area)
    panels = (
        Panel(sidebar, _opaque(theme.panel), 0, _opaque(theme.panel_deep)),
        Panel(Box(B_SIDEBAR, 0, B_SIDEBAR + B_STRIPE, H), _opaque(theme.accent)),
        Panel(
            Box(B_SIDEBAR + B_STRIPE, 0, B_SIDEBAR + B_STRIPE + 48, H),
            (0, 0, 0, 90),
            0,
            (0, 0, 0, 0),
            "right",
        ),
        *header_panels,
        *team_panels,
    )
    return Plan(
        template="template_b",
        theme=theme,
        frame=B_PHOTO,
        vignette=0.3,
        panels=panels,
        texts=(*texts, *team_texts),
        logo=logo,
    )


# --------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Template:
    name: str
    summary: str
    plan: Callable[[MatchText, LogoSize], Plan]
    photo: Box  # where the frame is shown, on the canvas
    clear: Box  # the part of `photo` no bar, badge or logo covers

    @property
    def photo_size(self) -> tuple[float, float]:
        return self.photo.width, self.photo.height

    @property
    def clear_fractions(self) -> BoxTuple:
        photo = self.photo
        return (
            (self.clear.x0 - photo.x0) / photo.width,
            (self.clear.y0 - photo.y0) / photo.height,
            (self.clear.x1 - photo.x0) / photo.width,
            (self.clear.y1 - photo.y0) / photo.height,
        )

    def crop(self, players: Sequence[BoxTuple], frame_size: tuple[int, int]) -> BoxTuple:
        """The part of a frame of `frame_size` this template shows, framed on `players`."""
        return frame_crop(players, frame_size, self.photo_size, self.clear_fractions)


TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template(
            "template_a",
            "full-bleed frame, tournament badge, logo, lower-third matchup bar",
            plan_template_a,
            A_PHOTO,
            A_CLEAR,
        ),
        Template(
            "template_b",
            "theme-colour sidebar with logo, tournament and team pills; frame on the right",
            plan_template_b,
            B_PHOTO,
            B_CLEAR,
        ),
    )
}


def available_templates() -> tuple[str, ...]:
    return tuple(sorted(TEMPLATES))


def crops_for(players: Sequence[BoxTuple], frame_size: tuple[int, int]) -> dict[str, BoxTuple]:
    """Every template's crop of a frame of `frame_size` (pixels) with these players."""
    return {name: TEMPLATES[name].crop(players, frame_size) for name in available_templates()}


def template_named(name: str, subject: str) -> Template:
    """The template called `name`; `subject` (the video, or the setting) starts the error."""
    try:
        return TEMPLATES[name.strip()]
    except KeyError:
        raise UnknownTemplateError(
            f"{subject}: unknown thumbnail template {name!r}; use one of "
            f"{', '.join(available_templates())} (THUMBNAIL_TEMPLATE or --template)",
            Remedy.PREVIEW_TEMPLATES,
        ) from None
