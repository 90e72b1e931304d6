"""Videos as they arrive: the watcher and `start` against a real dev server, with real clips.

One workflow per recording whatever the timing (a slow copy, two watchers, a rename back and
forth), a rematch under yesterday's name is a new video, a replaced source is noticed before it
is used, and a bad file is refused before anything starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from typer.testing import CliRunner

import config
import ingest
import main_temporal
from operator_cli.events import event_line
from operator_cli.remedies import start_text
from temporal import client as temporal_client
from temporal import feed
from temporal.client import StartOutcome
from temporal.messages import (
    NEEDS_ATTENTION,
    VIDEO_FILE,
    VIDEO_FINGERPRINT,
    WAITING_FOR_QUOTA,
    WAITING_FOR_SELECTION,
)
from temporal.watcher import FolderWatcher, ingest_file
from tests.fake_youtube import QUOTA_MESSAGE
from tests.temporal_support import (
    add_video,
    recording,
    result_of,
    running_worker,
    wait_for_stage,
    wait_until,
)
from tests.test_ingest import copy_going_on_while_read
from tests.test_temporal_cli import cli_async
from tests.test_temporal_workflow import typed_handle, unique_name
from workspace import UPLOAD_FILE, workspace_dir


async def workflows_where(client, query: str) -> list:
    return [execution async for execution in client.list_workflows(query)]


def pieces(data: bytes, count: int) -> list[bytes]:
    size = -(-len(data) // count)
    return [data[at : at + size] for at in range(0, len(data), size)]


def settled_long_ago(path: Path) -> Path:
    old = path.stat().st_mtime - 3600
    os.utime(path, (old, old))
    return path


async def test_a_file_copied_slowly_into_a_watched_folder_gets_exactly_one_workflow_and_completes(
    temporal_env, pipeline_env, clip_cache, env, caplog
):
    pipeline_env(WATCH_INTERVAL="0.2", INGEST_SETTLE="1.5", SELECTION_TIMEOUT="1s")
    caplog.set_level(logging.INFO, logger="temporal.watcher")
    client = temporal_env.client
    name = unique_name("xd_KhanhzVyvsZezTram").replace(".mp4", ".mkv")
    data = recording(clip_cache, ".mkv")  # half of a Matroska file is a readable video
    target = env / "videos" / name
    settings = config.get_settings()
    other_host = FolderWatcher(client, settings)  # a second watcher on the same folder
    stop_other = asyncio.Event()

    async with running_worker(client, FolderWatcher(client, settings)):
        other = asyncio.create_task(other_host.run(stop_other))
        with target.open("wb") as copy:
            for piece in pieces(data, 8):
                copy.write(piece)
                copy.flush()
                await asyncio.sleep(0.4)

        async def started() -> bool:
            return bool(await workflows_where(client, f'{VIDEO_FILE.name}="{name}"'))

        await wait_until(started)
        (execution,) = await workflows_where(client, f'{VIDEO_FILE.name}="{name}"')
        await result_of(client.get_workflow_handle(execution.id))
        await asyncio.sleep(1)  # both watchers keep scanning: still nothing new
        stop_other.set()
        await other

    runs = await workflows_where(client, f'{VIDEO_FILE.name}="{name}"')
    assert [run.id for run in runs] == [execution.id]
    assert (env / "completed" / name).read_bytes() == data
    watched = [r.getMessage() for r in caplog.records if r.getMessage().startswith(name)]
    assert sum("still being copied" in line for line in watched) == 2  # once per watcher
    assert sum(line.endswith(f": started ({execution.id})") for line in watched) == 1


async def test_a_copy_that_pauses_past_the_settle_time_ends_as_one_video(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(WATCH_INTERVAL="0.2", INGEST_SETTLE="0.5", ATTENTION_RETRY_INTERVAL="1h")
    client = temporal_env.client
    address = client.service_client.config.target_host
    name = unique_name("xd_KhanhzVyvsZezTram").replace(".mp4", ".mkv")
    data = recording(clip_cache, ".mkv")
    half, rest = data[: len(data) // 2], data[len(data) // 2 :]
    target = env / "videos" / name
    query = f'{VIDEO_FILE.name}="{name}"'
    outcomes: list[StartOutcome] = []
    watcher = FolderWatcher(client, config.get_settings(), report=outcomes.append)

    async def runs(count: int) -> bool:
        return len(await workflows_where(client, query)) >= count

    async with running_worker(client, watcher):
        target.write_bytes(half)  # the copy stalls here for longer than INGEST_SETTLE
        await wait_until(lambda: runs(1))
        (first,) = await workflows_where(client, query)
        first_handle = typed_handle(client, first.id)
        await wait_for_stage(first_handle, WAITING_FOR_SELECTION)
        with target.open("ab") as copy:
            copy.write(rest)  # and goes on
        await wait_until(lambda: runs(2))
        (second,) = [run for run in await workflows_where(client, query) if run.id != first.id]
        with pytest.raises(WorkflowFailureError):
            await result_of(first_handle)
        shown = await cli_async("status", first.id, address=address)
        ended = feed.ending(await temporal_client.outcome(client, first.id))
        second_handle = typed_handle(client, second.id)
        status = await wait_for_stage(second_handle, WAITING_FOR_SELECTION)
        await temporal_client.choose(client, second.id, str(target), status.candidates[0].id)
        result = await result_of(second_handle)

    assert (await first_handle.describe()).status == WorkflowExecutionStatus.CANCELED
    reason = f"superseded by the new content at {target.resolve()} ({second.id})"
    assert f"cancelled: {reason}" in shown.stdout and "CANCELED" in shown.stdout
    zone = config.get_settings().cafe_timezone
    assert event_line(ended, zone).text == f"{name}: cancelled: {reason}"  # what `up` says
    started = [outcome for outcome in outcomes if outcome.started]
    assert [outcome.workflow_id for outcome in started] == [first.id, second.id]
    replaces = f"({second.id}); it replaces {first.id} (the earlier content of this file"
    assert replaces in start_text(started[1])
    assert watcher.workflow_ids == [second.id]  # what `up --exit-when-done` waits for
    published = Path(result.published.url.removeprefix("file://")) / name
    assert published.read_bytes() == data  # the whole file, once
    assert len(list((env / "published").iterdir())) == 1


async def test_new_content_over_a_video_that_began_publishing_starts_and_leaves_it_for_a_person(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, youtube
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    pipeline_env(SELECTION_TIMEOUT="1s", ATTENTION_RETRY_INTERVAL="1h")
    youtube.fail("videos.insert", 403, "quotaExceeded", QUOTA_MESSAGE, times=None)
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        first = await ingest_file(client, video, config.get_settings())
        first_handle = typed_handle(client, first.workflow_id)
        await wait_for_stage(first_handle, WAITING_FOR_QUOTA)  # its upload began
        video.write_bytes(recording(clip_cache))  # another recording copied over it
        started = await cli_async("start", str(video), address=address)
        still = await temporal_client.query_status(first_handle)
        second_id = temporal_client.workflow_id_for(video)
        for workflow_id in (first.workflow_id, second_id):
            await temporal_client.cancel(client, workflow_id)

    assert started.returncode == 0, started.stdout + started.stderr
    kept = f"{first.workflow_id} (the earlier content of this file) had begun publishing"
    assert f"{video.name}: started ({second_id}); {kept}: it stays for a person" in started.stdout
    assert still.stage == WAITING_FOR_QUOTA  # not cancelled: a person decides
    assert second_id != first.workflow_id


async def test_a_file_renamed_back_and_forth_keeps_its_one_workflow(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(WATCH_INTERVAL="0.2")
    client = temporal_env.client
    first_name = unique_name()
    video = add_video(clip_cache, env / "videos", first_name)
    fingerprint = ingest.fingerprint(video)
    outcomes: list[StartOutcome] = []
    watcher = FolderWatcher(client, config.get_settings(), report=outcomes.append)

    async def reported(name: str, count: int = 1) -> None:
        async def seen() -> bool:
            return sum(outcome.video == name for outcome in outcomes) >= count

        await wait_until(seen)

    async with running_worker(client, watcher):
        await reported(first_name)
        workflow_id = outcomes[0].workflow_id
        handle = typed_handle(client, workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        renamed = video.rename(video.with_name(f"{video.stem}_Renamed{video.suffix}"))
        await reported(renamed.name)
        renamed.rename(video)
        await reported(first_name, 2)
        await temporal_client.choose(client, workflow_id, str(video), status.candidates[0].id)
        await result_of(handle)

    assert [o.started for o in outcomes] == [True, False, False]
    assert outcomes[1].workflow_id == workflow_id
    assert f"the same recording as {first_name}, already running" in outcomes[1].message
    assert "already running" in outcomes[2].message
    same = await workflows_where(client, f'{VIDEO_FINGERPRINT.name}="{fingerprint}"')
    assert [run.id for run in same] == [workflow_id]


async def test_a_rematch_under_yesterdays_name_is_a_new_video_with_its_own_workspace(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(CLEANUP_MODE="keep", SELECTION_TIMEOUT="1s")
    client = temporal_env.client
    settings = config.get_settings()
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        yesterday = await ingest_file(client, video, settings)
        await result_of(client.get_workflow_handle(yesterday.workflow_id))
        published_yesterday = (workspace_dir(video) / UPLOAD_FILE).read_text()
        copy = video.with_name(f"{video.stem}_Copy{video.suffix}")
        copy.write_bytes(video.read_bytes())  # the same recording under another name
        renamed_copy = await ingest_file(client, copy, settings)
        copy.unlink()

        video.write_bytes(recording(clip_cache))  # today's match, same name
        again = await ingest_file(client, video, settings)
        today = await result_of(typed_handle(client, again.workflow_id))

    assert not renamed_copy.started and renamed_copy.workflow_id == yesterday.workflow_id
    assert "the same recording" in renamed_copy.message and "already done" in renamed_copy.message
    assert again.started and again.workflow_id != yesterday.workflow_id
    asides = list((env / "workspace").glob(f"{video.name}.replaced-*"))
    assert len(asides) == 1 and (asides[0] / UPLOAD_FILE).read_text() == published_yesterday
    today_folder = Path(today.published.url.removeprefix("file://"))
    assert (today_folder / video.name).read_bytes() == video.read_bytes()
    assert len(list((env / "published").iterdir())) == 2


async def test_a_source_replaced_under_a_running_workflow_stops_it_before_use(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(ATTENTION_RETRY_INTERVAL="1h")
    client = temporal_env.client
    address = client.service_client.config.target_host
    video = add_video(clip_cache, env / "videos", unique_name())
    original = video.read_bytes()
    async with running_worker(client):
        outcome = await ingest_file(client, video, config.get_settings())
        handle = typed_handle(client, outcome.workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        video.write_bytes(recording(clip_cache))  # another recording copied over it

        await temporal_client.choose(client, handle.id, str(video), status.candidates[0].id)
        held = await wait_for_stage(handle, NEEDS_ATTENTION)
        shown = await cli_async("status", handle.id, address=address)
        video.write_bytes(original)  # the operator puts the right file back
        retried = await cli_async("retry", handle.id, address=address)
        result = await result_of(handle)

    assert "holds another recording" in held.hold.problem and str(video) in held.hold.problem
    assert "nothing of it was used or published" in held.hold.problem
    assert "needs attention" in shown.stdout and "holds another recording" in shown.stdout
    assert f"python main_temporal.py retry {handle.id}" in shown.stdout
    assert retried.returncode == 0, retried.stdout + retried.stderr
    published = Path(result.published.url.removeprefix("file://")) / video.name
    assert published.read_bytes() == original


async def test_start_refuses_bad_files_and_waits_for_copies_before_anything_starts(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(INGEST_SETTLE="30")
    client = temporal_env.client
    address = client.service_client.config.target_host
    misnamed = settled_long_ago(add_video(clip_cache, env / "videos", "match1.mp4"))
    not_a_video = env / "videos" / unique_name()
    not_a_video.write_text("an e-mail saved with the wrong name")
    settled_long_ago(not_a_video)
    copying = add_video(clip_cache, env / "videos", unique_name())
    good = settled_long_ago(add_video(clip_cache, env / "videos", unique_name()))

    result = await cli_async("start", address=address)

    lines = result.stdout.splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    refused_name = next(line for line in lines if line.startswith("match1.mp4: skipped: "))
    assert "rename it as {type}_{team1}vs{team2}" in refused_name
    assert f"{not_a_video.name}: skipped: not a video file" in result.stdout
    assert f"{copying.name}: skipped: still being copied" in result.stdout
    assert f"{good.name}: started" in result.stdout
    for skipped in (misnamed, not_a_video, copying):
        assert not await workflows_where(client, f'{VIDEO_FILE.name}="{skipped.name}"')
    for execution in await workflows_where(client, f'{VIDEO_FILE.name}="{good.name}"'):
        await temporal_client.cancel(client, execution.id)


async def test_the_watcher_reports_a_refused_file_once_and_again_only_when_it_changes(
    temporal_env, pipeline_env, env
):
    client = temporal_env.client
    outcomes: list[StartOutcome] = []
    watcher = FolderWatcher(client, config.get_settings(), report=outcomes.append)
    misnamed = env / "videos" / "match1.mp4"
    misnamed.write_bytes(b"not even a video")
    for _ in range(3):
        await watcher.scan_once()
    assert [(o.video, o.refused) for o in outcomes] == [("match1.mp4", True)]
    misnamed.write_bytes(b"copied again, still misnamed")
    await watcher.scan_once()
    assert len(outcomes) == 2


async def test_start_given_a_folder_says_it_is_one_and_what_to_pass(
    temporal_env, pipeline_env, clip_cache, env
):
    address = temporal_env.client.service_client.config.target_host
    folder = env / "videos"
    add_video(clip_cache, folder, unique_name())

    result = await cli_async("start", str(folder), address=address)

    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert f"{folder}: skipped: it is a folder; name the videos in it" in result.stdout
    assert "no such file" not in result.stdout


def test_a_file_removed_just_before_start_looks_at_it_is_one_line(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host)
    video = add_video(clip_cache, env / "videos", unique_name())
    seen_as_a_file = Path.is_file

    def removed_right_after_the_check(path: Path) -> bool:
        answer = seen_as_a_file(path)
        if path == video:
            video.unlink(missing_ok=True)  # a person moves it away at that very moment
        return answer

    monkeypatch.setattr(Path, "is_file", removed_right_after_the_check)
    result = CliRunner().invoke(main_temporal.app, ["start", str(video)])

    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.output.splitlines() == [
        f"{video.name}: skipped: it is gone (moved away meanwhile)"
    ]


async def test_a_file_that_changes_while_it_is_read_starts_nothing_until_it_settles(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch
):
    client = temporal_env.client
    video = add_video(clip_cache, env / "videos", unique_name())
    with monkeypatch.context() as copying:
        copying.setattr(ingest, "open", copy_going_on_while_read(video), raising=False)
        outcome = await ingest_file(client, video, config.get_settings())

    assert not outcome.started and not outcome.refused
    assert "still being copied (it changed while it was read" in outcome.message
    assert not await workflows_where(client, f'{VIDEO_FILE.name}="{video.name}"')
    settled = await ingest_file(client, video, config.get_settings())  # the copy is over
    assert settled.started and settled.workflow_id == temporal_client.workflow_id_for(video)
    await temporal_client.cancel(client, settled.workflow_id)
