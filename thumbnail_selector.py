"""The operator's thumbnail chooser: one OpenCV window with a video's ranked candidates.

`choose()` shows up to nine candidates in a grid beside a large preview of the focused one and
returns the chosen candidate's id, or None when the operator cancels. `pick_by_rank()` is the
headless `--pick N`. `record_selection()` writes a choice into the video's workspace
(`selected.jpg` + `selection.json`); the batch CLI and the Temporal select activity both call it.

The window is built from pure parts that are tested without a display: `layout()` computes every
rectangle, `render()` draws a frame from a layout, and `handle_key()` / `handle_mouse()` turn
input into the next `ChooserState`.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from errors import PipelineError, Step
from workspace import (
    SELECTED_IMAGE,
    SELECTION_FILE,
    atomic_write_bytes,
    atomic_write_json,
    read_json,
    workspace_dir,
)

log = logging.getLogger(__name__)

MAX_CANDIDATES = 9
ASPECT = 9 / 16  # height / width of a tile and of the preview (video frames are 16:9)
DEFAULT_SCREEN = (1280, 720)  # assumed when the platform cannot tell the screen's size
# Qt finds windows by this name; a non-ASCII name breaks that look-up, so the video's title is
# shown through setWindowTitle instead.
WINDOW_NAME = "thumbnail-chooser"
POLL_MS = 30

# Key codes from cv2.waitKeyEx: Qt and GTK on X11, Windows, Qt on macOS.
KEYS_LEFT = frozenset({65361, 2424832, 63234, ord("h")})
KEYS_UP = frozenset({65362, 2490368, 63232, ord("k")})
KEYS_RIGHT = frozenset({65363, 2555904, 63235, ord("l")})
KEYS_DOWN = frozenset({65364, 2621440, 63233, ord("j")})
KEYS_CHOOSE_FOCUSED = frozenset({13, 10, 32, 65421})
KEYS_ACCEPT_TOP = frozenset({ord("a")})
KEYS_CANCEL = frozenset({27, ord("q")})

# Colours are BGR: the canvas is an OpenCV image, and Pillow draws the same tuples into it.
BACKGROUND = (30, 26, 23)
PANEL = (48, 43, 40)
BORDER = (78, 72, 68)
TEXT = (245, 245, 245)
MUTED = (170, 163, 158)
ACCENT = (0, 190, 255)
ON_ACCENT = (20, 20, 20)
BADGE = (25, 22, 20)

NO_DISPLAY_HELP = (
    "run it from a desktop session, or choose without a window with --pick N (1 = top-ranked)"
)


class NoDisplayError(PipelineError):
    """There is no display to open the chooser window on."""


class RankOutOfRangeError(PipelineError):
    """`--pick N` names a rank that no candidate has."""


class UnknownCandidateError(PipelineError):
    """A chosen candidate id is not one of the video's candidates."""


class CandidateImageError(PipelineError):
    """A candidate's JPEG is missing or unreadable."""


class SelectionFileError(PipelineError):
    """selection.json exists but cannot be read."""


class RankedCandidate(Protocol):
    """What thumbnail_ranking.Candidate carries (typed here so this module need not import it)."""

    id: str
    rank: int
    score: float
    timestamp: float
    file: str


class HasRank(Protocol):
    id: str
    rank: int


@dataclass(frozen=True, eq=False)
class SelectableCandidate:
    id: str
    rank: int
    score: float
    timestamp: float
    image: Path | np.ndarray  # a JPEG's path, or an already decoded BGR image

    @classmethod
    def from_ranked(cls, candidate: RankedCandidate) -> SelectableCandidate:
        return cls(
            candidate.id, candidate.rank, candidate.score, candidate.timestamp, Path(candidate.file)
        )


@dataclass
class Selection:
    candidate_id: str
    rank: int
    timestamp: float
    selected_at: str  # ISO 8601, UTC


# ----------------------------------------------------------------------------- layout (pure)


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.right and self.y <= y < self.bottom


