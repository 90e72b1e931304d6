"""The Temporal CLI's parts without a subprocess: what it prints, rendered from the operator
API's dataclasses; how holds of older versions still read; `up` composed in this process over a
real dev server; and which libraries the quick commands load (a real process for that)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes

import config
from operator_cli.events import event_line, outcome_lines, still_wait_line
from operator_cli.lines import Line, TableBlock
from operator_cli.remedies import error_line, hold_text, start_text
from operator_cli.up import UpOptions, run_up
from operator_cli.videos import (
    detail_json,
    detail_lines,
    pending_json,
    pending_lines,
    recent_json,
    recent_lines,
)
from temporal import client as temporal_client
from temporal.client import (
    Failure,
    HeldVideo,
    HostState,
    NoSuchNumberError,
    StartOutcome,
    VideoDetail,
    VideoOutcome,
    WaitingVideo,
    WorkflowEndedError,
    WorkflowSummary,
)
from temporal.client.ids import WORKFLOW_TYPE
from temporal.messages import (
    ATTENTION,
    FAILED,
    HOLD_FOR_ATTENTION,
    HOLD_FOR_QUOTA,
    MEMO_HOLD,
    NEEDS_ATTENTION,
    VIDEO_FILE,
    VIDEO_STAGE,
    WAITING,
    Hold,
    VideoEvent,
    hold_from_dict,
    hold_from_failure,
)
from tests.temporal_support import add_video, wait_for_stage
from tests.test_temporal_cli import ROOT
from tests.test_temporal_workflow import unique_name
from web.temporal_source import TemporalVideoSource

CAFE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 3, 8, 8, 0, tzinfo=UTC)
DISK_FULL = "/srv/videos: the disk is full (ENOSPC: No space left on device); free some space there"
TOKEN_REVOKED = "YouTube token /srv/token.json: revoked; authorize again"
RETRY_AT = "2025-03-08T09:30:00+00:00"  # 16:30 at the café
# The memo a video held by the version before typed holds keeps until its stage runs again.
OLD_MEMO_HOLD = {
    "stage": "NEEDS_ATTENTION",
    "step": "UPLOADING",
    "reason": f"{DISK_FULL}. Once fixed, `python main_temporal.py retry md-a-1` goes on at once; "
    "it is also tried again by itself.",
    "redo": None,
    "since": "2025-03-08T07:30:00+00:00",
    "retry_at": RETRY_AT,
}


def texts(blocks) -> list[str]:
    return [block.text for block in blocks if isinstance(block, Line)]


def held(problem: str = DISK_FULL, kind: str = HOLD_FOR_ATTENTION, redo: str | None = None):
    hold = Hold(kind, problem, redo, RETRY_AT, "UPLOADING", "2025-03-08T07:30:00+00:00")
    return HeldVideo("md-a-1", "md_AvsB.mp4", hold, "cafe-pc", "videos")


def test_pending_numbers_the_waiting_then_the_held_with_the_cli_remedy():
    waiting = [WaitingVideo("md-c-2", "md_CvsD.mp4", NOW - timedelta(minutes=75), "cafe-pc", "q")]
    hosts = {("q", "cafe-pc"): HostState("cafe-pc", False, None)}
    lines = texts(pending_lines(waiting, [held()], hosts, CAFE, NOW))
    assert lines[1] == "  1. md_CvsD.mp4 | host: cafe-pc (down) | waiting 1h 15m | md-c-2"
    assert lines[4] == (
        "  2. md_AvsB.mp4 | host: cafe-pc | needs attention: UPLOADING is tried again at Sat 08 "
        "Mar 16:30 (Asia/Ho_Chi_Minh) | md-a-1\n"
        f"    {DISK_FULL}. Once fixed, `python main_temporal.py retry md-a-1` goes on at once; it "
        "is also tried again by itself."
    )
    rows = pending_json(waiting, [held()])
    assert [row["number"] for row in rows] == [1, 2]
    assert rows[1]["stage"] == "NEEDS_ATTENTION" and rows[1]["retry_at"] == RETRY_AT
    assert "`python main_temporal.py retry md-a-1`" in rows[1]["reason"]
    assert texts(pending_lines([], [], {}, CAFE, NOW)) == [
        "No video is waiting for a thumbnail choice."
    ]


def test_each_kind_of_hold_gets_its_own_remedy():
    quota = held("md_AvsB.mp4: the YouTube daily API quota is used up", HOLD_FOR_QUOTA).hold
    assert hold_text(quota, "md-a-1", "cafe-pc").endswith(
        "goes on by itself (`python main_temporal.py retry md-a-1` tries sooner)."
    )
    token = held(TOKEN_REVOKED, redo="auth").hold
    assert hold_text(token, "md-a-1", "laptop") == (
        f"{TOKEN_REVOKED}: run `python main_temporal.py auth` on laptop (its token is the one "
        "used), the videos waiting for it go on (or `python main_temporal.py retry md-a-1` "
        "after fixing it otherwise)."
    )


def test_a_hold_of_the_version_before_reads_as_a_typed_one():
    from_memo = hold_from_dict(OLD_MEMO_HOLD)
    assert from_memo == held().hold  # its worded remedy cut off, its fields renamed
    # what its activity's failure carried, replayed by this version's workflow
    message = OLD_MEMO_HOLD["reason"]
    asked = hold_from_failure(message, ["attention", None, None])
    assert (asked.kind, asked.problem, asked.retry_at) == (HOLD_FOR_ATTENTION, DISK_FULL, None)
    quota = hold_from_failure(
        "md_A.mp4: quota used up. The video waits for the reset and goes on by itself "
        "(`python main_temporal.py retry x` tries sooner).",
        ["quota", RETRY_AT, "upload"],
    )
    assert (quota.kind, quota.problem, quota.retry_at) == (
        "quota",
        "md_A.mp4: quota used up",
        RETRY_AT,
    )
    assert hold_from_failure("bad input", []) is None
    assert hold_from_dict({"stage": "NEEDS_ATTENTION"}) is None  # not a hold: ignored
    old = HeldVideo("md-a-1", "md_AvsB.mp4", from_memo, "cafe-pc", "videos")
    line = texts(pending_lines([], [old], {}, CAFE, NOW))[2]
    assert line.count(DISK_FULL) == 1 and line.count("main_temporal.py retry") == 1  # once


async def test_a_video_held_by_the_version_before_shows_its_problem_once_with_each_remedy(
    own_temporal_env, env
):
    """A video that waits since before typed holds keeps that version's memo (its reason worded
    the CLI's remedy) until its stage runs again: `pending`, `status` and the web chooser read it
    as a typed hold, the problem once and their own remedy once. No worker runs its workflow."""
    client = own_temporal_env.client
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        id="md-a-1",
        task_queue="nobody-polls-this",
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(VIDEO_STAGE, NEEDS_ATTENTION),
                SearchAttributePair(VIDEO_FILE, "md_AvsB.mp4"),
            ]
        ),
        memo={"video_file": "md_AvsB.mp4", "host": "cafe-pc", MEMO_HOLD: OLD_MEMO_HOLD},
    )
    try:
        found = await temporal_client.pending(client)
        detail = await temporal_client.describe_video(client, handle.id)
        recent = await TemporalVideoSource(client, config.get_settings()).recent(10)
    finally:
        await handle.terminate()

    assert [video.hold for video in found.held] == [held().hold]
    listed = texts(pending_lines(found.waiting, found.held, found.hosts, CAFE, NOW))[2]
    assert listed.count(DISK_FULL) == 1 and listed.count("main_temporal.py retry md-a-1") == 1
    shown = "\n".join(texts(detail_lines(detail, CAFE)))
    assert shown.count(DISK_FULL) == 1 and shown.count("main_temporal.py retry md-a-1") == 1
    assert "needs attention: UPLOADING is tried again at Sat 08 Mar 16:30" in shown
    assert recent[0].hold.problem == DISK_FULL  # the page words its own (a Retry button)


def test_one_video_in_detail_and_as_json():
    detail = VideoDetail(
        "md-a-1",
        WorkflowExecutionStatus.FAILED,
        "FAILED",
        Failure("md_AvsB.mp4: the sidecar is not valid JSON", "prepare"),
        None,
        "md_AvsB.mp4",
        last_stage="PREPARING",
    )
    lines = texts(detail_lines(detail, CAFE))
    assert lines[0] == "md_AvsB.mp4 (md-a-1): FAILED"
    assert lines[-1] == (
        "  failed: md_AvsB.mp4: the sidecar is not valid JSON; start the video again with "
        "`python main_temporal.py start --retry-failed`."
    )
    row = detail_json(detail)
    assert row["execution_status"] == "FAILED" and row["last_stage"] == "PREPARING"
    assert row["failure"] == lines[-1].removeprefix("  failed: ")
    json.dumps(row, default=str)  # whole as JSON


def test_recent_videos_as_a_table_or_blocks_and_their_problems():
    summaries = [
        WorkflowSummary(
            "md-a-1", "md_AvsB.mp4", WorkflowExecutionStatus.RUNNING, "UPLOADING", NOW, 42
        ),
        WorkflowSummary(
            "md-c-2",
            "md_CvsD.mp4",
            WorkflowExecutionStatus.CANCELED,
            "CANCELED",
            NOW - timedelta(minutes=5),
            None,
            cancel_reason="superseded by the new content at /v/md_CvsD.mp4 (md-c-3)",
        ),
    ]
    table, problem = recent_lines(summaries, CAFE, NOW)
    assert isinstance(table, TableBlock)
    assert table.rows[0] == ("", "md_AvsB.mp4", "-", "UPLOADING 42%", "0m", "md-a-1")
    assert [line.text for line in table.narrow[:2]] == [
        "md_AvsB.mp4: UPLOADING 42%, 0m, host -",
        "  md-a-1",
    ]
    assert (
        problem.text
        == "md-c-2: cancelled: superseded by the new content at /v/md_CvsD.mp4 (md-c-3)"
    )
    assert recent_json(summaries)[1]["failure"] == problem.text.removeprefix("md-c-2: ")


def test_what_up_says_of_each_event_and_at_the_end():
    hold = held(TOKEN_REVOKED, redo="auth").hold
    attention = VideoEvent(ATTENTION, "md-a-1", "md_AvsB.mp4", hold=hold, host="cafe-pc")
    assert event_line(attention, CAFE) == Line(
        "md_AvsB.mp4: needs attention: UPLOADING is tried again at Sat 08 Mar 16:30 "
        f"(Asia/Ho_Chi_Minh): {hold_text(hold, 'md-a-1', 'cafe-pc')}",
        "yellow",
    )
    waiting = VideoEvent(WAITING, "md-a-1", "md_AvsB.mp4", number=3)
    assert event_line(waiting, CAFE) == Line(
        "waiting for your choice: select 3 (md_AvsB.mp4)", "cyan"
    )
    failed = VideoEvent(FAILED, "md-a-1", "md_AvsB.mp4", detail="no thumbnail", redo="select")
    assert event_line(failed, CAFE).text == (
        "md_AvsB.mp4 failed: no thumbnail; start the video again with `python main_temporal.py "
        "start --retry-failed --rechoose`."
    )
    ended = [
        VideoOutcome("md-a-1", "md_AvsB.mp4", WorkflowExecutionStatus.COMPLETED, "file:///p"),
        VideoOutcome("md-c-2", "md_CvsD.mp4", WorkflowExecutionStatus.FAILED, None, Failure("bad")),
    ]
    assert [line.text for line in outcome_lines(ended)] == [
        "md_AvsB.mp4 (md-a-1): completed",
        "md_CvsD.mp4 (md-c-2): FAILED bad",
    ]
    assert still_wait_line(1).text == "1 video still waits; run `up` again to go on"


def test_the_cli_words_the_remedies_the_operator_api_leaves_out():
    ended = WorkflowEndedError("md-a-1", WorkflowExecutionStatus.CANCELED, "nothing to cancel")
    assert str(ended) == "md-a-1 has already ended (canceled): nothing to cancel"
    assert error_line(ended) == (
        "md-a-1 has already ended (canceled): nothing to cancel (`python main_temporal.py start "
        "--retry-failed` runs it again)."
    )
    assert error_line(NoSuchNumberError(7, 2)) == (
        "No video number 7: `python main_temporal.py pending` numbers the 2 waiting from 1 to 2."
    )
    outcome = StartOutcome("md_AvsB.mp4", "already canceled", "md-a-1", can_run_again=True)
    assert start_text(outcome) == (
        "md_AvsB.mp4: already canceled; use `start --retry-failed` to run it again (md-a-1)"
    )


async def test_up_composed_in_this_process_runs_a_video_to_the_end(
    own_temporal_env, pipeline_env, clip_cache, env, monkeypatch
):
    address = own_temporal_env.client.service_client.config.target_host
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    video = add_video(clip_cache, env / "videos", unique_name())
    said: list[Line] = []
    options = UpOptions(pick=2, exit_when_done=True)

    failures = await asyncio.wait_for(
        run_up(config.get_settings(), options, asyncio.Event(), said.append), 180
    )

    lines = [line.text for line in said]
    assert failures == 0, lines
    assert f"Temporal server at {address}, namespace default" in lines  # it used that one
    assert f"waiting for your choice: select 1 ({video.name})" in lines
    assert f"Rank 2 chosen for {video.name}: rendering and publishing" in lines
    assert any(line.startswith(f"published {video.name}: file://") for line in lines)
    assert lines[-1].startswith(f"{video.name} (") and lines[-1].endswith(": completed")


HEAVY = ("cv2", "av", "googleapiclient", "temporal.workflows", "temporal.activities")
LOADED = """
import json, sys
sys.argv = ["main_temporal.py", *sys.argv[1:]]
import main_temporal
try:
    main_temporal.app(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(address: str, *args: str) -> tuple[str, set[str]]:
    """What a CLI command printed, and every module it had loaded when it was done."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "COLUMNS": "250"},
    )
    *printed, modules = done.stdout.splitlines()
    return "\n".join(printed), set(json.loads(modules))


async def test_the_quick_commands_load_no_decoder_no_youtube_client_and_no_workflow(
    temporal_env, pipeline_env, clip_cache, env
):
    from tests.temporal_support import running_worker
    from tests.test_temporal_workflow import start, typed_handle

    client = temporal_env.client
    address = client.service_client.config.target_host
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        await wait_for_stage(typed_handle(client, workflow_id), "WAITING_FOR_SELECTION")
        commands = [
            ("--help",),
            ("pending",),
            ("status",),
            ("status", video.name),  # found by its file name
            ("select", video.name, "--pick", "1"),
        ]
        ran = [await asyncio.to_thread(loaded_by, address, *command) for command in commands]
        await wait_for_stage(typed_handle(client, workflow_id), "COMPLETED", timeout=120)

    for command, (_, modules) in zip(commands, ran, strict=True):
        assert not modules & set(HEAVY), (command, modules & set(HEAVY))
    assert "Usage:" in ran[0][0] and workflow_id in ran[1][0] and workflow_id in ran[2][0]
    assert f"{video.name} ({workflow_id}): RUNNING" in ran[3][0]
    assert f"Rank 1 chosen for {video.name}" in ran[4][0]


@pytest.mark.parametrize("command", [("start", "--help"), ("up", "--help")])
def test_even_the_heavy_commands_help_loads_nothing_heavy(command):
    printed, modules = loaded_by("localhost:1", *command)
    assert "Usage:" in printed and not modules & set(HEAVY)
