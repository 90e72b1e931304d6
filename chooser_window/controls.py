"""Input handling: a key code or a click turns one `ChooserState` into the next (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2

from chooser_window.layout import Layout

# Key codes from cv2.waitKeyEx: Qt and GTK on X11, Windows, Qt on macOS.
KEYS_LEFT = frozenset({65361, 2424832, 63234, ord("h")})
KEYS_UP = frozenset({65362, 2490368, 63232, ord("k")})
KEYS_RIGHT = frozenset({65363, 2555904, 63235, ord("l")})
KEYS_DOWN = frozenset({65364, 2621440, 63233, ord("j")})
KEYS_CHOOSE_FOCUSED = frozenset({13, 10, 32, 65421})
KEYS_ACCEPT_TOP = frozenset({ord("a")})
KEYS_CANCEL = frozenset({27, ord("q")})


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
