"""What the clock or a person fixes is waited out, not failed; a choice is never asked twice;
hostile input is bounded. Real dev server (with the embedded server's payload limit), real
clips, the fake YouTube with its faults, a real full disk (a small tmpfs)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError

import config
from cleanup import CLEANUP_FILE
from temporal import client as temporal_client
from temporal.activities import attention_for_os_error, quota_resume_time
from temporal.messages import (
    CLEANING_UP,
    NEEDS_ATTENTION,
    THUMBNAIL_SELECTED_SIGNAL,
    UPLOADING,
    VIDEO_STAGE,
    WAITING_FOR_QUOTA,
    WAITING_FOR_SELECTION,
    VideoStatus,
)
from tests.fake_youtube import QUOTA_MESSAGE, FakeYouTube
from tests.temporal_support import (
    activities_of_host,
    add_video,
    result_of,
    running_worker,
    wait_for_stage,
    wait_until,
)
from tests.test_temporal_cli import ROOT, cli_async
from tests.test_temporal_workflow import record_history, start, typed_handle, unique_name
from workspace import workspace_dir
from youtube.errors import THUMBNAIL_REFUSED_RETRY

PACIFIC = ZoneInfo("America/Los_Angeles")
MIB = 1024 * 1024


async def stages_entered(client: Client, workflow_id: str) -> list[str]:
    """Every VideoStage the latest run upserted, in order."""
    handle = client.get_workflow_handle(workflow_id)
    stages = []
    async for event in handle.fetch_history_events():
        if event.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = event.upsert_workflow_search_attributes_event_attributes
            payload = fields.search_attributes.indexed_fields.get(VIDEO_STAGE.name)
            if payload is not None:
                stages.append(payload.data.decode().strip('"'))
    return stages


async def events_of(client: Client, workflow_id: str, kind: int) -> int:
    handle = client.get_workflow_handle(workflow_id)
    return len([e async for e in handle.fetch_history_events() if e.event_type == kind])


def test_the_quota_resumes_after_the_next_pacific_midnight_staggered_per_video():
    hit = datetime(2025, 3, 8, 23, 0, tzinfo=PACIFIC)  # the night before daylight saving time
    first = quota_resume_time(hit.astimezone(UTC), "md-avsb-000001")
    second = quota_resume_time(hit.astimezone(UTC), "md-cvsd-000002")
    for resume in (first, second):
        local = resume.astimezone(PACIFIC)
        assert local.date() == hit.date() + timedelta(days=1)
        assert timedelta(minutes=5) <= local - local.replace(hour=0, minute=0, second=0)
        assert local - local.replace(hour=0, minute=0, second=0) < timedelta(minutes=30)
    assert first != second  # not every video calls YouTube at the same second
    after_midnight = datetime(2025, 3, 9, 0, 1, tzinfo=PACIFIC)
    assert quota_resume_time(after_midnight, "x").astimezone(PACIFIC).date().day == 10


def test_a_disk_error_names_the_path_and_the_cause(tmp_path):
    full = attention_for_os_error(OSError(28, "No space left on device"), [tmp_path])
    assert str(tmp_path) in str(full) and "the disk is full (ENOSPC" in str(full)
    denied = attention_for_os_error(PermissionError(13, "Permission denied", "/srv/v/a.mp4"), [])
    assert "/srv/v/a.mp4: permission denied (EACCES" in str(denied)
    assert attention_for_os_error(ConnectionResetError(104, "reset"), []) is None


async def test_a_used_up_quota_waits_then_completes_after_retry_with_one_video_and_no_second_choice(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, youtube
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    pipeline_env(CAFE_TIMEZONE="Asia/Ho_Chi_Minh")
    youtube.fail("videos.insert", 403, "quotaExceeded", QUOTA_MESSAGE, times=None)
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        second = status.candidates[1].id
        chosen = await cli_async("select", workflow_id, "--pick", "2", address=address)
        held = await wait_for_stage(handle, WAITING_FOR_QUOTA)
        shown = await cli_async("status", workflow_id, address=address)
        pending = await cli_async("pending", address=address)
        rows = json.loads((await cli_async("pending", "--json", address=address)).stdout)
        number = next(row["number"] for row in rows if row["workflow_id"] == workflow_id)

        refused = await cli_async("retry", str(number), address=address)  # still used up
        again = await wait_for_a_new_hold(handle, held.hold.since)
        youtube.stop_failing("videos.insert")  # midnight in California
        retried = await cli_async("retry", "--all", address=address)
        result = await result_of(handle)
        not_held = await cli_async("retry", workflow_id, address=address)

    assert chosen.returncode == 0 and "Rank 2 chosen for" in chosen.stdout
    assert result.selected_candidate_id == second
    assert held.hold.stage == UPLOADING and "quotaExceeded" in held.hold.problem
    assert "main_temporal.py" not in held.hold.problem  # the CLI words the remedy:
    assert f"goes on by itself (`python main_temporal.py retry {workflow_id}` tries sooner)" in (
        pending.stdout
    )
    assert "--retry-failed" not in pending.stdout
    retry_at = datetime.fromisoformat(held.hold.retry_at)
    assert retry_at - datetime.now(UTC) < timedelta(hours=25)
    assert retry_at.astimezone(PACIFIC).hour == 0  # just after midnight Pacific time
    at_the_cafe = retry_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert f"{at_the_cafe:%a %d %b %H:%M} (Asia/Ho_Chi_Minh)" in shown.stdout
    assert "waiting for YouTube's daily limit" in shown.stdout
    assert workflow_id in pending.stdout and "waiting for YouTube's daily limit" in pending.stdout
    assert f"  {number}. {video.name} | host: " in pending.stdout  # numbered, as for select
    assert refused.returncode == 0, refused.stdout + refused.stderr
    assert f"{workflow_id}: was {WAITING_FOR_QUOTA}; its step runs again now" in refused.stdout
    assert again.hold.since > held.hold.since
    assert retried.returncode == 0 and workflow_id in retried.stdout
    assert not_held.returncode == 1 and "has already ended (completed)" in not_held.stdout

    assert result.selected_candidate_id == second
    assert len(youtube.videos) == 1
    assert [c.status for c in youtube.calls_named("videos.insert")] == [403, 403, 200]
    stages = await stages_entered(client, workflow_id)
    assert stages.count(WAITING_FOR_SELECTION) == 1  # the choice was asked once
    assert stages.count(WAITING_FOR_QUOTA) == 2 and stages[-1] == "COMPLETED"
    await record_history(client, workflow_id, "quota_waited_then_retried")


async def test_a_full_disk_waits_in_needs_attention_and_completes_once_space_is_freed(
    temporal_env, pipeline_env, clip_cache, env, small_disk
):
    disk = small_disk("publish-disk", 2048)  # the clip is about 250 KB
    publish_dir = disk.path / "published"
    pipeline_env(
        PUBLISH_DIR=str(publish_dir), ATTENTION_RETRY_INTERVAL="2s", SELECTION_TIMEOUT="1s"
    )
    client = temporal_env.client
    address = client.service_client.config.target_host
    disk.fill()
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        held = await wait_for_stage(handle, NEEDS_ATTENTION)
        shown = await cli_async("status", workflow_id, address=address)
        table = await cli_async("status", address=address)
        await wait_for_a_new_hold(handle, held.hold.since)  # tried again by itself: still full
        disk.free()
        result = await result_of(handle)

    assert held.hold.stage == UPLOADING
    assert "the disk is full (ENOSPC" in held.hold.problem and str(disk.path) in held.hold.problem
    assert "main_temporal.py" not in held.hold.problem
    assert f"Once fixed, `python main_temporal.py retry {workflow_id}` goes on at once" in (
        shown.stdout
    )
    assert "needs attention: UPLOADING is tried again" in shown.stdout
    assert "the disk is full" in shown.stdout and "NEEDS_ATTENTION" in table.stdout
    published = Path(result.published.url.removeprefix("file://"))
    assert (published / video.name).stat().st_size == (
        env / "completed" / video.name
    ).stat().st_size
    assert [p.name for p in publish_dir.iterdir()] == [published.name]  # no .partial left
    await record_history(client, workflow_id, "disk_full_waited")


async def test_a_cleanup_a_person_must_sort_out_waits_and_never_names_a_batch_command(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(ATTENTION_RETRY_INTERVAL="1h")
    client = temporal_env.client
    address = client.service_client.config.target_host
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        plan = workspace_dir(video) / CLEANUP_FILE
        plan.write_text('{"source_video": 1}')  # a cleanup plan damaged by a crash
        await temporal_client.choose(client, workflow_id, str(video), status.candidates[0].id)
        held = await wait_for_stage(handle, NEEDS_ATTENTION)
        listed = await cli_async("pending", address=address)
        plan.unlink()  # as the reason says
        retried = await cli_async("retry", workflow_id, address=address)
        result = await result_of(handle)

    assert held.hold.stage == CLEANING_UP and "delete this file" in held.hold.problem
    assert str(plan) in held.hold.problem and "cleanup again" not in listed.stdout
    assert f"python main_temporal.py retry {workflow_id}" in listed.stdout
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert (env / "completed" / video.name).is_file() and result.published.url


async def test_a_revoked_token_waits_for_auth_and_the_video_goes_on_after_it(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, youtube
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    secrets = env / "client_secrets.json"
    secrets.write_text(json.dumps(youtube.client_secrets()))
    pipeline_env(
        GOOGLE_CLIENT_SECRETS=str(secrets),
        YOUTUBE_AUTH_PORT="0",
        OAUTHLIB_INSECURE_TRANSPORT="1",  # the fake's token endpoint is plain http
        ATTENTION_RETRY_INTERVAL="1h",
        SELECTION_TIMEOUT="1s",
    )
    youtube.revoke_grant()  # the café's Google account removed the app's access
    video = add_video(clip_cache, env / "videos", unique_name())
    elsewhere = add_video(clip_cache, env / "videos", unique_name("ms_HuyvsViet"))
    settings = config.get_settings()
    laptop = f"{settings.worker_name}-laptop"
    async with running_worker(client), activities_of_host(client, laptop):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        other = await temporal_client.start_video(client, elsewhere, settings, host=laptop)
        other_handle = typed_handle(client, other.workflow_id)
        held = await wait_for_stage(handle, NEEDS_ATTENTION)
        other_held = await wait_for_stage(other_handle, NEEDS_ATTENTION)
        listed = await cli_async("pending", "--json", address=address)
        authorized = await asyncio.to_thread(run_auth, youtube, address)
        result = await result_of(handle)
        still = await temporal_client.query_status(other_handle)
        await temporal_client.cancel(client, other.workflow_id)

    host = settings.worker_name  # its token is the one to renew
    assert held.hold.redo == "auth" and "main_temporal.py" not in held.hold.problem
    row = next(r for r in json.loads(listed.stdout) if r["workflow_id"] == workflow_id)
    assert row["stage"] == NEEDS_ATTENTION and "authorize again" in row["reason"]
    assert f"run `python main_temporal.py auth` on {host}" in row["reason"]
    assert authorized.returncode == 0, authorized.stdout + authorized.stderr
    assert f"{workflow_id} ({video.name}): goes on now." in authorized.stdout
    assert result.published.video_id in youtube.videos
    # the laptop's token was not renewed here: its video was not retried, and auth says so
    assert f"{other.workflow_id} ({elsewhere.name}): goes on now" not in authorized.stdout
    assert (
        f"{other.workflow_id} ({elsewhere.name}): waits for `python main_temporal.py auth` "
        f"on {laptop}" in authorized.stdout
    )
    assert still.stage == NEEDS_ATTENTION and still.hold.since == other_held.hold.since


def run_auth(youtube: FakeYouTube, address: str) -> subprocess.CompletedProcess:
    """`main_temporal.py auth` as a person runs it: open the printed URL, approve."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main_temporal.py"), "auth"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "COLUMNS": "250"},
    )
    printed = ""
    while not (found := re.search(r"http\S+/o/oauth2/auth\?\S+", printed)):
        line = process.stdout.readline()
        assert line, f"no URL printed: {printed}"
        printed += line
    with urllib.request.urlopen(youtube.consent(found.group(0)), timeout=30) as answer:
        assert "authorized" in answer.read().decode()
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, printed + stdout, stderr)


