"""Pure layout: boxes, themes, the match's words, and fitting text into a box.

Nothing here draws. A template turns a match into a `Plan` (the panels, every text line with the
box its ink covers, the logo's box) and the renderer draws exactly that plan, so tests can check
the geometry of any names without looking at pixels.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo
from functools import lru_cache
from typing import Literal

from prepare.file_names import DEFAULT_TOURNAMENT
from prepare.match_text import recording_date
from thumbnail_enhancement.fonts import TEXT_LOCK, Face, face_for, font, missing_glyphs

CANVAS_WIDTH, CANVAS_HEIGHT = 1280, 720

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]
Align = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "bottom"]

_REFERENCE_SIZE = 100
_ELLIPSIS = "…"


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center_x(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def center_y(self) -> float:
        return (self.y0 + self.y1) / 2

    def contains(self, other: Box) -> bool:
        return (
            self.x0 <= other.x0
            and self.y0 <= other.y0
            and other.x1 <= self.x1
            and other.y1 <= self.y1
        )

    def inset(self, dx: float, dy: float | None = None) -> Box:
        dy = dx if dy is None else dy
        return Box(self.x0 + dx, self.y0 + dy, self.x1 - dx, self.y1 - dy)

    def union(self, other: Box) -> Box:
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)


CANVAS = Box(0, 0, CANVAS_WIDTH, CANVAS_HEIGHT)


# ------------------------------------------------------------------------------------ themes


@dataclass(frozen=True)
class Theme:
    name: str
    panel: RGB  # sidebar, bars and badges
    panel_deep: RGB  # the far end of the panels' gradient
    text: RGB  # text on a panel
    muted: RGB  # secondary text on a panel
    accent: RGB  # "VS", rules, tabs
    on_accent: RGB
    pill: RGB  # the team pills
    on_pill: RGB


_NAVY = (12, 26, 64)
_GOLD = (255, 196, 37)
BLUE = Theme(
    name="blue",
    panel=(22, 92, 236),
    panel_deep=(10, 40, 122),
    text=(255, 255, 255),
    muted=(205, 222, 255),
    accent=_GOLD,
    on_accent=_NAVY,
    pill=(255, 255, 255),
    on_pill=_NAVY,
)
WHITE = Theme(
    name="white",
    panel=(255, 255, 255),
    panel_deep=(226, 232, 242),
    text=(15, 23, 42),
    muted=(71, 85, 105),
    accent=(228, 50, 62),
    on_accent=(255, 255, 255),
    pill=(15, 23, 42),
    on_pill=(255, 255, 255),
)
PURPLE = Theme(
    name="purple",
    panel=(118, 52, 232),
    panel_deep=(52, 16, 120),
    text=(255, 255, 255),
    muted=(226, 214, 255),
    accent=_GOLD,
    on_accent=(40, 12, 92),
    pill=(255, 255, 255),
    on_pill=(52, 16, 120),
)


def theme_for(tournament: str) -> Theme:
    """Cafe Game blue, Friendly Game white, tournaments ("Tour ...") purple, anything else blue."""
    name = " ".join(tournament.split()).casefold()
    if name == "friendly game":
        return WHITE
    if name.startswith("tour"):
        return PURPLE
    return BLUE


# ------------------------------------------------------------------------------ match words


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass(frozen=True)
class MatchText:
    """The words a thumbnail shows, as written in the metadata."""

    team1: tuple[str, ...]
    team2: tuple[str, ...]
    tournament: str
    match_type: str  # e.g. "Men's Doubles"
    date: str  # e.g. "25 Dec 2024", or empty

    @classmethod
    def create(
        cls,
        team1: Sequence[str],
        team2: Sequence[str],
        tournament: str,
        match_type: str = "",
        recorded_at: str = "",
        zone: tzinfo = UTC,
    ) -> MatchText:
        """`recorded_at` (ISO) is shown as its day in `zone`, the café's time zone."""
        return cls(
            team1=tuple(n for n in map(_clean, team1) if n) or ("?",),
            team2=tuple(n for n in map(_clean, team2) if n) or ("?",),
            tournament=_clean(tournament) or DEFAULT_TOURNAMENT,
            match_type=_clean(match_type),
            date=_date_text(recorded_at, zone),
        )

    @property
    def caption(self) -> str:
        """`MEN'S DOUBLES · 25 DEC 2024`"""
        return " · ".join(part for part in (self.match_type, self.date) if part).upper()


def _date_text(recorded_at: str, zone: tzinfo) -> str:
    """The day the video's title gives (the café's calendar day, not UTC's), or empty."""
    try:
        return recording_date(recorded_at, zone)
    except ValueError:
        return ""


