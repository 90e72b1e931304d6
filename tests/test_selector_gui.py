"""The chooser in a real OpenCV window under Xvfb, driven with xdotool like an operator would."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.selector_support import (
    REPO,
    SCREEN,
    Chooser,
    Display,
    Window,
    candidate_spec,
    ensure_painted,
    missing_gui_tools,
    python_path,
    ranked_video,
    request_close,
    screenshot,
    wait_for_window,
    write_candidate_frames,
    xvfb,
)
from thumbnail_selector import ACCENT, PANEL, Layout, canvas_size, layout, load_selection

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(
        bool(missing_gui_tools()),
        reason=f"needs {', '.join(missing_gui_tools())} (apt-get install xvfb xdotool x11-apps)",
    ),
]

SCREENSHOT = REPO / "test-artifacts" / "selector_window.png"
VIDEO = "md_NhozVinhvsKhanhzLeo.mp4"
TITLE = f"Nhọ & Vinh vs Khánh & Leo — {VIDEO}"  # what an operator sees: names with diacritics
KEY_DELAY_MS = "80"  # a quick typist; Qt keeps only the last of keys that arrive in one batch
RGB_ACCENT = tuple(reversed(ACCENT))


@pytest.fixture(scope="module")
def display() -> Iterator[Display]:
    with xvfb(SCREEN) as running:
        yield running


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_candidate_frames(tmp_path_factory.mktemp("frames"), 9)


OpenChooser = Callable[..., tuple[Chooser, Window, Layout]]


@pytest.fixture
def open_chooser(display: Display, frames: list[Path], tmp_path: Path) -> Iterator[OpenChooser]:
    """Start the chooser on the 9 frames and return once its window reads input."""
    started: list[Chooser] = []

    def open_(candidates: list[dict] | None = None) -> tuple[Chooser, Window, Layout]:
        candidates = candidates or candidate_spec(frames)
        chooser = Chooser(display, TITLE, candidates, tmp_path / "spec.json")
        started.append(chooser)
        chooser.wait_until_shown()
        size = canvas_size(SCREEN, len(candidates))
        window = wait_for_window(display, re.escape(VIDEO), size)
        ensure_painted(display, window.id)
        display.xdotool("windowfocus", "--sync", window.id)
        return chooser, window, layout(len(candidates), size)

    yield open_
    for chooser in started:
        chooser.stop()


def press(display: Display, *keys: str) -> None:
    display.xdotool("key", "--delay", KEY_DELAY_MS, *keys)


def click(display: Display, window: Window, where: Layout, tile: int, clicks: int = 1) -> None:
    x, y = window.screen_point(where.canvas_size, where.tiles[tile].center)
    display.xdotool(
        "mousemove",
        "--sync",
        str(x),
        str(y),
        "click",
        "--repeat",
        str(clicks),
        "--delay",
        "60",
        "1",
    )


def test_a_digit_key_chooses_that_tile(display: Display, open_chooser: OpenChooser) -> None:
    chooser, _, _ = open_chooser()
    press(display, "3")
    assert chooser.result()[0] == "cand-3"


def test_arrows_move_the_highlight_and_enter_chooses_it(
    display: Display, open_chooser: OpenChooser
) -> None:
    chooser, window, where = open_chooser()
    press(display, "Right", "Right", "Down", "Left")  # tile 1 -> 2 -> 3 -> 6 -> 5

    focused, first = where.labels[4], where.labels[0]

    def pixel(picture: np.ndarray, label) -> tuple[int, ...]:
        return tuple(int(v) for v in picture[label.y + 2, label.x + 2])

    # the screenshot a person can look at, taken once the last key has been drawn
    deadline = time.monotonic() + 5
    while True:
        grabbed = screenshot(display, window.id, SCREENSHOT)
        picture = np.asarray(Image.open(grabbed).convert("RGB"))
        if pixel(picture, focused) == RGB_ACCENT or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert picture.shape[:2] == (window.height, window.width)
    assert pixel(picture, focused) == RGB_ACCENT
    assert pixel(picture, first) == tuple(reversed(PANEL))

    press(display, "Return")
    assert chooser.result()[0] == "cand-5"


def test_a_click_then_enter_chooses_the_clicked_tile(
    display: Display, open_chooser: OpenChooser
) -> None:
    chooser, window, where = open_chooser()
    click(display, window, where, tile=6)
    press(display, "Return")
    assert chooser.result()[0] == "cand-7"


def test_a_double_click_chooses_the_clicked_tile(
    display: Display, open_chooser: OpenChooser
) -> None:
    chooser, window, where = open_chooser()
    click(display, window, where, tile=7, clicks=2)
    assert chooser.result()[0] == "cand-8"


def test_a_accepts_the_top_ranked_wherever_the_focus_is(
    display: Display, open_chooser: OpenChooser, frames: list[Path]
) -> None:
    shuffled = candidate_spec(frames)
    random.Random(4).shuffle(shuffled)  # the chooser orders them by rank itself
    chooser, _, _ = open_chooser(shuffled)
    press(display, "Down", "Right", "a")
    assert chooser.result()[0] == "cand-1"


def test_escape_cancels(display: Display, open_chooser: OpenChooser) -> None:
    chooser, _, _ = open_chooser()
    press(display, "Right", "Escape")
    assert chooser.result()[0] is None


def test_closing_the_window_cancels_cleanly(display: Display, open_chooser: OpenChooser) -> None:
    chooser, window, _ = open_chooser()
    request_close(display, window.id)
    chosen, stderr = chooser.result()  # raises unless the process exited 0
    assert chosen is None
    assert "Traceback" not in stderr


def test_main_select_records_a_choice_and_a_cancel_leaves_the_next_video_waiting(
    display: Display, env: Path
) -> None:
    chosen = ranked_video(env / "videos", "md_NhozVinhvsKhanhzLeo.mp4", count=6)
    cancelled = ranked_video(env / "videos", "xd_KhanhzVyvsZezTram.mp4", count=4)
    select = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "select"],
        env={**display.env(), "PYTHONPATH": python_path(), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for video, count, key in ((chosen, 6, "2"), (cancelled, 4, "Escape")):
            window = wait_for_window(display, re.escape(video.name), canvas_size(SCREEN, count))
            display.xdotool("windowfocus", "--sync", window.id)
            press(display, key)
        stdout, stderr = select.communicate(timeout=30)
    finally:
        if select.poll() is None:
            select.kill()
            select.wait()
    assert select.returncode == 0, stdout + stderr
    assert load_selection(chosen).candidate_id == f"{chosen.stem}-02"
    assert load_selection(cancelled) is None
    assert "skipped (cancelled)" in stdout
