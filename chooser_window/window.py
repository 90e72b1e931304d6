"""The OpenCV window itself: open it, feed its keys and clicks to the state, close it."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import cv2
import numpy as np

from chooser_window.controls import ChooserState, handle_key, handle_mouse
from chooser_window.drawing import Scene, render

log = logging.getLogger(__name__)

# Qt finds windows by this name; a non-ASCII name breaks that look-up, so the video's title is
# shown through setWindowTitle instead.
WINDOW_NAME = "thumbnail-chooser"
POLL_MS = 30


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


def run_window(scene: Scene, screen: tuple[int, int] | None, called: float) -> ChooserState:
    """Show `scene` until the operator chooses or cancels; returns the final state.

    `called` (time.perf_counter()) is when the chooser was asked for: the debug log says how
    long the window took to show."""
    where = scene.layout
    state = ChooserState(ranks=tuple(c.rank for c in scene.candidates), columns=where.columns)
    first_frame = render(scene, state)  # before the window opens, so it never shows empty
    _open_window(scene.title, where.canvas_size, screen)
    try:
        return _event_loop(scene, state, first_frame, called)
    finally:
        if not _window_closed():
            cv2.destroyWindow(WINDOW_NAME)
            cv2.waitKey(1)  # lets Qt take the window down before the caller goes on