@dataclass(frozen=True)
class Layout:
    canvas_size: tuple[int, int]  # (width, height)
    scale: float  # 1.0 for a 1280-pixel-wide canvas; text sizes follow it
    columns: int
    header: Rect
    preview: Rect
    caption: Rect  # under the preview: the focused candidate's details
    tiles: tuple[Rect, ...]  # one thumbnail per candidate, best first
    labels: tuple[Rect, ...]  # the band under each tile: score and timestamp
    help_line: Rect

    def tile_at(self, x: int, y: int) -> int | None:
        for index, (tile, label) in enumerate(zip(self.tiles, self.labels, strict=True)):
            if tile.contains(x, y) or label.contains(x, y):
                return index
        return None


@dataclass(frozen=True)
class _Spacing:
    margin: int
    gap: int  # between tiles
    gutter: int  # between the preview and the grid
    padding: int  # above and below the preview and the grid
    header: int
    help: int
    label: int
    caption: int


def _spacing(scale: float) -> _Spacing:
    return _Spacing(
        margin=round(18 * scale),
        gap=round(10 * scale),
        gutter=round(24 * scale),
        padding=round(12 * scale),
        header=round(48 * scale),
        help=round(40 * scale),
        label=round(26 * scale),
        caption=round(50 * scale),
    )


def grid_shape(count: int) -> tuple[int, int]:
    """(columns, rows) of the grid: as many rows as columns or one more, so tiles stay large."""
    columns = 1 if count <= 2 else 2 if count <= 6 else 3
    return columns, math.ceil(count / columns)


def _column_widths(count: int, width: float, space: _Spacing) -> tuple[float, float]:
    """Preview and tile widths filling `width`, with the preview and the grid equally tall."""
    columns, rows = grid_shape(count)
    # preview_height + caption == rows * (tile_height + label) + (rows - 1) * gap, solved for
    # preview_width = rows * tile_width + extra
    extra = (rows * space.label + (rows - 1) * space.gap - space.caption) / ASPECT
    fixed = space.gutter + (columns - 1) * space.gap
    tile = (width - fixed - extra) / (rows + columns)
    preview = rows * tile + extra
    half = (width - space.gutter) / 2
    if preview < half:  # few candidates: the preview stays the largest picture
        preview = half
        tile = (width - fixed - preview) / columns
    return preview, tile


def _grid_height(count: int, tile_width: float, space: _Spacing) -> float:
    _, rows = grid_shape(count)
    return rows * (tile_width * ASPECT + space.label) + (rows - 1) * space.gap


def layout(count: int, canvas_size: tuple[int, int]) -> Layout:
    """Where everything goes on a canvas of `canvas_size` (width, height) for `count` candidates."""
    if not 1 <= count <= MAX_CANDIDATES:
        raise ValueError(f"the chooser shows 1 to {MAX_CANDIDATES} candidates, not {count}")
    width, height = canvas_size
    scale = min(width / 1280, height / 450)
    space = _spacing(scale)
    columns, rows = grid_shape(count)
    area = Rect(
        space.margin,
        space.header + space.padding,
        width - 2 * space.margin,
        height - space.header - space.help - 2 * space.padding,
    )
    preview_w, tile_w = _column_widths(count, area.width, space)
    # a canvas flatter than the layout likes: shrink both columns to its height
    preview_w = min(preview_w, (area.height - space.caption) / ASPECT)
    tile_w = min(tile_w, ((area.height - (rows - 1) * space.gap) / rows - space.label) / ASPECT)
    preview_w, tile_w = math.floor(preview_w), math.floor(tile_w)
    preview_h, tile_h = round(preview_w * ASPECT), round(tile_w * ASPECT)

    content_w = preview_w + space.gutter + columns * tile_w + (columns - 1) * space.gap
    preview_block = preview_h + space.caption
    grid_block = rows * (tile_h + space.label) + (rows - 1) * space.gap
    content_h = max(preview_block, grid_block)
    left = area.x + (area.width - content_w) // 2
    top = area.y + (area.height - content_h) // 2

    preview_top = top + (content_h - preview_block) // 2
    preview = Rect(left, preview_top, preview_w, preview_h)
    caption = Rect(left, preview.bottom, preview_w, space.caption)
    grid_left = preview.right + space.gutter
    grid_top = top + (content_h - grid_block) // 2
    tiles, labels = [], []
    for index in range(count):
        row, column = divmod(index, columns)
        x = grid_left + column * (tile_w + space.gap)
        y = grid_top + row * (tile_h + space.label + space.gap)
        tiles.append(Rect(x, y, tile_w, tile_h))
        labels.append(Rect(x, y + tile_h, tile_w, space.label))
    return Layout(
        canvas_size=(width, height),
        scale=scale,
        columns=columns,
        header=Rect(0, 0, width, space.header),
        preview=preview,
        caption=caption,
        tiles=tuple(tiles),
        labels=tuple(labels),
        help_line=Rect(0, height - space.help, width, space.help),
    )


