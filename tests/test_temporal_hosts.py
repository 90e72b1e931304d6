"""Several machines: two workers with their own names and folders on this machine stand in for
two hosts. Each video's activities run on the host that holds it; a host that is down holds
only its own videos, which go on when it is back. Real dev server, real worker processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus

import config
from temporal import client as temporal_client
from temporal.client import workflow_id_for
from temporal.messages import SELECTING, VIDEO_STAGE, host_task_queue
from tests.temporal_support import (
    Host,
    add_video,
    cli_on,
    host_worker,
    new_host,
    result_of,
    wait_until,
)

VIDEOS_PER_HOST = 4
NAMES = (
    "md_NhozVinhvsKhanhzLeo_{host} {n}.mp4",
    "ms_Nguyễn Đức HuyvsTrâm_{host} {n}.mp4",
    "xd_KhanhzVyvsZezTram_{host} {n}.mp4",
    "wd_LanzMaivsHoazCuc_{host} {n}.mp4",
)


def add_videos(clip_cache: Path, host: Host) -> list[str]:
    """Four recordings in the host's INPUT_DIR; their workflow ids."""
    videos = [
        add_video(clip_cache, host.input_dir, NAMES[n].format(host=host.name, n=n))
        for n in range(VIDEOS_PER_HOST)
    ]
    return [workflow_id_for(video.resolve()) for video in videos]


async def activity_queues_and_workers(client: Client, workflow_id: str) -> tuple[set, set]:
    """The task queues the video's activities were scheduled on, and the identities of the
    workers that ran them, from its history."""
    queues, identities = set(), set()
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            queues.add(event.activity_task_scheduled_event_attributes.task_queue.name)
        if event.HasField("activity_task_started_event_attributes"):
            identities.add(event.activity_task_started_event_attributes.identity)
    return queues, identities


async def all_waiting(client: Client, workflow_ids: list[str]) -> bool:
    waiting = {video.workflow_id for video in await temporal_client.list_waiting(client)}
    return waiting >= set(workflow_ids)


async def choose_top(client: Client, workflow_id: str) -> None:
    request = await temporal_client.choice_request(client, workflow_id)
    await temporal_client.choose(client, workflow_id, request.video_path, None)


async def test_each_video_runs_on_its_host_and_a_host_that_is_down_holds_only_its_own(
    temporal_env, pipeline_env, clip_cache, tmp_path
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    shared = config.get_settings().temporal_task_queue
    a, b = new_host(tmp_path, "host-a"), new_host(tmp_path, "host-b")
    ids = {a.name: add_videos(clip_cache, a), b.name: add_videos(clip_cache, b)}

    async with host_worker(a, address):
        async with host_worker(b, address) as b_worker:  # each watcher starts its own videos
            await wait_until(lambda: all_waiting(client, ids[a.name] + ids[b.name]), 180)
            await b_worker.stop()  # the machine is shut down properly
        down = await temporal_client.host_state(client, shared, b.name)
        assert down.running is False and down.last_seen is not None

        # every choice is made now, with host-b down: its videos wait, the others finish
        await asyncio.gather(*(choose_top(client, id_) for id_ in ids[a.name] + ids[b.name]))
        for workflow_id in ids[a.name]:
            await result_of(client.get_workflow_handle(workflow_id), 180)
        for workflow_id in ids[b.name]:
            description = await client.get_workflow_handle(workflow_id).describe()
            assert description.status == WorkflowExecutionStatus.RUNNING
            assert description.typed_search_attributes.get(VIDEO_STAGE) == SELECTING
        waiting_file = NAMES[1].format(host=b.name, n=1)
        shown = await cli_on(a, address, "status", waiting_file.lower())  # by its file name
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert "host: host-b" in shown.stdout and "waits for worker host-b" in shown.stdout
        table = (await cli_on(a, address, "status")).stdout
        assert table.count("host-b (down)") == VIDEOS_PER_HOST, table

        async with host_worker(b, address):  # back: its videos go on
            for workflow_id in ids[b.name]:
                await result_of(client.get_workflow_handle(workflow_id), 180)

    for host in (a, b):
        for workflow_id in ids[host.name]:
            queues, workers = await activity_queues_and_workers(client, workflow_id)
            assert queues == {host_task_queue(shared, host.name)}, (workflow_id, queues)
            assert all(worker.endswith(f"@{host.name}") for worker in workers), workers
        completed = sorted(path.name for path in (host.root / "completed").glob("*.mp4"))
        assert completed == sorted(
            NAMES[n].format(host=host.name, n=n) for n in range(VIDEOS_PER_HOST)
        )
        assert not any(host.input_dir.iterdir())


async def test_start_refuses_a_file_this_host_cannot_read_and_says_when_no_worker_runs_here(
    temporal_env, pipeline_env, clip_cache, tmp_path
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    laptop = new_host(tmp_path, "laptop")
    elsewhere = tmp_path / "cafe-pc" / "videos" / "md_NhozVinhvsKhanhzLeo.mp4"

    refused = await cli_on(laptop, address, "start", str(elsewhere))

    assert refused.returncode == 1
    assert refused.stdout.strip().splitlines() == [
        f"{elsewhere}: skipped: no such file on this machine (laptop); check the path, or run "
        "`start` on the machine that holds it"
    ]

    video = add_video(clip_cache, laptop.input_dir, "md_AnzBinhvsChizDung_Laptop.mp4")
    started = await cli_on(laptop, address, "start", str(video))
    assert started.returncode == 0, started.stdout + started.stderr
    assert "No worker named laptop is running: these videos wait" in started.stdout
    shown = await cli_on(laptop, address, "status", video.name)
    assert "waits for worker laptop" in shown.stdout
    cancelled = await cli_on(laptop, address, "cancel", video.name)
    assert cancelled.returncode == 0 and workflow_id_for(video.resolve()) in cancelled.stdout
