"""`select` on a published video opens the chooser window with its candidates (the previews that
came through Temporal) and changes its thumbnail to the one chosen. A real OpenCV window under
Xvfb, driven with xdotool; a real dev server and worker."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from temporal import client as temporal_client
from temporal.change_messages import changes_workflow_id
from tests.selector_support import GUI_TESTS, SCREEN, python_path, wait_for_window, xvfb
from tests.temporal_support import REPO, add_video, running_worker
from tests.test_selector_gui import press
from tests.test_temporal_workflow import unique_name
from tests.test_thumbnail_change import live_thumbnail, published_changeable
from thumbnail_selector import canvas_size
from workspace import THUMBNAIL_FILE

pytestmark = GUI_TESTS


async def test_the_window_changes_a_published_videos_thumbnail(
    temporal_env, pipeline_env, clip_cache, env: Path
) -> None:
    client = temporal_env.client
    pipeline_env(CHOICE="auto", RECHOOSE_DAYS="1")
    video = add_video(clip_cache, env / "videos", unique_name())
    with xvfb(SCREEN) as display:
        async with running_worker(client):
            workflow_id = await published_changeable(client, video)
            offer = await temporal_client.change_offer(client, workflow_id)
            select = subprocess.Popen(
                [sys.executable, str(REPO / "main_temporal.py"), "select", video.name],
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
                size = canvas_size(SCREEN, len(offer.choice.candidates))
                window = await asyncio.to_thread(
                    wait_for_window, display, re.escape(video.name), size, 60
                )
                display.xdotool("windowfocus", "--sync", window.id)
                press(display, "3")
                stdout, stderr = await asyncio.to_thread(select.communicate, timeout=60)
            finally:
                if select.poll() is None:
                    select.kill()
                    select.wait()
            await client.get_workflow_handle(changes_workflow_id(workflow_id)).terminate()
    assert select.returncode == 0, stdout + stderr
    assert f"Rank 3 is now the thumbnail of {video.name} in the publish folder" in stdout
    [folder] = (env / "published").iterdir()
    assert (folder / THUMBNAIL_FILE).read_bytes() == live_thumbnail(video.resolve(), "")