def natural_height(count: int, width: int) -> int:
    """The canvas height at which the layout for `width` leaves no empty band."""
    scale = width / 1280
    space = _spacing(scale)
    preview_w, tile_w = _column_widths(count, width - 2 * space.margin, space)
    content = max(preview_w * ASPECT + space.caption, _grid_height(count, tile_w, space))
    return math.ceil(space.header + 2 * space.padding + content + space.help)


def canvas_size(screen: tuple[int, int] | None, count: int) -> tuple[int, int]:
    """The window's size: most of the screen's width, as tall as the layout needs, and always
    inside the screen with room for a title bar and a panel (1280x720 screens included)."""
    screen_w, screen_h = screen or DEFAULT_SCREEN
    # a row of monitors reports one very wide screen: size the window for one 16:9 monitor
    width = min(screen_w, screen_h * 16 / 9) * 0.92
    height_limit = screen_h * 0.85
    height = natural_height(count, round(width))
    if height > height_limit:
        width *= height_limit / height
        height = natural_height(count, round(width))
    return round(width), min(height, math.floor(height_limit))


# ----------------------------------------------------------------------- input handling (pure)


@dataclass(frozen=True)
class ChooserState:
    ranks: tuple[int, ...]  # the rank of each tile, in display order (best first)
    columns: int
    focus: int = 0  # index of the highlighted tile
    chosen: int | None = None  # index of the chosen tile
    cancelled: bool = False

    @property
    def finished(self) -> bool:
        return self.cancelled or self.chosen is not None


def _move(state: ChooserState, key: int) -> int:
    last = len(state.ranks) - 1
    focus = state.focus
    if key in KEYS_LEFT:
        return max(focus - 1, 0)
    if key in KEYS_RIGHT:
        return min(focus + 1, last)
    if key in KEYS_UP:
        return focus - state.columns if focus >= state.columns else focus
    # down: into the next row, or to the last tile when the next row is shorter
    below = focus + state.columns
    next_row_exists = focus // state.columns < last // state.columns
    return min(below, last) if next_row_exists else focus


def handle_key(state: ChooserState, key: int) -> ChooserState:
    """The state after a cv2.waitKeyEx code; unknown keys change nothing."""
    if state.finished or key < 0:
        return state
    if key < 128:
        key = ord(chr(key).lower())
    if ord("1") <= key <= ord("9"):
        rank = key - ord("0")
        if rank in state.ranks:
            index = state.ranks.index(rank)
            return replace(state, focus=index, chosen=index)
        return state
    if key in KEYS_LEFT | KEYS_RIGHT | KEYS_UP | KEYS_DOWN:
        return replace(state, focus=_move(state, key))
    if key in KEYS_CHOOSE_FOCUSED:
        return replace(state, chosen=state.focus)
    if key in KEYS_ACCEPT_TOP:
        best = state.ranks.index(min(state.ranks))
        return replace(state, focus=best, chosen=best)
    if key in KEYS_CANCEL:
        return replace(state, cancelled=True)
    return state


