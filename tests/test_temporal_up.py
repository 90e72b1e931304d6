"""`up` speaks: it says when a video waits for a choice (with the number to select), when a
choice is made (from any terminal), when a video needs attention, fails or is published, and on
Ctrl+C how many videos still wait, without the SDK's shutdown chatter. `up` as a person runs
it: a real process with its embedded server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

from tests.temporal_support import add_video
from tests.test_temporal_cli import ROOT, cli, free_port, printed, wait_until

CHOSEN = "md_NhozVinhvsKhanhzLeo.mp4"
MOVED_AWAY = "xd_KhanhzVyvsZezTram_Friendly Game.mp4"
BAD_SIDECAR = "ms_HuyvsViet_Tour Hà Nội 2024.mp4"


def test_up_says_what_happens_to_each_video_and_how_many_still_wait_on_ctrl_c(
    env, pipeline_env, clip_cache, tmp_path
):
    address = f"localhost:{free_port()}"
    pipeline_env(TEMPORAL_UI_PORT=str(free_port()), WATCH_INTERVAL="1")
    for name in (CHOSEN, MOVED_AWAY, BAD_SIDECAR):
        add_video(clip_cache, env / "videos", name)
    (env / "videos" / f"{BAD_SIDECAR}.json").write_text("{not json")
    with tempfile.TemporaryFile("w+") as output:
        up = subprocess.Popen(
            [sys.executable, str(ROOT / "main_temporal.py"), "up"],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TEMPORAL_ADDRESS": address, "COLUMNS": "250"},
        )
        try:
            wait_until(lambda: printed(output).count("waiting for your choice: select") == 2, 120)
            wait_until(lambda: f"{BAD_SIDECAR} failed: " in printed(output))
            # choices made in other terminals, as people do
            (env / "videos" / MOVED_AWAY).rename(tmp_path / MOVED_AWAY)
            assert cli("select", MOVED_AWAY, "--pick", "1", address=address).returncode == 0
            assert cli("select", CHOSEN, "--pick", "2", address=address).returncode == 0
            wait_until(lambda: f"published {CHOSEN}: file://" in printed(output), 120)
            wait_until(lambda: f"{MOVED_AWAY}: needs attention: SELECTING" in printed(output))
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(timeout=60)
        said = printed(output)

    assert up.returncode == 0, said
    lines = said.splitlines()
    waiting = [line for line in lines if line.startswith("waiting for your choice")]
    assert sorted(waiting) == [
        f"waiting for your choice: select 1 ({CHOSEN})",
        f"waiting for your choice: select 2 ({MOVED_AWAY})",
    ] or sorted(waiting) == [
        f"waiting for your choice: select 1 ({MOVED_AWAY})",
        f"waiting for your choice: select 2 ({CHOSEN})",
    ]
    assert f"Rank 2 chosen for {CHOSEN}: rendering and publishing" in lines
    assert f"Rank 1 chosen for {MOVED_AWAY}: rendering and publishing" in lines
    assert any("not valid JSON" in line for line in lines if line.startswith(BAD_SIDECAR))
    attention = next(line for line in lines if line.startswith(f"{MOVED_AWAY}: needs attention"))
    assert "the video is no longer there" in attention
    assert lines[-1] == "1 video still waits; run `up` again to go on"
    assert "Beginning worker shutdown" not in said and "Traceback" not in said
