"""One video in detail, and how videos ended: what the server knows (always) and what the
workflow says (when a worker answers)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus

from temporal.change_messages import MEMO_CHANGES, changes_workflow_id
from temporal.client.errors import WorkflowUnansweredError
from temporal.client.hosts import HostState, host_state
from temporal.client.playlist import PlaylistState, playlist_state
from temporal.client.queries import (
    Failure,
    cancel_reason,
    describe,
    description_or_none,
    failure_reason,
    status_if_a_worker_answers,
)
from temporal.client.rows import read_row
from temporal.messages import ACTIVITY_OF_STAGE, Hold, VideoResult, VideoStatus

LAST_FAILURE_CHARS = 300
STAGE_OF_ACTIVITY = {activity: stage for stage, activity in ACTIVITY_OF_STAGE.items()}


@dataclass
class RetryingActivity:
    """An activity that failed for a passing reason and that Temporal runs again (the server's
    pending-activity info: known without a worker)."""

    stage: str  # the stage it does, e.g. UPLOADING (its activity's name when it has none)
    attempt: int  # the attempt running, or the next one
    maximum_attempts: int  # 0: no limit
    last_failure: str
    next_attempt_at: datetime | None  # while it waits between two attempts


@dataclass
class ChangesWindow:
    """A published video's window for changing its thumbnail (its companion's memo)."""

    live_rank: int
    changes_made: int
    closes_at: str  # ISO, UTC
    open: bool  # the companion runs: changes are taken


async def changes_memo(client: Client, video_workflow_id: str) -> ChangesWindow | None:
    """The window of a published video; None when it has none (RECHOOSE_DAYS=0, earlier
    versions)."""
    description = await description_or_none(client, changes_workflow_id(video_workflow_id))
    if description is None:
        return None
    memo = (await description.memo()).get(MEMO_CHANGES)
    if not isinstance(memo, dict):
        return None
    running = description.status == WorkflowExecutionStatus.RUNNING
    return ChangesWindow(
        int(memo.get("live_rank", 0)),
        int(memo.get("changes_made", 0)),
        str(memo.get("closes_at", "")),
        running,
    )


@dataclass
class VideoDetail:
    """One video's workflow as the server and, when a worker answers, the workflow see it."""

    workflow_id: str
    execution_status: WorkflowExecutionStatus
    stage: str  # as shown (how it ended, for a run that did not complete): known without a worker
    failure: Failure | None
    status: VideoStatus | None  # None when no worker answered the query
    video_file: str = ""
    hold: Hold | None = None  # from the memo: known without a worker
    host: str = ""
    host_state: HostState | None = None  # while it runs, when it has a host
    last_stage: str = ""  # the VideoStage it reached
    unanswered: str = ""  # why the workflow could not answer a worker's query
    cancel_reason: str = ""  # CANCELED: why, as the canceller said (e.g. superseded by ...)
    retrying: list[RetryingActivity] = field(default_factory=list)  # after a failed attempt
    playlist: PlaylistState | None = None  # published without the playlist YouTube refused
    changes: ChangesWindow | None = None  # published: its thumbnail's changes and their window

    @property
    def running(self) -> bool:
        return self.execution_status == WorkflowExecutionStatus.RUNNING


def retrying_activities(description: WorkflowExecutionDescription) -> list[RetryingActivity]:
    retrying = []
    for pending in description.raw_description.pending_activities:
        failure = pending.last_failure
        if pending.attempt <= 1 or not failure.message:
            continue
        kind = failure.application_failure_info.type
        message = f"{kind}: {failure.message}" if kind else failure.message
        next_at = (
            pending.next_attempt_schedule_time.ToDatetime(tzinfo=UTC)
            if pending.HasField("next_attempt_schedule_time")
            else None
        )
        activity = pending.activity_type.name
        retrying.append(
            RetryingActivity(
                STAGE_OF_ACTIVITY.get(activity, activity),
                pending.attempt,
                pending.maximum_attempts,
                message[:LAST_FAILURE_CHARS],
                next_at,
            )
        )
    return retrying


async def describe_video(client: Client, workflow_id: str) -> VideoDetail:
    handle = client.get_workflow_handle(workflow_id)
    description = await describe(handle)
    row = await read_row(description)
    detail = VideoDetail(
        workflow_id,
        row.execution_status,
        row.shown_stage,
        None,
        None,
        row.video_file,
        row.hold,
        row.host,
        last_stage=row.stage,
        playlist=await playlist_state(client, row),
    )
    try:
        detail.status = await status_if_a_worker_answers(handle)
    except WorkflowUnansweredError as error:
        detail.unanswered = error.reason
    if row.running:
        if row.host:
            detail.host_state = await host_state(client, description.task_queue, row.host)
        detail.retrying = retrying_activities(description)
    elif row.execution_status == WorkflowExecutionStatus.FAILED:
        detail.failure = await failure_reason(handle)
    elif row.execution_status == WorkflowExecutionStatus.CANCELED:
        detail.cancel_reason = await cancel_reason(client, workflow_id, description.run_id)
    elif row.execution_status == WorkflowExecutionStatus.COMPLETED:
        detail.changes = await changes_memo(client, workflow_id)
    return detail


@dataclass
class VideoOutcome:
    workflow_id: str
    video_file: str
    execution_status: WorkflowExecutionStatus  # RUNNING while it is not done
    published: str | None = None  # COMPLETED: the link (or the local folder's URI)
    failure: Failure | None = None  # FAILED: why
    cancel_reason: str = ""  # CANCELED: why, when the canceller said
    playlist_problem: str | None = None  # COMPLETED without the playlist YouTube refused: why

    @property
    def done(self) -> bool:
        return self.execution_status != WorkflowExecutionStatus.RUNNING


async def outcome(client: Client, workflow_id: str, run_id: str | None = None) -> VideoOutcome:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id, result_type=VideoResult)
    row = await read_row(await describe(handle))
    found = VideoOutcome(workflow_id, row.video_file, row.execution_status)
    if row.execution_status == WorkflowExecutionStatus.COMPLETED:
        result = await handle.result(follow_runs=False)
        found.published = result.published.url or result.published.video_id
        found.playlist_problem = result.published.playlist_problem
    elif row.execution_status == WorkflowExecutionStatus.FAILED:
        found.failure = await failure_reason(handle)
    elif row.execution_status == WorkflowExecutionStatus.CANCELED:
        found.cancel_reason = await cancel_reason(client, workflow_id, row.run_id)
    return found


async def outcomes(client: Client, workflow_ids: Iterable[str]) -> list[VideoOutcome]:
    """How each video stands: still running, published (with its link), failed (why), or
    cancelled."""
    return list(await asyncio.gather(*(outcome(client, id_) for id_ in workflow_ids)))


async def all_done(client: Client, workflow_ids: Iterable[str]) -> bool:
    """Whether every one of these videos has ended (a describe each, up to the first running)."""
    for workflow_id in workflow_ids:
        if (await describe(client.get_workflow_handle(workflow_id))).close_time is None:
            return False
    return True