def handle_mouse(state: ChooserState, where: Layout, event: int, x: int, y: int) -> ChooserState:
    """A click focuses the tile under the pointer; a double-click chooses it (or, on the
    preview, chooses the focused tile)."""
    if state.finished:
        return state
    tile = where.tile_at(x, y)
    if event == cv2.EVENT_LBUTTONDOWN and tile is not None:
        return replace(state, focus=tile)
    if event == cv2.EVENT_LBUTTONDBLCLK:
        if tile is not None:
            return replace(state, focus=tile, chosen=tile)
        if where.preview.contains(x, y):
            return replace(state, chosen=state.focus)
    return state


# ----------------------------------------------------------------------------------- drawing


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


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
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


def _paste(canvas: np.ndarray, image: np.ndarray, where: Rect) -> None:
    canvas[where.y : where.bottom, where.x : where.right] = _fit(image, where.width, where.height)


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
        if index not in self._previews:
            where = self.layout.preview
            self._previews[index] = _fit(self.images[index], where.width, where.height)
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


# ------------------------------------------------------------------------------ loading images

_REDUCED_READ = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def _unreadable(path: Path) -> CandidateImageError:
    return CandidateImageError(
        f"{path}: candidate image is missing or unreadable; the candidates must be made again",
        Step.RANK,
    )


def _decode(image: Path | np.ndarray, wanted_width: int) -> np.ndarray:
    """A BGR image at least `wanted_width` wide when the source is; JPEGs are decoded at a
    reduced size (much faster for 1080p and larger frames)."""
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image
    path = Path(image)
    try:
        with Image.open(path) as probe:
            full_width = probe.width
    except OSError:
        raise _unreadable(path) from None
    factor = max(f for f in _REDUCED_READ if f == 1 or full_width / f >= wanted_width)
    decoded = cv2.imread(str(path), _REDUCED_READ[factor])
    if decoded is None:
        raise _unreadable(path)
    return decoded