async def test_the_choice_survives_start_retry_failed_and_rechoose_asks_again(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, youtube
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    pipeline_env()
    youtube.fail("videos.insert", 400, "invalidDescription", "Bad description.", times=2)
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        offered = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        chose = await cli_async("select", workflow_id, "--pick", "3", address=address)
        with pytest.raises(WorkflowFailureError):
            await result_of(handle)

        kept = await cli_async("start", "--retry-failed", str(video), address=address)
        with pytest.raises(WorkflowFailureError):
            await result_of(typed_handle(client, workflow_id))  # YouTube refused again
        kept_stages = await stages_entered(client, workflow_id)
        await record_history(client, workflow_id, "choice_kept_after_retry_failed")

        anew = await cli_async("start", "--retry-failed", "--rechoose", str(video), address=address)
        status = await wait_for_stage(typed_handle(client, workflow_id), WAITING_FOR_SELECTION)
        await cli_async("select", workflow_id, "--pick", "1", address=address)
        result = await result_of(typed_handle(client, workflow_id))
        shown = await cli_async("status", workflow_id, address=address)

    assert f"Rank 3 chosen for {video.name}" in chose.stdout
    third = offered.candidates[2].id
    assert f"started, keeping the choice {third}" in kept.stdout
    assert WAITING_FOR_SELECTION not in kept_stages and "SELECTING" in kept_stages
    assert "started" in anew.stdout and "keeping" not in anew.stdout
    assert result.selected_candidate_id == status.candidates[0].id != third
    assert f"chosen: {result.selected_candidate_id}" in shown.stdout


async def test_hostile_choices_are_refused_and_status_and_select_keep_working(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        raw = client.get_workflow_handle(workflow_id)

        for _ in range(60):  # refused by the server: nothing reaches the history
            with pytest.raises(RPCError, match="exceeds limit"):
                await raw.signal(THUMBNAIL_SELECTED_SIGNAL, {"selected_frame": "x" * MIB})
        reasons = []
        for payload in (
            {"selected_frame": "y" * 50_000},
            {"selected_frame": 5},
            "just a string",
            {"selected_frame": status.candidates[0].id, "extra": "field"},
        ):
            await raw.signal(THUMBNAIL_SELECTED_SIGNAL, payload)
            reasons.append(await rejection_after(handle, reasons))
        await raw.signal(THUMBNAIL_SELECTED_SIGNAL, args=[{}, {}])
        reasons.append(await rejection_after(handle, reasons))

        with pytest.raises(temporal_client.ChoiceRejectedError, match="not one of this video"):
            await temporal_client.choose(client, workflow_id, str(video), "another-videos-id")
        shown = await cli_async("status", workflow_id, address=address)
        chosen = await cli_async("select", workflow_id, "--pick", "2", address=address)
        result = await result_of(handle)

    assert "'yyyyyyyyyy" in reasons[0] and "(50000 characters)" in reasons[0]
    assert all(len(reason) < 300 for reason in reasons)
    assert "must be text" in reasons[1] and "got str" in reasons[2]
    assert "unknown field(s) 'extra'" in reasons[3] and "got dict, dict" in reasons[4]
    assert shown.returncode == 0 and WAITING_FOR_SELECTION in shown.stdout
    assert "last rejected choice: expected one JSON object" in shown.stdout
    assert len(shown.stdout) < 5000
    assert chosen.returncode == 0 and f"Rank 2 chosen for {video.name}" in chosen.stdout
    assert result.selected_candidate_id == status.candidates[1].id
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    assert await events_of(client, workflow_id, accepted) == 1  # the refused one left no trace
    signals = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    assert await events_of(client, workflow_id, signals) == 5
    await record_history(client, workflow_id, "hostile_signals_then_update")


async def wait_for_a_new_hold(handle, since: str) -> VideoStatus:
    """The status once the held step ran again and was held again."""
    for _ in range(300):
        status = await temporal_client.query_status(handle)
        if status.hold is not None and status.hold.since > since:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError("the held step did not run again")


async def rejection_after(handle, earlier: list[str]) -> str:
    """The reason of the rejection that followed the last signal."""
    for _ in range(100):
        rejected = (await temporal_client.query_status(handle)).rejected_selection
        if rejected is not None and rejected.reason not in earlier[-1:]:
            return rejected.reason
        await asyncio.sleep(0.1)
    raise AssertionError("the signal was not refused")


async def test_an_upload_that_cannot_reach_youtube_keeps_retrying_and_status_says_why(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, youtube
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    pipeline_env(SELECTION_TIMEOUT="1s")
    youtube.fail("thumbnails.set", 503, "backendError", "Backend Error", times=None)  # down
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)

        async def retrying() -> bool:
            return bool(temporal_client.retrying_activities(await handle.describe()))

        await wait_until(retrying)
        shown = await cli_async("status", workflow_id, address=address)
        youtube.stop_failing("thumbnails.set")  # the internet is back
        result = await result_of(handle)

    assert "retrying UPLOADING: attempt 2 (no limit), next at " in shown.stdout
    assert "last failure: UploadInterruptedError: " in shown.stdout
    assert "thumbnails.set failed 4 times in a row (HTTP 503)" in shown.stdout
    assert result.published.video_id in youtube.videos and len(youtube.videos) == 1
    policy = await upload_retry_policy(client, workflow_id)
    assert policy.maximum_attempts == 0  # no limit: an outage is waited out, never failed
    assert policy.maximum_interval.ToTimedelta() == timedelta(minutes=10)
    assert policy.non_retryable_error_types == []  # bad input is non-retryable where raised


async def upload_retry_policy(client: Client, workflow_id: str):
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == "upload_video":
                return scheduled.retry_policy
    raise AssertionError("no upload was scheduled")


async def test_a_refused_thumbnail_waits_hours_not_minutes_and_retry_goes_on_at_once(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, youtube
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    pipeline_env(
        SELECTION_TIMEOUT="1s", ATTENTION_RETRY_INTERVAL="2s", CAFE_TIMEZONE="Asia/Ho_Chi_Minh"
    )
    youtube.fail(
        "thumbnails.set",
        403,
        "forbidden",
        "The authenticated user doesn't have permissions to upload and set custom video "
        "thumbnails.",
        times=None,
    )
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        held = await wait_for_stage(handle, NEEDS_ATTENTION)
        shown = await cli_async("status", workflow_id, address=address)
        youtube.stop_failing("thumbnails.set")  # the channel was verified
        retried = await cli_async("retry", workflow_id, address=address)
        result = await result_of(handle)

    since, retry_at = (datetime.fromisoformat(t) for t in (held.hold.since, held.hold.retry_at))
    assert retry_at - since >= THUMBNAIL_REFUSED_RETRY - timedelta(minutes=1)  # not 2 s
    at_the_cafe = retry_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert f"UPLOADING is tried again at {at_the_cafe:%a %d %b %H:%M}" in shown.stdout
    assert "must be verified for custom thumbnails" in shown.stdout
    assert retried.returncode == 0, retried.stdout + retried.stderr
    # refused once, then set once after the retry: no refusal every 2 s meanwhile
    assert [call.status for call in youtube.calls_named("thumbnails.set")] == [403, 200]
    assert result.published.video_id in youtube.videos
    await record_history(client, workflow_id, "thumbnail_refused_waited")
