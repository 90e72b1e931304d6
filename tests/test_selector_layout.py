"""The chooser's pure parts: layout, drawing, keys and mouse, without a display."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from chooser_window.candidate import SelectableCandidate
from chooser_window.controls import ChooserState, handle_key, handle_mouse
from chooser_window.drawing import ACCENT, PANEL, Scene, format_timestamp, render, tile_texts
from chooser_window.layout import Layout, Rect, canvas_size, layout

SCREENS = [(1280, 720), (1366, 768), (1600, 1000), (1920, 1080), (2560, 1440), (3840, 2160)]
LEFT, UP, RIGHT, DOWN = 65361, 65362, 65363, 65364  # Qt on X11
ENTER, ESCAPE = 13, 27


def canvases(count: int) -> list[tuple[int, int]]:
    fitted = [canvas_size(screen, count) for screen in [None, *SCREENS]]
    odd = [(1280, 720), (900, 700), (1600, 380), (640, 360)]  # a user may resize to anything
    return fitted + odd


def all_rects(where: Layout):
    return [
        where.header,
        where.preview,
        where.caption,
        *where.tiles,
        *where.labels,
        where.help_line,
    ]


def inside(rect: Rect, canvas: Rect) -> bool:
    return (
        canvas.x <= rect.x
        and canvas.y <= rect.y
        and rect.right <= canvas.right
        and rect.bottom <= canvas.bottom
    )


def overlaps(a, b) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


@pytest.mark.parametrize("count", range(1, 10))
def test_every_rectangle_is_inside_the_canvas_and_nothing_overlaps(count: int) -> None:
    for size in canvases(count):
        where = layout(count, size)
        canvas = Rect(0, 0, *size)
        assert len(where.tiles) == len(where.labels) == count
        for rect in all_rects(where):
            assert inside(rect, canvas), (size, rect)
            assert rect.width > 0 and rect.height > 0, (size, rect)
        content = [where.preview, where.caption, *where.tiles, *where.labels]
        for a, b in itertools.combinations(content, 2):
            assert not overlaps(a, b), (size, a, b)
        assert where.header.bottom <= min(r.y for r in content)
        assert where.help_line.y >= max(r.bottom for r in content)


@pytest.mark.parametrize("count", range(1, 10))
def test_tiles_read_best_first_and_the_preview_is_the_largest_picture(count: int) -> None:
    where = layout(count, canvas_size((1600, 1000), count))
    for tile in where.tiles:
        assert abs(tile.height / tile.width - 9 / 16) < 0.01
        assert where.preview.width >= tile.width
    positions = [(tile.y, tile.x) for tile in where.tiles]
    assert positions == sorted(positions)  # row by row, left to right
    for index, (tile, label) in enumerate(zip(where.tiles, where.labels, strict=True)):
        assert where.tile_at(*tile.center) == index
        assert where.tile_at(*label.center) == index
        assert label.y == tile.bottom and label.width == tile.width
    assert where.tile_at(*where.preview.center) is None


def test_the_window_fits_a_1280x720_screen_and_grows_with_larger_screens() -> None:
    for count in range(1, 10):
        sizes = [canvas_size(screen, count) for screen in SCREENS]
        for (width, height), (screen_w, screen_h) in zip(sizes, SCREENS, strict=True):
            assert width <= screen_w - 40 and height <= screen_h - 80  # title bar and panel
        assert canvas_size(None, count) == sizes[0]  # unknown screen: fit 1280x720
        widths = [width for width, _ in sizes]
        assert widths == sorted(widths) and widths[-1] > 2 * widths[0]
    dual_monitors = canvas_size((3840, 1080), 9)
    assert dual_monitors == canvas_size((1920, 1080), 9)


def solid_candidates(count: int) -> tuple[list[SelectableCandidate], list[tuple[int, int, int]]]:
    """Candidates whose frames are each one flat colour, so the drawing can be checked."""
    colours = [(40 + 23 * i, 200 - 17 * i, (90 * i) % 256) for i in range(count)]
    candidates = [
        SelectableCandidate(
            f"c{i + 1}",
            i + 1,
            0.9 - i / 20,
            5.0 + 61.25 * i,
            np.full((1080, 1920, 3), colour, np.uint8),
        )
        for i, colour in enumerate(colours)
    ]
    return candidates, colours


def differing_pixels(image: np.ndarray, rect, colour) -> int:
    region = image[rect.y : rect.bottom, rect.x : rect.right]
    return int(np.any(region != np.array(colour, np.uint8), axis=2).sum())


@pytest.mark.parametrize("count", [1, 4, 6, 9])
def test_render_draws_each_tile_its_labels_and_the_focused_preview(count: int) -> None:
    candidates, colours = solid_candidates(count)
    where = layout(count, canvas_size((1600, 1000), count))
    scene = Scene(
        where,
        "Nhọ & Vinh vs Khánh & Leo — md_NhozVinhvsKhanhzLeo.mp4",
        candidates,
        [c.image for c in candidates],
    )
    focus = count - 1
    state = ChooserState(ranks=tuple(range(1, count + 1)), columns=where.columns, focus=focus)
    image = render(scene, state)
    assert image.shape == (where.canvas_size[1], where.canvas_size[0], 3)
    for index, (tile, label) in enumerate(zip(where.tiles, where.labels, strict=True)):
        # the tile shows its own frame (away from the rank badge in its corner)
        assert tuple(image[tile.bottom - 3, tile.right - 3]) == colours[index]
        # its label band carries text: score and timestamp
        band = ACCENT if index == focus else PANEL
        assert tuple(image[label.y + 1, label.x + 1]) == band
        assert differing_pixels(image, label, band) > 0.04 * label.width * label.height
    assert tuple(image[where.preview.center[1], where.preview.center[0]]) == colours[focus]
    assert differing_pixels(image, where.caption, image[where.caption.y, where.caption.x]) > 200
    assert differing_pixels(image, where.header, image[1, 1]) > 500  # the title
    assert differing_pixels(image, where.help_line, image[-1, -1]) > 1000  # the keys


def test_tile_texts_carry_rank_score_and_time_in_the_video() -> None:
    candidate = SelectableCandidate("x", 3, 0.8765, 754.4, np.zeros((9, 16, 3), np.uint8))
    assert tile_texts(candidate) == ("3", "score 0.88", "12:34")
    assert format_timestamp(7.5) == "0:07"
    assert format_timestamp(83.36, tenths=True) == "1:23.3"
    assert format_timestamp(3725.3) == "1:02:05"


def test_render_letterboxes_a_portrait_frame() -> None:
    portrait = np.full((1920, 1080, 3), 200, np.uint8)
    candidate = SelectableCandidate("p", 1, 0.5, 1.0, portrait)
    where = layout(1, (1280, 520))
    image = render(Scene(where, "t", [candidate], [portrait]), ChooserState((1,), where.columns))
    preview = where.preview
    assert tuple(image[preview.center[1], preview.center[0]]) == (200, 200, 200)
    assert tuple(image[preview.center[1], preview.x + 3]) == (0, 0, 0)  # bars left and right


def state_for(count: int, focus: int = 0) -> ChooserState:
    columns = layout(count, (1280, 520)).columns
    return ChooserState(ranks=tuple(range(1, count + 1)), columns=columns, focus=focus)


def press(state: ChooserState, *keys: int | str) -> ChooserState:
    for key in keys:
        state = handle_key(state, ord(key) if isinstance(key, str) else key)
    return state


def test_digits_choose_the_tile_of_that_rank() -> None:
    assert press(state_for(9), "7").chosen == 6
    assert press(state_for(6), "9").chosen is None  # no such tile: nothing happens
    unordered = ChooserState(ranks=(2, 1, 3), columns=2)
    assert press(unordered, "1").chosen == 1


def test_arrows_and_hjkl_move_the_focus_within_the_grid() -> None:
    nine = state_for(9)  # 3 x 3
    assert press(nine, RIGHT, RIGHT, DOWN).focus == 5
    assert press(nine, "l", "l", "j").focus == 5
    assert press(nine, DOWN, DOWN, DOWN, DOWN).focus == 6  # stops at the last row
    assert press(nine, UP, LEFT).focus == 0  # stops at the first tile
    assert press(nine, DOWN, LEFT).focus == 2  # left wraps to the previous row
    assert press(nine, "l", "l", "h").focus == 1
    assert press(nine, RIGHT, RIGHT, RIGHT).focus == 3  # right wraps to the next row
    assert press(nine, "j", "k", "h", "l").focus == 1
    five = state_for(5)  # 2 columns: 0 1 / 2 3 / 4
    assert press(five, RIGHT, DOWN, DOWN).focus == 4  # into the shorter last row
    windows_arrows = press(nine, 2555904, 2621440)  # Windows: right, down
    assert windows_arrows.focus == 4


def test_enter_space_and_a_choose_escape_and_q_cancel() -> None:
    nine = state_for(9)
    assert press(nine, RIGHT, ENTER).chosen == 1
    assert press(nine, DOWN, " ").chosen == 3
    assert press(nine, RIGHT, DOWN, "a").chosen == 0
    for cancel in (ESCAPE, "q", "Q"):
        cancelled = press(nine, RIGHT, cancel)
        assert cancelled.cancelled and cancelled.chosen is None
    assert press(nine, "x", -1, 65505).focus == 0  # unknown keys, no key, Shift
    assert press(nine, "2", "5").chosen == 1  # keys after the choice change nothing


def test_a_click_focuses_a_tile_and_a_double_click_chooses_it() -> None:
    where = layout(9, (1472, 603))
    state = state_for(9)
    clicked = handle_mouse(state, where, cv2.EVENT_LBUTTONDOWN, *where.tiles[4].center)
    assert clicked.focus == 4 and clicked.chosen is None
    doubled = handle_mouse(state, where, cv2.EVENT_LBUTTONDBLCLK, *where.labels[8].center)
    assert doubled.chosen == 8
    on_preview = handle_mouse(clicked, where, cv2.EVENT_LBUTTONDBLCLK, *where.preview.center)
    assert on_preview.chosen == 4
    outside = handle_mouse(state, where, cv2.EVENT_LBUTTONDOWN, *where.help_line.center)
    assert outside == state
