"""Notifications from real workflows: a real dev server and worker, real clips, the fake YouTube,
and a local HTTP endpoint taking Apprise's json:// messages."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

import config
from notify import WaitingGroup
from temporal import client as temporal_client
from temporal.messages import (
    ATTENTION,
    CHOSEN,
    HOLD_FOR_ATTENTION,
    NEEDS_ATTENTION,
    WAITING,
    WAITING_FOR_SELECTION,
    VideoEvent,
)
from temporal.notifier import VIDEO_EVENT_SIGNAL, NotifierInput, NotifierWorkflow, notifier_id
from tests.fake_youtube import FakeYouTube
from tests.notify_support import endpoint
from tests.temporal_support import (
    add_video,
    history_json,
    result_of,
    running_worker,
    wait_for_stage,
    wait_until,
)
from tests.test_temporal_holds import wait_for_a_new_hold
from tests.test_temporal_workflow import start, typed_handle, unique_name
from tests.upload_support import use_youtube
from web.temporal_source import TemporalVideoSource

WEB = "http://cafe-pc.local:8280/"
HISTORIES = Path(__file__).parent / "histories" / "notifier"
# v2: events carry a typed hold (v1's the reason, a remedy worded in); v1's still replay
NOTIFIER_HISTORY_VERSION = "v3"
THUMBNAIL_REFUSED = "The authenticated user doesn't have permissions to upload thumbnails."


async def record_notifier_history(client: Client, name: str, run_id: str | None = None) -> None:
    """With RECORD_HISTORIES=1, export the notifier's history (of `run_id`, else its latest run)
    for the replay test."""
    if os.environ.get("RECORD_HISTORIES"):
        HISTORIES.mkdir(parents=True, exist_ok=True)
        queue = os.environ["TEMPORAL_TASK_QUEUE"]
        handle = client.get_workflow_handle(notifier_id(queue), run_id=run_id)
        path = HISTORIES / f"{NOTIFIER_HISTORY_VERSION}-{name}.json"
        path.write_text((await handle.fetch_history()).to_json())


async def received(hook, count: int, timeout: float = 60) -> None:
    async def enough() -> bool:
        return len(hook.received) >= count

    await wait_until(enough, timeout)


async def test_videos_waiting_together_make_one_message_and_a_publication_its_own(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    with endpoint() as hook:
        pipeline_env(NOTIFY_URLS=hook.url, NOTIFY_WAITING_INTERVAL="1h", WEB_PUBLIC_URL=WEB)
        first = add_video(clip_cache, env / "videos", unique_name())
        async with running_worker(client):
            first_id = (await start(client, first)).workflow_id
            status = await wait_for_stage(typed_handle(client, first_id), WAITING_FOR_SELECTION)
            await received(hook, 1)  # the first video is told at once
            others = [add_video(clip_cache, env / "videos", unique_name()) for _ in range(3)]
            other_ids = [(await start(client, video)).workflow_id for video in others]
            titles = {}
            for workflow_id in other_ids:
                waiting = await wait_for_stage(
                    typed_handle(client, workflow_id), WAITING_FOR_SELECTION
                )
                titles[workflow_id] = f"- {waiting.title} ({Path(waiting.video_path).name})"
            told_within_the_hour = hook.titles()

            pipeline_env(NOTIFY_WAITING_INTERVAL="1s")  # taken with the next event
            await temporal_client.choose(client, first_id, status.video_path, None)
            await result_of(typed_handle(client, first_id))
            await received(hook, 3)
            for workflow_id in other_ids:
                await client.get_workflow_handle(workflow_id).cancel()
            for workflow_id in other_ids:
                with pytest.raises(WorkflowFailureError):
                    await result_of(typed_handle(client, workflow_id))
            await record_notifier_history(client, "waiting_grouped_then_published")
            await asyncio.sleep(1)  # a message about the cancelled videos would arrive by now
            queue = os.environ["TEMPORAL_TASK_QUEUE"]
            histories = [
                await history_json(client, workflow_id)
                for workflow_id in (notifier_id(queue), first_id, *other_ids)
            ]

    assert told_within_the_hour == [f"Choose a thumbnail: {status.title}"]
    first_message, grouped = hook.of_type("info")
    [published] = hook.of_type("success")
    assert f"is waiting for a thumbnail choice.\nChoose at {WEB}" in first_message["message"]
    assert grouped["title"] == "3 videos are waiting for a thumbnail choice"
    lines = grouped["message"].splitlines()
    assert sorted(lines[:3]) == sorted(titles.values()) and lines[3] == f"Choose at {WEB}"
    assert published["title"] == f"Published: {status.title}"
    assert published["message"].startswith(f"{first.name} is published: file://")
    assert len(hook.received) == 3  # cancelling is not news
    assert not any("hook-secret-token" in history for history in histories)


async def test_attention_once_per_problem_and_failures_each_their_own_message(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch
):
    client = temporal_env.client
    with FakeYouTube() as youtube, endpoint() as hook:
        use_youtube(env, monkeypatch, youtube)
        pipeline_env(
            NOTIFY_URLS=hook.url,
            WEB_PUBLIC_URL=WEB,
            SELECTION_TIMEOUT="1s",
            ATTENTION_RETRY_INTERVAL="1s",
        )
        youtube.fail("thumbnails.set", 403, "forbidden", THUMBNAIL_REFUSED, times=None)
        video = add_video(clip_cache, env / "videos", unique_name())
        broken = env / "videos" / unique_name("ms_HuyvsViet")
        broken.write_text("this is not a video")
        async with running_worker(client):
            broken_id = (await start(client, broken)).workflow_id
            workflow_id = (await start(client, video)).workflow_id
            handle = typed_handle(client, workflow_id)
            held = await wait_for_stage(handle, NEEDS_ATTENTION)
            await temporal_client.retry(client, workflow_id)  # not fixed yet: the same problem
            await wait_for_a_new_hold(handle, held.hold.since)
            source = TemporalVideoSource(client, config.get_settings())
            shown = {video.workflow_id: video for video in await source.recent(20)}
            youtube.stop_failing("thumbnails.set")  # the channel was verified
            await temporal_client.retry(client, workflow_id)
            result = await result_of(handle)
            with pytest.raises(WorkflowFailureError) as failure:
                await result_of(typed_handle(client, broken_id))
            await received(hook, 4)

    hold = shown[workflow_id].hold  # the chooser shows the same problem, with a Retry button
    assert hold.kind == HOLD_FOR_ATTENTION and hold.stage == "UPLOADING"
    assert "YouTube refused the custom thumbnail" in hold.problem
    warnings = hook.of_type("warning")
    assert [m["title"] for m in warnings] == [f"Needs attention: {held.title}"]
    assert "YouTube refused the custom thumbnail" in warnings[0]["message"]
    assert warnings[0]["message"].endswith(f"Once it is fixed, retry it at {WEB}")
    failures = hook.of_type("failure")
    assert [m["title"] for m in failures] == [f"Failed: {broken.name}"]
    reason = failure.value.cause.cause.message  # the same as `status` shows, paths cut
    assert str(broken) in reason and str(env) not in failures[0]["message"]
    assert (
        failures[0]["message"]
        == f"{broken.name}: {reason.replace(str(broken), '…/' + broken.name)}"
    )
    assert [m["title"] for m in hook.of_type("success")] == [f"Published: {held.title}"]
    assert f"https://youtu.be/{result.published.video_id}" in hook.of_type("success")[0]["message"]


async def test_an_endpoint_that_never_answers_holds_up_no_video(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    with endpoint(hang=True) as hook:
        pipeline_env(NOTIFY_URLS=hook.url, SELECTION_TIMEOUT="1s")
        video = add_video(clip_cache, env / "videos", unique_name())
        async with running_worker(client):
            workflow_id = (await start(client, video)).workflow_id
            handle = typed_handle(client, workflow_id)
            await wait_for_stage(handle, WAITING_FOR_SELECTION)

            async def tried() -> bool:
                return hook.requests > 0

            await wait_until(tried)  # the "waiting" message is on its way, and hangs
            result = await result_of(handle)
            answered_when_done = hook.answered
            hook.stop_hanging()  # else the worker's stop waits for the hung send to time out
    assert result.published.url  # the video went all the way while the endpoint said nothing
    assert answered_when_done == 0


async def test_without_notify_urls_no_notifier_runs(temporal_env, pipeline_env, env):
    client = temporal_env.client
    broken = env / "videos" / unique_name()
    broken.write_text("this is not a video")
    async with running_worker(client):
        with pytest.raises(WorkflowFailureError):
            await result_of(typed_handle(client, (await start(client, broken)).workflow_id))
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(notifier_id(os.environ["TEMPORAL_TASK_QUEUE"])).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


def event(kind: str, n: int, interval: float | None = 3600) -> VideoEvent:
    return VideoEvent(
        kind, f"video-{n}", f"md_P{n}vsQ{n}.mp4", f"P{n} vs Q{n}", f"problem {n}", interval
    )


async def test_the_notifier_continues_as_new_and_keeps_its_waiting_videos(
    temporal_env, pipeline_env, env
):
    client = temporal_env.client
    with endpoint() as hook:
        pipeline_env(NOTIFY_URLS=hook.url, WEB_PUBLIC_URL=WEB)
        queue = os.environ["TEMPORAL_TASK_QUEUE"]
        async with running_worker(client):
            started = await client.start_workflow(
                NotifierWorkflow.run,
                NotifierInput(WaitingGroup(), max_history_events=20),
                id=notifier_id(queue),
                task_queue=queue,
            )
            first_run = client.get_workflow_handle(
                started.id, run_id=started.first_execution_run_id
            )
            notifier = client.get_workflow_handle(started.id)  # its latest run, whichever
            await notifier.signal(VIDEO_EVENT_SIGNAL, event(WAITING, 0))
            await received(hook, 1)
            for n in range(1, 9):
                await notifier.signal(VIDEO_EVENT_SIGNAL, event(WAITING, n))
            for n in range(1, 4):  # other videos
                await notifier.signal(VIDEO_EVENT_SIGNAL, event(ATTENTION, 10 + n))
                await received(hook, 1 + n)

            async def continued() -> bool:
                described = await first_run.describe()
                return described.status == WorkflowExecutionStatus.CONTINUED_AS_NEW

            await wait_until(continued)
            await notifier.signal(VIDEO_EVENT_SIGNAL, event(CHOSEN, 1, interval=1))
            await received(hook, 5)
            await record_notifier_history(client, "continued_as_new", first_run.run_id)

    assert hook.titles() == [
        "Choose a thumbnail: P0 vs Q0",
        "Needs attention: P11 vs Q11",
        "Needs attention: P12 vs Q12",
        "Needs attention: P13 vs Q13",
        "7 videos are waiting for a thumbnail choice",
    ]
    assert hook.received[1]["message"].startswith("md_P11vsQ11.mp4: problem 11")
    assert hook.received[4]["message"].splitlines()[:7] == [
        f"- P{n} vs Q{n} (md_P{n}vsQ{n}.mp4)" for n in range(2, 9)
    ]


async def test_recorded_notifier_histories_still_replay():
    histories = sorted(HISTORIES.glob("*.json"))
    assert histories, "tests/histories/notifier/ holds histories exported from real runs"
    replayer = Replayer(workflows=[NotifierWorkflow])
    for path in histories:
        await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
