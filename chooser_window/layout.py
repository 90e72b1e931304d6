"""Where everything goes in the chooser window: pure geometry, no OpenCV window or drawing.

`layout()` computes every rectangle of a canvas for 1 to 9 candidates: a large preview of the
focused candidate beside a grid of tiles, best first. `canvas_size()` picks the window's size
for a screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_CANDIDATES = 9
ASPECT = 9 / 16  # height / width of a tile and of the preview (video frames are 16:9)
DEFAULT_SCREEN = (1280, 720)  # assumed when the platform cannot tell the screen's size


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
