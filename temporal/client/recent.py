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
from temporal.client.queries import Failure, cancel_reason, failure_reason, query_status
from temporal.client.rows import read_row
from temporal.messages import RANKING, UPLOADING, Hold

# Only these stages report progress.
PROGRESS_STAGES = (RANKING, UPLOADING)


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
    )
    handle = client.get_workflow_handle(row.workflow_id, run_id=row.run_id)
    # A query needs a worker, and waits for one.
    if row.running and row.stage in PROGRESS_STAGES:
        summary.progress_percent = await _progress_percent(handle)
    elif row.execution_status == WorkflowExecutionStatus.FAILED:
        summary.failure = await failure_reason(handle)
    elif row.execution_status == WorkflowExecutionStatus.CANCELED:
        summary.cancel_reason = await cancel_reason(client, row.workflow_id, row.run_id)
    return summary


async def _progress_percent(handle: WorkflowHandle) -> int | None:
    try:
        status = await query_status(handle, timeout_seconds=2)
    except (RPCError, WorkflowUnansweredError):
        return None  # no worker to answer the query right now, or the workflow could not
    return status.progress.percent if status.progress else None
