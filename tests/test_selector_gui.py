"""The chooser in a real OpenCV window under Xvfb, driven with xdotool like an operator would."""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import config
from chooser_window.drawing import fit_image
from chooser_window.layout import Rect
from temporal.client import start_video
from temporal.workflows import WAITING_FOR_SELECTION, ProcessVideoWorkflow
from tests.selector_support import (
    GUI_TESTS,
    REPO,
    SCREEN,
    Chooser,
    Display,
    Window,
    candidate_spec,
    ensure_painted,
    grab,
    preview_spec,
    python_path,
    ranked_video,
    request_close,
    screenshot,
    wait_for_window,
    write_candidate_frames,
    xvfb,
)
from tests.temporal_support import add_video, result_of, running_worker, wait_for_stage
from thumbnail_ranking import preview_jpeg
from thumbnail_selector import ACCENT, PANEL, Layout, canvas_size, layout, load_selection
from workspace import CANDIDATES_DIR, SELECTED_IMAGE, workspace_dir

pytestmark = GUI_TESTS

SCREENSHOT = REPO / "test-artifacts" / "selector_window.png"
PREVIEWS_SCREENSHOT = REPO / "test-artifacts" / "selector_window_previews.png"
VIDEO = "md_NhozVinhvsKhanhzLeo.mp4"
TITLE = f"Nhọ & Vinh vs Khánh & Leo — {VIDEO}"  # what an operator sees: names with diacritics
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


def press(display: Display, key: str) -> None:
    display.xdotool("key", key)


def focused_tile(picture: np.ndarray, where: Layout) -> int | None:
    """The tile whose label band shows the highlight colour."""
    for index, label in enumerate(where.labels):
        if tuple(int(v) for v in picture[label.y + 2, label.x + 2]) == RGB_ACCENT:
            return index
    return None


def move_focus(display: Display, window: Window, where: Layout, key: str, to: int) -> np.ndarray:
    """Press `key` and wait until the window highlights tile `to`; returns that window image.

    Keys go one at a time: OpenCV's waitKey returns only the last of the keys that reach Qt
    while the chooser is drawing, as it does for a person holding a key down.
    """
    press(display, key)
    deadline = time.monotonic() + 10
    while True:
        picture = np.asarray(grab(display, window.id))
        if focused_tile(picture, where) == to:
            return picture
        assert time.monotonic() < deadline, f"{key}: the highlight did not move to tile {to}"
        time.sleep(0.02)


