"""The latest videos at a glance: how each stands, with its progress, why it failed or was
cancelled, whether its host is there, and its `pending` number."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError

from temporal.client.errors import WorkflowUnansweredError
from temporal.client.hosts import HostState, host_states
from temporal.client.ids import WORKFLOW_TYPE
from temporal.client.listing import numbered
from temporal.client.playlist import PlaylistState, playlist_state
from temporal.client.queries import Failure, cancel_reason, failure_reason, query_status
from temporal.client.rows import read_row
from temporal.messages import BRANDING, RANKING, UPLOADING, WAITING_FOR_SELECTION, Hold, VideoStatus

# Only these stages report progress (while waiting for a choice: the branded copy's).
PROGRESS_STAGES = (RANKING, WAITING_FOR_SELECTION, BRANDING, UPLOADING)


@dataclass
class WorkflowSummary:
    workflow_id: str
    video_file: str
    execution_status: WorkflowExecutionStatus
    stage: str  # as shown: how it ended, for a run that did not complete
    started_at: datetime | None
    progress_percent: int | None
    failure: Failure | None = None  # FAILED: why
    cancel_reason: str = ""  # CANCELED: why, when the canceller said
    hold: Hold | None = None
    host: str = ""
    host_state: HostState | None = None  # running videos with a host
    last_stage: str = ""  # the VideoStage it reached
    number: int | None = None  # waiting for a choice or held: the number `pending` gives it
    playlist: PlaylistState | None = None  # published without the playlist YouTube refused
    branding_percent: int | None = None  # the branded copy's, while it is made beside the stage


async def recent_workflows(client: Client, limit: int = 20) -> list[WorkflowSummary]:
    """The latest videos; progress, failure reasons and hosts are fetched for all at once."""
    executions = [
        execution
        async for execution in client.list_workflows(f'WorkflowType="{WORKFLOW_TYPE}"', limit=limit)
    ]
    summaries = list(await asyncio.gather(*(_summary(client, e) for e in executions)))
    running = [
        (execution.task_queue, summary)
        for execution, summary in zip(executions, summaries, strict=True)
        if summary.execution_status == WorkflowExecutionStatus.RUNNING
    ]
    states = await host_states(client, ((queue, s.host) for queue, s in running))
    numbers = {workflow_id: n for n, workflow_id in enumerate(await numbered(client), 1)}
    for queue, summary in running:
        summary.host_state = states.get((queue, summary.host))
        summary.number = numbers.get(summary.workflow_id)
    return summaries


async def _summary(client: Client, execution: WorkflowExecution) -> WorkflowSummary:
    row = await read_row(execution)
    summary = WorkflowSummary(
        row.workflow_id,
        row.video_file,
        row.execution_status,
        row.shown_stage,
        row.started_at,
        None,
        hold=row.hold,
        host=row.host,
        last_stage=row.stage,
        playlist=await playlist_state(client, row),
    )
    handle = client.get_workflow_handle(row.workflow_id, run_id=row.run_id)
    # A query needs a worker, and waits for one.
    if row.running and row.stage in PROGRESS_STAGES:
        status = await _status_of(handle)
        if status is not None:
            summary.progress_percent = status.progress.percent if status.progress else None
            summary.branding_percent = branding_percent(status)
    elif row.execution_status == WorkflowExecutionStatus.FAILED:
        summary.failure = await failure_reason(handle)
    elif row.execution_status == WorkflowExecutionStatus.CANCELED:
        summary.cancel_reason = await cancel_reason(client, row.workflow_id, row.run_id)
    return summary


async def _status_of(handle: WorkflowHandle) -> VideoStatus | None:
    try:
        return await query_status(handle, timeout_seconds=2)
    except (RPCError, WorkflowUnansweredError):
        return None  # no worker to answer the query right now, or the workflow could not


def branding_percent(status: VideoStatus) -> int | None:
    """How far the branded copy is while another stage is shown; None when it is made, held,
    not asked for, or the stage shown is BRANDING itself (its progress is the stage's)."""
    branding = status.branding
    if branding is None or branding.made or branding.problem or status.stage == BRANDING:
        return None
    return branding.progress.percent if branding.progress else 0