# --------------------------------------------------------------------------------- text plan


@dataclass(frozen=True)
class TextLine:
    text: str
    origin: tuple[float, float]  # left end of the baseline
    ink: Box  # what the glyphs cover, from the font's bounding boxes


@dataclass(frozen=True)
class TextBlock:
    role: str
    face: Face
    size: int
    colour: RGB
    lines: tuple[TextLine, ...]
    container: Box  # the panel or box the text must stay inside
    missing: tuple[str, ...] = ()  # runs of characters left out: no face can draw them

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def ink(self) -> Box:
        box = self.lines[0].ink
        for line in self.lines[1:]:
            box = box.union(line.ink)
        return box


@dataclass(frozen=True)
class Words:
    """Text to fit: names (kept whole on a line when possible), each a run of words."""

    names: tuple[tuple[str, ...], ...]
    separator: str

    @classmethod
    def of(cls, names: Sequence[str], separator: str = " / ") -> Words:
        return cls(tuple(tuple(name.split()) for name in names if name.split()), separator)

    @property
    def text(self) -> str:
        return self.separator.join(" ".join(name) for name in self.names)

    def without(self, characters: frozenset[str]) -> Words:
        """These words with `characters` left out; a word or name left empty goes too."""
        names = tuple(
            name for name in (_words_without(name, characters) for name in self.names) if name
        )
        return Words(names or (("?",),), self.separator)


def _words_without(words: tuple[str, ...], characters: frozenset[str]) -> tuple[str, ...]:
    kept = ("".join(c for c in word if c not in characters) for word in words)
    return tuple(word for word in kept if word)


@lru_cache(maxsize=8192)
def _line_box(face: Face, size: int, text: str) -> tuple[float, float, float, float]:
    """Ink box of `text` relative to the left end of its baseline."""
    with TEXT_LOCK:
        return font(face, size).getbbox(text, anchor="ls")


@lru_cache(maxsize=256)
def _cap_top(face: Face, size: int) -> float:
    return _line_box(face, size, "H")[1]


@dataclass(frozen=True)
class Fitted:
    """Lines of text at a size, measured; placed into a box by `place`."""

    face: Face
    size: int
    lines: tuple[str, ...]
    leading: int  # baseline to baseline
    missing: tuple[str, ...] = ()  # runs of characters left out: no face can draw them

    @classmethod
    def at(cls, face: Face, size: int, lines: tuple[str, ...], spacing: float) -> Fitted:
        """Lines `spacing` x size apart, or further where accents would touch the line above."""
        leading = round(size * spacing)
        gap = max(2, round(size * 0.08))
        for upper, lower in itertools.pairwise(lines):
            below_upper = _line_box(face, size, upper)[3]
            above_lower = _line_box(face, size, lower)[1]
            leading = max(leading, math.ceil(below_upper - above_lower + gap))
        return cls(face, size, lines, leading)

    def boxes(self) -> list[Box]:
        """Each line's ink box, relative to the first line's baseline origin."""
        return [
            Box(*_line_box(self.face, self.size, line)).shifted(0, index * self.leading)
            for index, line in enumerate(self.lines)
        ]

    @property
    def width(self) -> float:
        return max(box.width for box in self.boxes())

    @property
    def height(self) -> float:
        return self.ink.height

    @property
    def ink(self) -> Box:
        boxes = self.boxes()
        return Box(
            min(b.x0 for b in boxes),
            min(b.y0 for b in boxes),
            max(b.x1 for b in boxes),
            max(b.y1 for b in boxes),
        )

    @property
    def cap_box(self) -> Box:
        """From the cap height of the first line to the last baseline: the optical block."""
        return Box(0, _cap_top(self.face, self.size), 0, (len(self.lines) - 1) * self.leading)

    def fits(self, width: float, height: float) -> bool:
        return self.width <= width and self.height <= height


@dataclass(frozen=True)
class Split:
    """One way to set a text's names on lines."""

    lines: tuple[str, ...]
    broken_names: int  # names set on more than one line


def _splits(words: Words, count: int) -> list[Split]:
    """Every way to set `words` on `count` lines: breaks between names when there are enough
    names, otherwise every name on its own line(s) with extra breaks between its words."""
    flat = [(index, word) for index, name in enumerate(words.names) for word in name]
    between = [i for i in range(1, len(flat)) if flat[i][0] != flat[i - 1][0]]
    if count <= len(words.names):
        return [
            Split(_set_lines(words.separator, flat, cuts), 0)
            for cuts in itertools.combinations(between, count - 1)
        ]
    inside = [i for i in range(1, len(flat)) if flat[i][0] == flat[i - 1][0]]
    return [
        Split(
            _set_lines(words.separator, flat, tuple(sorted((*between, *extra)))),
            len({flat[i][0] for i in extra}),
        )
        for extra in itertools.combinations(inside, count - len(words.names))
    ]