def click(display: Display, window: Window, where: Layout, tile: int, clicks: int = 1) -> None:
    x, y = window.screen_point(where.canvas_size, where.tiles[tile].center)
    # no --sync: it waits for a pointer motion, forever when the pointer is there already;
    # the X server handles the move before the clicks sent after it anyway
    display.xdotool(
        "mousemove",
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
    assert focused_tile(np.asarray(grab(display, window.id)), where) == 0
    for key, tile in (("Right", 1), ("Right", 2), ("Down", 5), ("Left", 4)):
        picture = move_focus(display, window, where, key, tile)
    first = where.labels[0]
    assert tuple(int(v) for v in picture[first.y + 2, first.x + 2]) == tuple(reversed(PANEL))
    # the screenshot a person can look at: 9 candidates, the fifth highlighted
    screenshot(display, window.id, SCREENSHOT)
    assert Image.open(SCREENSHOT).size == (window.width, window.height)

    press(display, "Return")
    assert chooser.result()[0] == "cand-5"


def test_h_j_k_l_move_the_highlight_and_space_chooses_it(
    display: Display, open_chooser: OpenChooser
) -> None:
    chooser, window, where = open_chooser()
    for key, tile in (("l", 1), ("j", 4), ("l", 5), ("k", 2), ("h", 1)):
        move_focus(display, window, where, key, tile)
    press(display, "space")
    assert chooser.result()[0] == "cand-2"


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
    chooser, window, where = open_chooser(shuffled)
    move_focus(display, window, where, "Down", 3)
    move_focus(display, window, where, "Right", 4)
    press(display, "a")
    assert chooser.result()[0] == "cand-1"


@pytest.mark.parametrize("key", ["Escape", "q"])
def test_escape_and_q_cancel(display: Display, open_chooser: OpenChooser, key: str) -> None:
    chooser, window, where = open_chooser()
    move_focus(display, window, where, "Right", 1)
    press(display, key)
    assert chooser.result()[0] is None


def test_closing_the_window_cancels_cleanly(display: Display, open_chooser: OpenChooser) -> None:
    chooser, window, _ = open_chooser()
    request_close(display, window.id)
    chosen, stderr = chooser.result()  # raises unless the process exited 0
    assert chosen is None
    assert "Traceback" not in stderr


def shown_in(screen: np.ndarray, where: Rect, image: np.ndarray) -> float:
    """Mean difference (grey levels) between the window's `where` and `image` drawn there as
    the chooser draws it (0 when it is that image), away from the rank badge in the corner."""
    expected = fit_image(image, where.width, where.height)
    shown = screen[where.y : where.bottom, where.x : where.right]
    below_badge = np.s_[where.height // 2 : -4, 4:-4]
    return float(cv2.absdiff(shown[below_badge], expected[below_badge]).mean())


def test_previews_given_as_bytes_are_shown_without_any_workspace(
    display: Display, frames: list[Path], tmp_path: Path
) -> None:
    # what a laptop's chooser gets from Temporal: JPEG bytes, no path, no workspace folder
    previews = [preview_jpeg(frame) for frame in frames[:6]]
    workspace = tmp_path / "not-here" / "workspace"
    chooser = Chooser(
        display,
        TITLE,
        preview_spec(previews),
        tmp_path / "spec.json",
        env={"WORKSPACE_DIR": str(workspace), "INPUT_DIR": str(tmp_path / "not-here" / "videos")},
    )
    try:
        chooser.wait_until_shown()
        size = canvas_size(SCREEN, len(previews))
        window = wait_for_window(display, re.escape(VIDEO), size)
        ensure_painted(display, window.id)
        where = layout(len(previews), size)
        screen = cv2.cvtColor(np.asarray(grab(display, window.id)), cv2.COLOR_RGB2BGR)
        images = [cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_COLOR) for p in previews]
        for index, tile in enumerate(where.tiles):
            differences = [shown_in(screen, tile, image) for image in images]
            assert differences[index] < 0.5, (index, differences)
            assert int(np.argmin(differences)) == index
        assert shown_in(screen, where.preview, images[0]) < 0.5  # the focused one, large
        screenshot(display, window.id, PREVIEWS_SCREENSHOT)

        display.xdotool("windowfocus", "--sync", window.id)
        press(display, "4")
        assert chooser.result()[0] == "cand-4"
    finally:
        chooser.stop()
    assert not workspace.parent.exists()


def test_a_preview_that_does_not_decode_is_one_clear_error(display: Display) -> None:
    script = (
        "import cv2, numpy as np\n"
        "from thumbnail_selector import CandidateImageError, SelectableCandidate, choose\n"
        "good = cv2.imencode('.jpg', np.zeros((360, 640, 3), np.uint8))[1].tobytes()\n"
        "candidates = [SelectableCandidate('good', 1, 0.9, 1.0, good),\n"
        "              SelectableCandidate('cut-off', 2, 0.8, 9.0, good[:40])]\n"
        "try:\n"
        "    choose(candidates, 'clip.mp4')\n"
        "except CandidateImageError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**display.env(), "PYTHONPATH": python_path()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "candidate cut-off (rank 2): its image is not a readable JPEG; "
        "the candidates must be made again"
    )
    assert not display.xdotool("search", "--name", "clip.mp4").split()  # no window opened


def test_a_process_that_imported_pyav_first_gets_an_error_instead_of_a_hung_window(
    display: Display, frames: list[Path]
) -> None:
    # PyAV's wheel bundles the xcb libraries OpenCV's Qt uses; loaded first, they hang Qt
    script = (
        "import av\n"
        "from pathlib import Path\n"
        "from thumbnail_selector import SelectableCandidate, choose\n"
        f"choose([SelectableCandidate('a', 1, 0.9, 1.0, Path({str(frames[0])!r}))], 'clip.mp4')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**display.env(), "PYTHONPATH": python_path()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "import thumbnail_selector (or cv2) before av" in done.stderr


def test_main_select_goes_on_after_a_cancel_and_records_the_next_choice(
    display: Display, env: Path
) -> None:
    cancelled = ranked_video(env / "videos", "md_NhozVinhvsKhanhzLeo.mp4", count=6)
    chosen = ranked_video(env / "videos", "xd_KhanhzVyvsZezTram.mp4", count=4)
    select = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "select"],
        env={**display.env(), "PYTHONPATH": python_path(), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for video, count, key in ((cancelled, 6, "Escape"), (chosen, 4, "2")):
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
    candidate = next((workspace_dir(chosen) / CANDIDATES_DIR).glob("02_*.jpg"))
    assert (workspace_dir(chosen) / SELECTED_IMAGE).read_bytes() == candidate.read_bytes()
    assert load_selection(cancelled) is None
    assert not (workspace_dir(cancelled) / SELECTED_IMAGE).exists()
    assert "skipped (cancelled)" in stdout


async def test_main_temporal_select_signals_the_tile_chosen_in_the_window(
    display: Display, temporal_env, pipeline_env, clip_cache, env: Path
) -> None:
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", "md_NhozVinhvsKhanhzLeo_Window Test.mp4")
    async with running_worker(client):
        workflow_id = (await start_video(client, video, config.get_settings())).workflow_id
        handle = client.get_workflow_handle_for(ProcessVideoWorkflow.run, workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        select = subprocess.Popen(
            [sys.executable, str(REPO / "main_temporal.py"), "select", workflow_id],
            env={
                **display.env(),
                "PYTHONPATH": python_path(),
                "TEMPORAL_ADDRESS": client.service_client.config.target_host,
                "COLUMNS": "200",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            size = canvas_size(SCREEN, len(status.candidates))
            window = await asyncio.to_thread(wait_for_window, display, re.escape(video.name), size)
            display.xdotool("windowfocus", "--sync", window.id)
            press(display, "3")
            stdout, stderr = await asyncio.to_thread(select.communicate, timeout=60)
        finally:
            if select.poll() is None:
                select.kill()
                select.wait()
        assert select.returncode == 0, stdout + stderr
        third = status.candidates[2].id
        assert f"Rank 3 chosen for {video.name}: rendering and publishing" in stdout
        assert (await result_of(handle)).selected_candidate_id == third
