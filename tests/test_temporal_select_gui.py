"""`select` on a machine without the worker's disk: the chooser window shows the previews that
came through Temporal, and the choice completes the video. A real OpenCV window under Xvfb,
driven with xdotool; a real dev server and worker."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from temporal import client as temporal_client
from tests.selector_support import (
    GUI_TESTS,
    SCREEN,
    ensure_painted,
    grab,
    python_path,
    screenshot,
    wait_for_window,
    xvfb,
)
from tests.temporal_support import REPO, add_video, result_of, running_worker, wait_until
from tests.test_selector_gui import press, shown_in
from tests.test_temporal_workflow import start, typed_handle
from thumbnail_selector import canvas_size, layout

pytestmark = GUI_TESTS

SCREENSHOT = REPO / "test-artifacts" / "select_previews_from_temporal.png"
VIDEOS = ("md_NhozVinhvsKhanhzLeo_Laptop.mp4", "ms_Nguyễn Đức HuyvsTrâm_Laptop.mp4")


async def test_select_on_a_machine_without_the_workspace_shows_the_previews_and_chooses(
    own_temporal_env, pipeline_env, clip_cache, env: Path
) -> None:
    client = own_temporal_env.client  # `select` alone walks every waiting video: only these
    laptop = env / "laptop"  # nothing of the worker's folders exists here
    videos = [add_video(clip_cache, env / "videos", name) for name in VIDEOS]
    with xvfb(SCREEN) as display:
        async with running_worker(client):
            ids = [(await start(client, video)).workflow_id for video in videos]

            async def both_waiting() -> bool:
                waiting = await temporal_client.list_waiting(client)
                return {video.workflow_id for video in waiting} >= set(ids)

            await wait_until(both_waiting, 120)
            first, second = [v.workflow_id for v in await temporal_client.list_waiting(client)]
            offered = await temporal_client.choice_request(client, first)
            previews = [c.preview for c in offered.candidates]
            assert all(previews) and all(len(p) <= 40_000 for p in previews)
            select = subprocess.Popen(  # `select` alone: each waiting video in turn
                [sys.executable, str(REPO / "main_temporal.py"), "select"],
                env={
                    **display.env(),
                    "PYTHONPATH": python_path(),
                    "TEMPORAL_ADDRESS": client.service_client.config.target_host,
                    "WORKSPACE_DIR": str(laptop / "workspace"),
                    "INPUT_DIR": str(laptop / "videos"),
                    "COLUMNS": "200",
                },
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                count = len(previews)
                size = canvas_size(SCREEN, count)
                window = await asyncio.to_thread(
                    wait_for_window, display, re.escape(offered.video_file), size, 60
                )
                ensure_painted(display, window.id)
                where = layout(count, size)
                shown = cv2.cvtColor(np.asarray(grab(display, window.id)), cv2.COLOR_RGB2BGR)
                images = [
                    cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_COLOR) for p in previews
                ]
                for index, tile in enumerate(where.tiles):
                    differences = [shown_in(shown, tile, image) for image in images]
                    assert differences[index] < 0.5, (index, differences)
                    assert int(np.argmin(differences)) == index
                screenshot(display, window.id, SCREENSHOT)
                display.xdotool("windowfocus", "--sync", window.id)
                press(display, "2")

                later = await temporal_client.get_status(client, second)
                title = Path(later.video_path).name
                window = await asyncio.to_thread(
                    wait_for_window, display, re.escape(title), size, 60
                )
                display.xdotool("windowfocus", "--sync", window.id)
                press(display, "Escape")  # this one keeps waiting
                stdout, stderr = await asyncio.to_thread(select.communicate, timeout=60)
            finally:
                if select.poll() is None:
                    select.kill()
                    select.wait()
            assert select.returncode == 0, stdout + stderr
            chosen = (await result_of(typed_handle(client, first))).selected_candidate_id
            still = await temporal_client.get_status(client, second)
            await temporal_client.cancel(client, second)

    assert chosen == offered.candidates[1].id
    assert f"Rank 2 chosen for {offered.video_file}: rendering and publishing" in stdout
    assert f"Cancelled: nothing was chosen for {title}; it keeps waiting." in stdout
    assert still.stage == "WAITING_FOR_SELECTION"
    assert not laptop.exists()