def _set_lines(
    separator: str, flat: list[tuple[int, str]], cuts: tuple[int, ...]
) -> tuple[str, ...]:
    """The words (each with its name's index) broken before each of `cuts`. A line ending where
    the next name starts ends with the separator ("HUY /"): the reader sees where names end."""
    lines = []
    for start, end in itertools.pairwise((0, *cuts, len(flat))):
        line = flat[start][1]
        for (before, _), (name, word) in itertools.pairwise(flat[start:end]):
            line += (separator if name != before else " ") + word
        if end < len(flat) and flat[end][0] != flat[end - 1][0]:
            line += separator.rstrip()
        lines.append(line)
    return tuple(lines)


def _balance(face: Face, split: Split) -> tuple[float, int, list[float]]:
    """Sort key of the best split first: the narrowest widest line (the largest text); then
    the fewest names broken, so a name is broken only when it is too wide for a line itself;
    then the most even lines."""
    widths = sorted(
        (Box(*_line_box(face, _REFERENCE_SIZE, line)).width for line in split.lines), reverse=True
    )
    return widths[0], split.broken_names, widths


def _largest_size(
    face: Face, lines: tuple[str, ...], box: Box, max_size: int, floor: int, spacing: float
) -> Fitted | None:
    reference = Fitted.at(face, _REFERENCE_SIZE, lines, spacing)
    estimate = min(
        max_size,
        int(_REFERENCE_SIZE * box.width / max(reference.width, 1)) + 1,
        int(_REFERENCE_SIZE * box.height / max(reference.height, 1)) + 1,
    )
    for size in range(estimate, floor - 1, -1):
        fitted = Fitted.at(face, size, lines, spacing)
        if fitted.fits(box.width, box.height):
            return fitted
    return None


def _ellipsized(face: Face, size: int, lines: tuple[str, ...], width: float) -> tuple[str, ...]:
    shortened = []
    for line in lines:
        while len(line) > 1 and Box(*_line_box(face, size, line)).width > width:
            line = line[:-2].rstrip() + _ELLIPSIS
        shortened.append(line)
    return tuple(shortened)


def fit_text(
    words: Words,
    preferred: Face,
    box: Box,
    max_size: int,
    min_size: int,
    max_lines: int = 1,
    spacing: float = 1.1,
    floor: int = 10,
) -> Fitted:
    """Shrink, then wrap: the fewest lines (up to `max_lines`) on which the text fits `box` at
    `min_size` or more, as large as it fits. Text too long even so gets smaller still, down to
    `floor`, and past that is cut with an ellipsis; it never leaves the box. Characters no face
    can draw are left out (listed in the result's `missing`) rather than drawn as boxes."""
    face = face_for(words.text, preferred)
    missing = missing_glyphs(face, words.text)
    fitted = _fit(words.without(missing), face, box, max_size, min_size, max_lines, spacing, floor)
    runs = itertools.groupby(words.text, key=lambda c: c in missing)
    return replace(fitted, missing=tuple("".join(run) for left_out, run in runs if left_out))


def _fit(
    words: Words,
    face: Face,
    box: Box,
    max_size: int,
    min_size: int,
    max_lines: int,
    spacing: float,
    floor: int,
) -> Fitted:
    best: Fitted | None = None
    for count in range(1, max_lines + 1):
        candidates = _splits(words, count)
        if not candidates:
            continue
        balanced = min(candidates, key=lambda split: _balance(face, split))
        fitted = _largest_size(face, balanced.lines, box, max_size, floor, spacing)
        if fitted is None:
            continue
        if fitted.size >= min_size:
            return fitted
        if best is None or fitted.size > best.size:
            best = fitted
    # Only a word too wide for the box even at `min_size` (a long name without spaces) is
    # broken between its letters
    unbreakable = any(
        Box(*_line_box(face, min_size, word)).width > box.width
        for name in words.names
        for word in name
    )
    for count in range(2, max_lines + 1 if unbreakable else 2):
        fitted = _largest_size(face, _chunks(words.text, count), box, max_size, floor, spacing)
        if fitted is not None and (best is None or fitted.size > best.size):
            best = fitted
    if best is not None:
        return best
    return _cut_to_fit(words, face, box, max_lines, spacing, floor)


