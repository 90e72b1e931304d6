"""What a fault matrix found (issue 22), against a real dev server, real workers and clips and
tests/fake_youtube.py: a published video never fails for its playlist, and a later `retry` adds
it; a choice made while no worker runs is kept; a bad name is refused at once; a quota hold is
one line of the worker's log."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError

import config
import notify
from ingest import FolderTracker
from operator_cli.events import event_line
from temporal import client as temporal_client
from temporal.client.describe import VideoOutcome
from temporal.client.queries import description_or_none
from temporal.feed import ending
from temporal.messages import (
    WAITING_FOR_QUOTA,
    WAITING_FOR_SELECTION,
    VideoStatus,
    playlist_retry_id,
)
from temporal.watcher import FolderWatcher
from tests.fake_youtube import QUOTA_MESSAGE
from tests.temporal_support import (
    add_video,
    history_json,
    result_of,
    running_worker,
    wait_for_stage,
    wait_until,
)
from tests.test_temporal_cli import cli_async
from tests.test_temporal_holds import wait_for_a_new_hold
from tests.test_temporal_workflow import HISTORIES, history_texts, start, typed_handle, unique_name
from tests.test_web_temporal import chooser
from web.source import ChoiceStatus, SourceError
from web.temporal_source import TemporalVideoSource

OPEN_CUP = "md_AnzBinhvsChizDung_<Open> Cup.mp4"  # the issue's own steps


async def record_history_v4(client: Client, workflow_id: str, scenario: str) -> None:
    """With RECORD_HISTORIES=1, export this run's history as `v4-22-<scenario>.json`."""
    if os.environ.get("RECORD_HISTORIES"):
        path = HISTORIES / f"v4-22-{scenario}.json"
        path.write_text(await history_json(client, workflow_id))


def read_page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as page:
        return page.read().decode()


async def retry_ended(client: Client, workflow_id: str) -> bool:
    """Whether the playlist retry of the video's workflow has ended (then it must complete)."""
    description = await description_or_none(client, playlist_retry_id(workflow_id))
    if description is None or description.status == WorkflowExecutionStatus.RUNNING:
        return False
    assert description.status == WorkflowExecutionStatus.COMPLETED, description.status
    return True