def load_images(candidates: Sequence[SelectableCandidate], wanted_width: int) -> list[np.ndarray]:
    workers = min(len(candidates), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # cv2 decodes without the GIL
        return list(pool.map(lambda c: _decode(c.image, wanted_width), candidates))


# ------------------------------------------------------------------------------------ window


def require_display() -> tuple[int, int] | None:
    """Check that a window can open; returns the screen size when the platform tells it.

    Checked before any OpenCV window call, because Qt aborts the whole process when it cannot
    connect to a display.
    """
    if not sys.platform.startswith("linux"):
        return None
    display = os.environ.get("DISPLAY", "")
    if not display:
        # this OpenCV build draws through X11 only: a Wayland session provides it via XWayland
        raise NoDisplayError(
            f"No display for the thumbnail chooser (DISPLAY is not set): {NO_DISPLAY_HELP}."
        )
    try:
        xlib = ctypes.CDLL("libX11.so.6")
    except OSError:
        return None  # cannot ask; Qt will try the display itself
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for name in ("XDefaultScreen", "XCloseDisplay"):
        getattr(xlib, name).argtypes = [ctypes.c_void_p]
    for name in ("XDisplayWidth", "XDisplayHeight"):
        getattr(xlib, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
    handle = xlib.XOpenDisplay(None)
    if not handle:
        raise NoDisplayError(
            f"No display for the thumbnail chooser (cannot connect to DISPLAY={display}): "
            f"{NO_DISPLAY_HELP}."
        )
    try:
        screen = xlib.XDefaultScreen(handle)
        return xlib.XDisplayWidth(handle, screen), xlib.XDisplayHeight(handle, screen)
    finally:
        xlib.XCloseDisplay(handle)


def _check_opencv_libraries() -> None:
    """Refuse to open a window that would never appear.

    The Linux wheels of OpenCV and PyAV bundle the same xcb extension libraries under the same
    file names, and the dynamic loader gives both packages the copies of whichever was imported
    first. PyAV's copies talk to PyAV's own libxcb, so Qt then hangs for good creating its
    first window: a process that opens the chooser must import cv2 (this module) before av.
    """
    own = Path(cv2.__file__).resolve().parent.parent / "opencv_python.libs"
    try:
        names = {path.name for path in own.glob("libxcb*")}
        maps = Path("/proc/self/maps").read_text()
    except OSError:  # no /proc: nothing to check
        return
    # each line ends with the mapped file's path, the only "/" on the line
    mapped = {line[line.index("/") :] for line in maps.splitlines() if "/" in line}
    for path in sorted(mapped):
        directory, _, name = path.rpartition("/")
        if name in names and directory != str(own):
            raise RuntimeError(
                f"cannot open the chooser window: OpenCV would use {path} instead of its own "
                "copy (a package bundling it was imported first); import thumbnail_selector "
                "(or cv2) before av"
            )


def _window_closed() -> bool:
    try:
        return cv2.getWindowProperty(WINDOW_NAME, cv2.WND_PROP_VISIBLE) < 1
    except cv2.error:  # Qt has already torn the closed window down
        return True


def _open_window(title: str, size: tuple[int, int], screen: tuple[int, int] | None) -> None:
    # WINDOW_NORMAL lets the operator resize the window (it keeps the aspect ratio, and mouse
    # positions still arrive in canvas pixels); GUI_NORMAL drops Qt's toolbar and status bar.
    cv2.namedWindow(WINDOW_NAME, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
    cv2.setWindowTitle(WINDOW_NAME, f"{title} — choose a thumbnail")
    cv2.resizeWindow(WINDOW_NAME, *size)
    if screen:
        cv2.moveWindow(
            WINDOW_NAME, max(0, (screen[0] - size[0]) // 2), max(0, (screen[1] - size[1]) // 3)
        )


def _event_loop(
    scene: Scene, state: ChooserState, first_frame: np.ndarray, called: float
) -> ChooserState:
    clicks: list[tuple[int, int, int]] = []

    def on_mouse(event: int, x: int, y: int, _flags: int, _param: object) -> None:
        if event in (cv2.EVENT_LBUTTONDOWN, cv2.EVENT_LBUTTONDBLCLK):
            clicks.append((event, x, y))

    cv2.setMouseCallback(WINDOW_NAME, on_mouse)
    cv2.imshow(WINDOW_NAME, first_frame)
    key = cv2.waitKeyEx(1)  # maps and paints the window; a key typed already counts
    log.debug("chooser shown %.0f ms after the call", (time.perf_counter() - called) * 1000)
    while True:
        if _window_closed():
            return replace(state, cancelled=True)
        updated = state
        while clicks:
            updated = handle_mouse(updated, scene.layout, *clicks.pop(0))
        updated = handle_key(updated, key)
        if updated.finished:
            return updated
        if updated != state:
            cv2.imshow(WINDOW_NAME, render(scene, updated))
        state = updated
        key = cv2.waitKeyEx(POLL_MS)


def choose(candidates: Sequence[SelectableCandidate], title: str) -> str | None:
    """Open the chooser window; returns the chosen candidate's id, or None when cancelled
    (Esc, q, or the window's close button). Raises NoDisplayError when no window can open."""
    if not 1 <= len(candidates) <= MAX_CANDIDATES:
        raise ValueError(
            f"the chooser shows 1 to {MAX_CANDIDATES} candidates, not {len(candidates)}"
        )
    called = time.perf_counter()
    screen = require_display()
    _check_opencv_libraries()
    ordered = sorted(candidates, key=lambda c: c.rank)
    size = canvas_size(screen, len(ordered))
    where = layout(len(ordered), size)
    scene = Scene(where, title, ordered, load_images(ordered, where.preview.width))
    state = ChooserState(ranks=tuple(c.rank for c in ordered), columns=where.columns)
    first_frame = render(scene, state)  # before the window opens, so it never shows empty
    _open_window(title, size, screen)
    try:
        state = _event_loop(scene, state, first_frame, called)
    finally:
        if not _window_closed():
            cv2.destroyWindow(WINDOW_NAME)
            cv2.waitKey(1)  # lets Qt take the window down before the caller goes on
    if state.chosen is None:
        log.info("%s: nothing chosen", title)
        return None
    chosen = ordered[state.chosen]
    log.info("%s: chose %s (rank %d)", title, chosen.id, chosen.rank)
    return chosen.id


# --------------------------------------------------------------------------- headless choice


def _ranks_text(ranks: Sequence[int]) -> str:
    ranks = sorted(ranks)
    if ranks == list(range(ranks[0], ranks[-1] + 1)) and len(ranks) > 2:
        return f"{ranks[0]}-{ranks[-1]}"
    return ", ".join(str(rank) for rank in ranks)


def pick_by_rank(candidates: Sequence[HasRank], rank: int) -> str:
    """The id of the candidate ranked `rank` (1 = best): the headless `--pick N`."""
    for candidate in candidates:
        if candidate.rank == rank:
            return candidate.id
    if not candidates:
        raise RankOutOfRangeError(f"--pick {rank}: there are no candidates to pick from", Step.RANK)
    raise RankOutOfRangeError(
        f"--pick {rank}: no candidate has rank {rank}; pick one of "
        f"{_ranks_text([c.rank for c in candidates])} (1 = best)"
    )


# ------------------------------------------------------------------------- recording a choice


def _candidate_for(
    video_path: Path, candidates: Sequence[RankedCandidate], candidate_id: str | None
) -> RankedCandidate:
    if not candidates:
        raise UnknownCandidateError(f"{video_path.name}: has no thumbnail candidates", Step.RANK)
    if candidate_id is None:
        return min(candidates, key=lambda c: c.rank)
    for candidate in candidates:
        if candidate.id == candidate_id:
            return candidate
    valid = ", ".join(c.id for c in candidates)
    raise UnknownCandidateError(
        f"{video_path.name}: {candidate_id!r} is not one of this video's candidates "
        f"({valid}): choose one of those"
    )


def load_selection(video_path: Path) -> Selection | None:
    """The video's recorded choice, None when it has none yet."""
    path = workspace_dir(video_path) / SELECTION_FILE
    if not path.is_file():
        return None
    try:
        data = read_json(path)
        return Selection(
            candidate_id=str(data["candidate_id"]),
            rank=int(data["rank"]),
            timestamp=float(data["timestamp"]),
            selected_at=str(data["selected_at"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise SelectionFileError(
            f"{path}: not a valid selection ({type(error).__name__}: {error}): delete it and "
            "choose again",
            Step.SELECT,
        ) from None


def record_selection(video_path: Path, candidate_id: str | None) -> Selection:
    """Record `candidate_id` (None: the top-ranked) as the video's thumbnail choice.

    Copies the candidate's JPEG to the workspace's selected.jpg, then writes selection.json
    (so a selection.json always has its selected.jpg). Recording the same candidate again keeps
    the first record.
    """
    from thumbnail_ranking import load_candidates  # imported late: ranking pulls in the decoders

    video_path = Path(video_path)
    chosen = _candidate_for(video_path, load_candidates(video_path), candidate_id)
    directory = workspace_dir(video_path)
    previous = load_selection(video_path)
    if (
        previous is not None
        and previous.candidate_id == chosen.id
        and (directory / SELECTED_IMAGE).is_file()
    ):
        return previous
    source = Path(chosen.file)
    try:
        data = source.read_bytes()
    except OSError:
        raise _unreadable(source) from None
    atomic_write_bytes(directory / SELECTED_IMAGE, data)
    selection = Selection(
        candidate_id=chosen.id,
        rank=chosen.rank,
        timestamp=chosen.timestamp,
        selected_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    atomic_write_json(directory / SELECTION_FILE, asdict(selection))
    log.info("%s: selected %s (rank %d)", video_path.name, chosen.id, chosen.rank)
    return selection