def _chunks(text: str, count: int) -> tuple[str, ...]:
    """`text` cut into `count` pieces of nearly equal length."""
    size = math.ceil(len(text) / count)
    pieces = (text[start : start + size].strip() for start in range(0, len(text), size))
    return tuple(piece for piece in pieces if piece)


def _cut_to_fit(
    words: Words, face: Face, box: Box, max_lines: int, spacing: float, floor: int
) -> Fitted:
    splits = [s.lines for count in range(max_lines, 0, -1) for s in _splits(words, count)[:1]]
    for size in range(floor, 0, -1):
        for lines in splits:
            cut = _ellipsized(face, size, lines, box.width)
            fitted = Fitted.at(face, size, cut, spacing)
            if fitted.fits(box.width, box.height):
                return fitted
    return Fitted.at(face, 1, (_ELLIPSIS,), spacing)


def place(
    fitted: Fitted,
    box: Box,
    role: str,
    colour: RGB,
    align: Align = "center",
    valign: VAlign = "middle",
) -> TextBlock:
    """Set fitted text in `box`: lines aligned by their ink, the block's cap height to baseline
    span positioned by `valign`, then nudged so accents above capitals stay inside the box."""
    ink, cap = fitted.ink, fitted.cap_box
    if valign == "top":
        baseline = box.y0 - cap.y0
    elif valign == "bottom":
        baseline = box.y1 - cap.y1
    else:
        baseline = box.center_y - (cap.y0 + cap.y1) / 2
    baseline = _clamp(round(baseline), box.y0 - ink.y0, box.y1 - ink.y1)
    lines = []
    for index, (text, rel) in enumerate(zip(fitted.lines, fitted.boxes(), strict=True)):
        if align == "left":
            x = box.x0 - rel.x0
        elif align == "right":
            x = box.x1 - rel.x1
        else:
            x = box.center_x - (rel.x0 + rel.x1) / 2
        x = _clamp(round(x), box.x0 - rel.x0, box.x1 - rel.x1)
        origin = (x, baseline + index * fitted.leading)
        lines.append(TextLine(text, origin, rel.shifted(x, baseline)))
    return TextBlock(role, fitted.face, fitted.size, colour, tuple(lines), box, fitted.missing)


def _clamp(value: int, low: float, high: float) -> int:
    """`value` moved into [low, high] in whole pixels (so drawn glyphs land where measured)."""
    if value < low:
        value = math.ceil(low)
    if value > high:
        value = math.floor(high)
    return value


def hug(block: TextBlock, pad_x: float, pad_y: float) -> Box:
    """A panel around the block: padded around its cap-height span, and around any accents."""
    ink = block.ink
    first, last = block.lines[0], block.lines[-1]
    cap_top = first.origin[1] + _cap_top(block.face, block.size)
    return Box(
        math.floor(ink.x0 - pad_x),
        math.floor(min(cap_top - pad_y, ink.y0 - pad_y / 2)),
        math.ceil(ink.x1 + pad_x),
        math.ceil(max(last.origin[1] + pad_y, ink.y1 + pad_y / 2)),
    )


# --------------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Panel:
    box: Box
    fill: RGBA
    radius: float = 0.0
    fill_to: RGBA | None = None  # the gradient's far colour
    direction: Literal["down", "right"] = "down"
    shadow: bool = False  # a soft drop shadow lifts the panel off the picture


@dataclass(frozen=True)
class Plan:
    template: str
    theme: Theme
    frame: Box  # where the chosen frame is shown (cropped to this box's shape, never stretched)
    vignette: float  # 0 = none; how much the frame's corners darken
    panels: tuple[Panel, ...]
    texts: tuple[TextBlock, ...]
    logo: Box | None

    def text(self, role: str) -> TextBlock:
        return next(block for block in self.texts if block.role == role)

    @property
    def missing(self) -> tuple[str, ...]:
        """The runs of characters left out of the texts because no face can draw them."""
        return tuple(dict.fromkeys(run for block in self.texts for run in block.missing))


def fit_logo(slot: Box, logo_size: tuple[int, int], align: Align) -> Box:
    """The largest box of the logo's shape in `slot`, aligned horizontally, centred vertically."""
    width, height = logo_size
    scale = min(slot.width / width, slot.height / height)
    w, h = round(width * scale), round(height * scale)
    if align == "left":
        x = slot.x0
    elif align == "right":
        x = slot.x1 - w
    else:
        x = round(slot.center_x - w / 2)
    y = round(slot.center_y - h / 2)
    return Box(x, y, x + w, y + h)