async def test_the_issues_tournament_with_angle_brackets_completes_in_a_playlist_youtube_takes(
    temporal_env, pipeline_env, clip_cache, env, youtube
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    video = add_video(clip_cache, env / "videos", OPEN_CUP)
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        await wait_for_stage(handle, WAITING_FOR_SELECTION)
        chosen = await cli_async("select", workflow_id, "--pick", "1", address=address)
        result = await result_of(handle)

    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert result.published.playlist == "‹Open› Cup" and result.published.playlist_problem is None
    (playlist,) = youtube.playlists.values()
    assert playlist.title == "‹Open› Cup" and playlist.video_ids == [result.published.video_id]
    assert (env / "completed" / video.name).is_file() and not video.exists()


async def test_a_playlist_youtube_refuses_completes_the_video_says_why_once_and_retry_adds_it(
    temporal_env, pipeline_env, clip_cache, env, youtube
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    pipeline_env(VIDEO_PRIVACY_STATUS="unlisted")
    refusal = "The playlist title is invalid."
    youtube.fail("playlists.insert", 400, "invalidPlaylistSnippet", refusal, times=None)
    video = add_video(clip_cache, env / "videos", OPEN_CUP)
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        await wait_for_stage(handle, WAITING_FOR_SELECTION)
        await cli_async("select", workflow_id, "--pick", "1", address=address)
        result = await result_of(handle)
        shown = await cli_async("status", workflow_id, address=address)
        recent = await cli_async("status", address=address)
        async with chooser(client) as url:
            page = ""

            async def page_lists_it() -> bool:  # a busy machine may show a listing error first
                nonlocal page
                page = await asyncio.to_thread(read_page, url + "/")
                return workflow_id in page

            await wait_until(page_lists_it)

        youtube.stop_failing("playlists.insert")  # fixed (in YouTube Studio, say)
        retried = await cli_async("retry", workflow_id, address=address)
        await wait_until(lambda: retry_ended(client, workflow_id))
        after = await cli_async("status", workflow_id, address=address)
        nothing_left = await cli_async("retry", workflow_id, address=address)

    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED  # never FAILED
    assert (env / "completed" / video.name).is_file() and not video.exists()  # archived
    on_youtube = youtube.videos[result.published.video_id]
    assert on_youtube.status["privacyStatus"] == "unlisted"  # still out, never un-published
    problem = (
        "not added to the playlist '‹Open› Cup': YouTube rejected playlists.insert "
        f"(HTTP 400 invalidPlaylistSnippet): {refusal.rstrip('.')}"
    )
    assert result.published.playlist_problem == problem
    assert shown.stdout.count(problem) == 1, shown.stdout  # once, with the title quoted
    assert f"Once fixed: ./cafe retry {workflow_id}" in shown.stdout
    assert recent.stdout.count(problem) == 1, recent.stdout
    assert html.unescape(page).count(f"Published, but {problem}.") == 1  # the web page
    assert "Once it is fixed, Retry adds it." in page

    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"{workflow_id}: its playlist step runs again now" in retried.stdout
    (playlist,) = youtube.playlists.values()
    assert playlist.title == "‹Open› Cup" and playlist.video_ids == [result.published.video_id]
    assert "added since to its playlist '‹Open› Cup'" in after.stdout, after.stdout
    assert "Once fixed" not in after.stdout
    assert nothing_left.returncode == 1 and "nothing to retry" in nothing_left.stdout
    assert len(youtube.calls_named("videos.insert")) == 1
    assert (await handle.describe()).run_id == description.run_id  # its own run untouched
    await record_history_v4(client, workflow_id, "playlist_refused_completed")


def test_every_history_of_issue_22_is_recorded_and_names_no_command():
    recorded = sorted(HISTORIES.glob("v4-22-*.json"))
    assert [path.name for path in recorded] == [
        "v4-22-choice_kept_then_cancelled.json",
        "v4-22-choice_kept_without_worker.json",
        "v4-22-playlist_refused_completed.json",
    ]
    for path in recorded:
        texts = [text for _, text in history_texts(json.loads(path.read_text()))]
        assert not [text for text in texts if "main_temporal.py" in text], path.name
    refused = HISTORIES / "v4-22-playlist_refused_completed.json"
    texts = [text for _, text in history_texts(json.loads(refused.read_text()))]
    assert any("i22-playlist-problem" in text for text in texts)  # the patch
    assert any("not added to the playlist" in text for text in texts)  # in the memo


def test_the_notification_of_a_video_published_without_its_playlist_says_why_and_the_retry():
    problem = "not added to the playlist '‹Open› Cup': YouTube rejected playlists.insert"
    message = notify.published_message(
        OPEN_CUP, "An/Binh vs Chi/Dung", "https://youtu.be/x1", problem
    )
    assert message.kind == "warning" and message.title.startswith("Published, not in its playlist")
    assert message.body.count(problem) == 1
    # the file name quoted for a shell: `<` unquoted would redirect
    assert f"./cafe retry '{OPEN_CUP}'" in message.body
    plain = notify.published_message(OPEN_CUP, "An/Binh vs Chi/Dung", "https://youtu.be/x1")
    assert plain.kind == "success" and "playlist" not in plain.body


def test_up_says_a_video_was_published_without_its_playlist_and_how_to_add_it():
    outcome = VideoOutcome(
        "md-a-1",
        OPEN_CUP,
        WorkflowExecutionStatus.COMPLETED,
        "https://youtu.be/x1",
        playlist_problem="not added to the playlist '‹Open› Cup': YouTube rejected it",
    )
    line = event_line(ending(outcome), UTC)
    assert line.style == "yellow" and line.text == (
        f"published {OPEN_CUP}: https://youtu.be/x1, but not added to the playlist '‹Open› Cup': "
        "YouTube rejected it; once fixed, ./cafe retry md-a-1 adds it"
    )


# -- 2. a choice made while no worker runs is kept -----------------------------------------------


async def choice_signals(client: Client, workflow_id: str) -> int:
    handle = client.get_workflow_handle(workflow_id)
    return len(
        [
            event
            async for event in handle.fetch_history_events()
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        ]
    )


async def waiting_with_every_worker_down(
    client: Client, clip_cache: Path, env: Path
) -> tuple[Path, str, VideoStatus]:
    """A new video waiting for its choice, then every worker stopped: (file, id, status)."""
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        status = await wait_for_stage(typed_handle(client, workflow_id), WAITING_FOR_SELECTION)
    return video, workflow_id, status


async def test_a_choice_made_while_no_worker_runs_is_kept_and_the_video_goes_on_when_one_does(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    video, workflow_id, status = await waiting_with_every_worker_down(client, clip_cache, env)
    handle = typed_handle(client, workflow_id)
    second, third = status.candidates[1], status.candidates[2]
    wrong = await cli_async("select", workflow_id, "--pick", "9", address=address)
    source = TemporalVideoSource(client, config.get_settings())
    with pytest.raises(SourceError, match="not one of this video's candidates"):
        await source.choose(workflow_id, "frame_that_is_not_there")
    assert await choice_signals(client, workflow_id) == 0  # nothing recorded for a wrong one

    kept = await cli_async("select", workflow_id, "--pick", "2", address=address)
    on_the_phone = await source.choose(workflow_id, third.id)  # later, elsewhere
    again = await cli_async("select", workflow_id, "--pick", "3", address=address)
    assert await choice_signals(client, workflow_id) == 1  # the first choice, once
    async with running_worker(client):
        result = await result_of(handle)

    assert wrong.returncode == 1 and "no candidate has rank 9" in wrong.stdout + wrong.stderr
    assert kept.returncode == 0, kept.stdout + kept.stderr
    host = config.get_settings().worker_name
    assert (
        f"No worker runs {video.name} now: rank 2 ({second.id}) is recorded, and applied when "
        f"its worker runs (on {host})."
    ) in kept.stdout
    assert on_the_phone.status == ChoiceStatus.ALREADY_TAKEN  # the first choice stands
    assert on_the_phone.taken_candidate_id == second.id
    assert f"already has rank 2 ({second.id}) recorded" in on_the_phone.message
    assert f"{third.id} was not used" in on_the_phone.message
    assert again.returncode == 0 and "already has a choice recorded, rank 2" in again.stdout
    assert result.selected_candidate_id == second.id
    assert (env / "completed" / video.name).is_file()
    await record_history_v4(client, workflow_id, "choice_kept_without_worker")


async def test_a_video_cancelled_after_a_choice_kept_for_its_worker_stops_when_the_worker_runs(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    video, workflow_id, _ = await waiting_with_every_worker_down(client, clip_cache, env)
    handle = typed_handle(client, workflow_id)
    kept = await cli_async("select", workflow_id, "--pick", "1", address=address)
    cancelled = await cli_async("cancel", workflow_id, address=address)
    async with running_worker(client):
        with pytest.raises(WorkflowFailureError):
            await result_of(handle)

    assert kept.returncode == 0 and cancelled.returncode == 0, kept.stdout + cancelled.stdout
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    assert video.is_file() and not (env / "published").exists()  # nothing published
    await record_history_v4(client, workflow_id, "choice_kept_then_cancelled")


# -- 3. a bad name is refused at once -----------------------------------------------------------


def test_a_bad_name_still_being_copied_is_refused_at_the_first_scan_and_once(tmp_path):
    now = time.time()
    tracker = FolderTracker(settle_seconds=30, clock=lambda: now)
    misnamed = tmp_path / "match1.mp4"
    misnamed.write_bytes(b"x" * 10)  # just written: far from settled

    first = tracker.scan(tmp_path)
    misnamed.write_bytes(b"x" * 20)  # the copy goes on
    second = tracker.scan(tmp_path)

    assert [(skip.path, skip.refused) for skip in first.refused_names] == [(misnamed, True)]
    assert "rename it as {type}_{team1}vs{team2}" in first.refused_names[0].reason
    assert first.newly_settling == [] and first.settling == [] and first.ready == []
    assert second.refused_names == [] and second.newly_settling == []  # said once
    misnamed.rename(tmp_path / "md_AnzBinhvsChizDung.mp4")  # renamed: now it may settle
    assert [skip.path.name for skip in tracker.scan(tmp_path).newly_settling] == [
        "md_AnzBinhvsChizDung.mp4"
    ]


async def test_the_watcher_and_start_refuse_a_bad_name_without_waiting_for_it_to_settle(
    temporal_env, pipeline_env, clip_cache, env, caplog
):
    pipeline_env(INGEST_SETTLE="600", WATCH_INTERVAL="0.2")
    caplog.set_level(logging.INFO, logger="temporal.watcher")
    client = temporal_env.client
    address = client.service_client.config.target_host
    misnamed = add_video(clip_cache, env / "videos", "match1.mp4")  # fresh: not settled
    copying = add_video(clip_cache, env / "videos", unique_name())

    started = await cli_async("start", address=address)
    watcher = FolderWatcher(client, config.get_settings())
    await watcher.scan_once()
    await watcher.scan_once()

    assert "match1.mp4: skipped: " in started.stdout and "rename it as" in started.stdout
    assert "match1.mp4: waiting: still being copied" not in started.stdout
    assert f"{copying.name}: waiting: still being copied" in started.stdout  # a good one waits
    logged = [r for r in caplog.records if r.getMessage().startswith("match1.mp4")]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING
    assert "rename it as" in logged[0].getMessage()
    assert misnamed.is_file()


# -- 4. a quota hold is one line of the worker's log --------------------------------------------


async def test_each_quota_hold_writes_one_line_to_the_workers_log_with_when_it_goes_on(
    temporal_env, pipeline_env, clip_cache, env, youtube, caplog
):
    client = temporal_env.client
    pipeline_env(CAFE_TIMEZONE="Asia/Ho_Chi_Minh", SELECTION_TIMEOUT="1s")
    caplog.set_level(logging.INFO)
    youtube.fail("videos.insert", 403, "quotaExceeded", QUOTA_MESSAGE, times=None)
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        first = (await wait_for_stage(handle, WAITING_FOR_QUOTA)).hold
        await temporal_client.retry(client, workflow_id)  # still used up: held again
        second = (await wait_for_a_new_hold(handle, first.since)).hold
        await handle.cancel()

    lines = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith(f"{workflow_id}: {WAITING_FOR_QUOTA}")
    ]
    assert len(lines) == 2, lines  # one a hold, never one a retry of the upload
    for line, hold in zip(lines, (first, second), strict=True):
        at_the_cafe = datetime.fromisoformat(hold.retry_at).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert f"until {at_the_cafe:%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh)" in line
        assert "goes on by itself" in line and "quotaExceeded" in line
        assert "main_temporal.py" not in line  # the log of a worker, not a front end
