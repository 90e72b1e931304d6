"""Naming a video as people do: the number `pending` prints, a unique prefix of its id, or its
file name in any case, with or without accents; `select` alone walks through every waiting
video. The CLI as a person runs it, against a real dev server and worker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from temporal import client as temporal_client
from tests.temporal_support import add_video, result_of, running_worker, wait_until
from tests.test_temporal_cli import ROOT, cli_async
from tests.test_temporal_workflow import start, typed_handle

VIETNAMESE = "ms_Nguyễn Đức HuyvsTrâm_Sân Cầu Lông.mp4"
OTHERS = ("md_NhozVinhvsKhanhzLeo.mp4", "md_NhozVinhvsKhanhzLeo_Final.mp4")
CANCELLED = "xd_KhanhzVyvsZezTram.mp4"


async def waiting_ids(client) -> list[str]:
    return [video.workflow_id for video in await temporal_client.list_waiting(client)]


async def test_select_status_and_cancel_take_a_number_a_file_name_or_an_id_prefix(
    own_temporal_env, pipeline_env, clip_cache, env
):
    client = own_temporal_env.client  # numbers and walks cover every waiting video: only these
    address = client.service_client.config.target_host
    names = (VIETNAMESE, *OTHERS, CANCELLED)
    videos = [add_video(clip_cache, env / "videos", name) for name in names]
    async with running_worker(client):
        ids = [(await start(client, video)).workflow_id for video in videos]
        await wait_until(lambda: _all_waiting(client, ids), 120)
        order = await waiting_ids(client)
        offered = [await temporal_client.get_status(client, id_) for id_ in ids]
        numbered = json.loads((await cli_async("pending", "--json", address=address)).stdout)
        assert [(row["number"], row["workflow_id"]) for row in numbered] == list(
            enumerate(order, 1)
        )

        second = await cli_async("status", "2", "--json", address=address)
        assert json.loads(second.stdout)["workflow_id"] == order[1]

        # case and accents do not matter, nor the extension
        folded = await cli_async(
            "select", "MS_nguyen duc huyvstram_san cau long", "--pick", "2", address=address
        )
        assert folded.returncode == 0, folded.stdout + folded.stderr
        assert f"Rank 2 chosen for {VIETNAMESE}: rendering and publishing" in folded.stdout

        ambiguous = await cli_async("select", "md-nhoz", "--pick", "1", address=address)
        assert ambiguous.returncode == 1
        assert "2 videos match 'md-nhoz'" in ambiguous.stdout
        assert ids[1] in ambiguous.stdout and ids[2] in ambiguous.stdout

        prefix = ids[2][: len("md-nhozvinhvskhanhzleo-final-")]
        by_prefix = await cli_async("select", prefix, "--pick", "1", address=address)
        assert by_prefix.returncode == 0, by_prefix.stdout + by_prefix.stderr
        assert f"Rank 1 chosen for {OTHERS[1]}" in by_prefix.stdout

        # the same start now matches one video waiting and one on its way: select means the first
        preferred = await cli_async("select", "md-nhoz", "--pick", "1", address=address)
        assert preferred.returncode == 0, preferred.stdout + preferred.stderr
        assert f"Rank 1 chosen for {OTHERS[0]}: rendering and publishing" in preferred.stdout

        too_far = await cli_async("select", "7", address=address)
        assert too_far.returncode == 1
        assert "No video number 7: `./cafe pending` numbers the 1" in (too_far.stdout)
        unknown = await cli_async("cancel", "ws_Nobody.mp4", address=address)
        assert unknown.returncode == 1 and "No video matches 'ws_Nobody.mp4'" in unknown.stdout

        cancelled = await cli_async("cancel", CANCELLED.upper(), address=address)
        assert cancelled.returncode == 0 and ids[3] in cancelled.stdout
        results = [await result_of(typed_handle(client, id_)) for id_ in ids[:3]]
    assert [r.selected_candidate_id for r in results] == [
        offered[0].candidates[1].id,
        offered[1].candidates[0].id,
        offered[2].candidates[0].id,
    ]


async def _all_waiting(client, ids: list[str]) -> bool:
    return set(await waiting_ids(client)) >= set(ids)


async def test_select_without_a_video_walks_through_every_waiting_one(
    own_temporal_env, pipeline_env, clip_cache, env
):
    client = own_temporal_env.client  # numbers and walks cover every waiting video: only these
    address = client.service_client.config.target_host
    videos = [add_video(clip_cache, env / "videos", name) for name in (VIETNAMESE, *OTHERS)]
    async with running_worker(client):
        ids = [(await start(client, video)).workflow_id for video in videos]
        await wait_until(lambda: _all_waiting(client, ids), 120)
        order = await waiting_ids(client)
        offered = [await temporal_client.get_status(client, id_) for id_ in ids]
        walked = await cli_async("select", "--pick", "3", address=address)
        results = await asyncio.gather(*(result_of(typed_handle(client, i)) for i in ids))
        nothing_left = await cli_async("select", "--pick", "3", address=address)

    assert walked.returncode == 0, walked.stdout + walked.stderr
    files = {id_: video.name for id_, video in zip(ids, videos, strict=True)}
    lines = [line for line in walked.stdout.splitlines() if "chosen for" in line]
    assert lines == [f"Rank 3 chosen for {files[id_]}: rendering and publishing" for id_ in order]
    assert [r.selected_candidate_id for r in results] == [o.candidates[2].id for o in offered]
    assert nothing_left.stdout.strip() == "No video is waiting for a thumbnail choice."


async def status_at(address: str, columns: int) -> str:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(ROOT / "main_temporal.py"), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "COLUMNS": str(columns)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_status_never_cuts_an_id_across_lines_on_a_narrow_terminal(
    own_temporal_env, pipeline_env, clip_cache, env
):
    client = own_temporal_env.client  # numbers and walks cover every waiting video: only these
    address = client.service_client.config.target_host
    long_name = "xd_NguyễnVănThànhzPhạmThịHồngNhungvsLêHoàngPhúczVy_Giải Mùa Xuân.mp4"
    video = add_video(clip_cache, env / "videos", long_name)
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        await wait_until(lambda: _all_waiting(client, [workflow_id]), 120)
        shown = {columns: await status_at(address, columns) for columns in (40, 80, 250)}
        await temporal_client.cancel(client, workflow_id)

    for columns, output in shown.items():
        lines = [line for line in output.splitlines() if workflow_id[:8] in line]
        assert lines, output
        assert all(workflow_id in line for line in lines), (columns, output)
    assert "┃" in shown[250]  # a table where it fits
    assert f"\n  {workflow_id}\n" in shown[40]  # else the id on a line of its own
