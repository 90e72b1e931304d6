"""Talking to Temporal from the operator's side: connect, start, list, query, signal, cancel.

The connection uses Temporal's standard environment configuration (`TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`, `TEMPORAL_PROFILE` and the profile
file), so a self-hosted cluster or Temporal Cloud works by setting the usual variables.
"""

from __future__ import annotations

import asyncio
import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.envconfig import ClientConfig
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from temporal.signals import THUMBNAIL_SELECTED_SIGNAL, ThumbnailSelectedSignal
from temporal.workflows import (
    RANKING,
    STATUS_QUERY,
    UPLOADING,
    VIDEO_STAGE,
    WAITING_FOR_SELECTION,
    ProcessVideoInput,
    ProcessVideoWorkflow,
    VideoStatus,
)

DEFAULT_ADDRESS = "localhost:7233"
WORKFLOW_TYPE = "ProcessVideoWorkflow"


# A query waits for a worker: the server answers these when none is polling (any more).
NO_WORKER_CODES = (
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.FAILED_PRECONDITION,
)


class OperatorError(Exception):
    """Something the operator must know or do; the CLI prints it as one line."""


class WorkflowNotFoundError(OperatorError):
    def __init__(self, workflow_id: str):
        super().__init__(
            f"No workflow with id {workflow_id}: `python main_temporal.py pending` lists the "
            "videos waiting for a choice, `status` the recent ones."
        )


class NoWorkerError(OperatorError):
    def __init__(self, workflow_id: str):
        super().__init__(
            f"No worker answered for {workflow_id}: start one with `python main_temporal.py "
            "worker` (or `up`)."
        )


class WorkflowEndedError(OperatorError):
    def __init__(self, workflow_id: str, execution_status: str, doing: str):
        again = (
            " (`python main_temporal.py start --retry-failed` runs it again)"
            if execution_status != "COMPLETED"
            else ""
        )
        super().__init__(
            f"{workflow_id} has already ended ({execution_status.lower()}): {doing}{again}."
        )


def connect_config() -> dict:
    """Temporal's standard environment configuration (TEMPORAL_* variables, profile file)."""
    try:
        config = dict(ClientConfig.load_client_connect_config())
    except RuntimeError as error:  # the SDK's ConfigError: a missing profile, a bad file
        raise OperatorError(
            f"Temporal client configuration: {error}; fix TEMPORAL_PROFILE or the profile "
            "file (TEMPORAL_CONFIG_FILE)."
        ) from None
    config.setdefault("target_host", DEFAULT_ADDRESS)
    return config


async def connect() -> Client:
    return await Client.connect(**connect_config())


def workflow_id_for(video_path: Path) -> str:
    """Stable id from the video's identity (file name and size): one workflow per video."""
    size = video_path.stat().st_size
    digest = hashlib.sha1(f"{video_path.name}\0{size}".encode()).hexdigest()[:8]
    ascii_name = unicodedata.normalize("NFKD", video_path.name.replace("Đ", "D").replace("đ", "d"))
    readable = "".join(c if c.isalnum() or c in "._-" else "-" for c in ascii_name if c.isascii())
    return f"video-{readable}-{digest}"


@dataclass
class StartOutcome:
    video: str
    workflow_id: str
    started: bool
    message: str


async def start_video(
    client: Client, video_path: Path, settings: Settings, retry_failed: bool = False
) -> StartOutcome:
    """Start the video's workflow unless one is running or done (or failed, without retry)."""
    video_path = video_path.resolve()
    workflow_id = workflow_id_for(video_path)
    request = ProcessVideoInput(
        video_path=str(video_path),
        top_n=settings.top_ranked_candidates_num,
        template_name=settings.thumbnail_template,
        selection_timeout_seconds=settings.selection_timeout_seconds,
        selection_timeout_action=settings.selection_timeout_action,
    )
    reuse = (
        WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
        if retry_failed
        else WorkflowIDReusePolicy.REJECT_DUPLICATE
    )
    try:
        await client.start_workflow(
            ProcessVideoWorkflow.run,
            request,
            id=workflow_id,
            task_queue=settings.temporal_task_queue,
            id_reuse_policy=reuse,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            static_summary=video_path.name,
            memo={"video_file": video_path.name},
        )
    except WorkflowAlreadyStartedError:
        return StartOutcome(
            video_path.name, workflow_id, False, await _existing_state(client, workflow_id)
        )
    return StartOutcome(video_path.name, workflow_id, True, "started")


async def _existing_state(client: Client, workflow_id: str) -> str:
    description = await client.get_workflow_handle(workflow_id).describe()
    status = description.status
    if status == WorkflowExecutionStatus.RUNNING:
        stage = description.typed_search_attributes.get(VIDEO_STAGE) or "starting"
        return f"already running ({stage}), nothing new started"
    if status == WorkflowExecutionStatus.COMPLETED:
        return "already done, nothing new started"
    name = status.name.lower() if status else "closed"
    return f"already {name}; use `start --retry-failed` to run it again"


@dataclass
class WaitingVideo:
    workflow_id: str
    video_file: str
    waiting_since: datetime | None


async def list_waiting(client: Client) -> list[WaitingVideo]:
    """The videos waiting for a thumbnail choice, oldest first: one visibility query."""
    query = (
        f'WorkflowType="{WORKFLOW_TYPE}" AND ExecutionStatus="Running" '
        f'AND VideoStage="{WAITING_FOR_SELECTION}"'
    )
    waiting = []
    async for execution in client.list_workflows(query):
        memo = await execution.memo()
        since = memo.get("waiting_since")
        waiting.append(
            WaitingVideo(
                execution.id,
                memo.get("video_file", execution.id),
                datetime.fromisoformat(since) if since else None,
            )
        )
    return sorted(waiting, key=lambda video: video.waiting_since or datetime.max)


@dataclass
class WorkflowSummary:
    workflow_id: str
    video_file: str
    execution_status: str
    stage: str
    started_at: datetime | None
    progress_percent: int | None
    failure: str | None


async def recent_workflows(client: Client, limit: int = 20) -> list[WorkflowSummary]:
    """The latest videos; progress and failure reasons are fetched for all of them at once."""
    executions = [
        execution
        async for execution in client.list_workflows(f'WorkflowType="{WORKFLOW_TYPE}"', limit=limit)
    ]
    return list(await asyncio.gather(*(_summary(client, e) for e in executions)))


async def _summary(client: Client, execution: WorkflowExecution) -> WorkflowSummary:
    memo = await execution.memo()
    status = execution.status or WorkflowExecutionStatus.RUNNING
    stage = execution.typed_search_attributes.get(VIDEO_STAGE) or "-"
    progress = failure = None
    handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
    # Only these stages report progress; a query needs a worker, and waits for one.
    if status == WorkflowExecutionStatus.RUNNING and stage in (RANKING, UPLOADING):
        progress = await _progress_percent(handle)
    elif status == WorkflowExecutionStatus.FAILED:
        failure = await failure_reason(handle)
    return WorkflowSummary(
        execution.id,
        memo.get("video_file", execution.id),
        status.name,
        stage,
        execution.start_time,
        progress,
        failure,
    )


async def _progress_percent(handle: WorkflowHandle) -> int | None:
    try:
        status = await query_status(handle, timeout_seconds=2)
    except RPCError:
        return None  # no worker to answer the query right now
    return status.progress.percent if status.progress else None


async def failure_reason(handle: WorkflowHandle) -> str:
    """Why the workflow failed: the stage's own message (the outermost application error), not
    whatever low-level error it was raised from."""
    try:
        await handle.result(follow_runs=False)
    except WorkflowFailureError as error:
        cause: BaseException = error.cause
        while not isinstance(cause, ApplicationError) and cause.__cause__ is not None:
            cause = cause.__cause__
        return str(cause)
    return ""


async def query_status(handle: WorkflowHandle, timeout_seconds: float = 10) -> VideoStatus:
    """The workflow's own status; a worker must be running to answer."""
    return await handle.query(
        STATUS_QUERY, result_type=VideoStatus, rpc_timeout=timedelta(seconds=timeout_seconds)
    )


async def get_status(client: Client, workflow_id: str) -> VideoStatus:
    try:
        return await query_status(client.get_workflow_handle(workflow_id))
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFoundError(workflow_id) from None
        if error.status in NO_WORKER_CODES:
            raise NoWorkerError(workflow_id) from None
        raise


@dataclass
class VideoDetail:
    """One video's workflow as the server and, when a worker answers, the workflow see it."""

    workflow_id: str
    execution_status: str  # RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT
    stage: str  # the VideoStage search attribute: known without a worker
    failure: str | None
    status: VideoStatus | None  # None when no worker answered the query


async def _describe(handle: WorkflowHandle) -> WorkflowExecutionDescription:
    try:
        return await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFoundError(handle.id) from None
        raise


async def describe_video(client: Client, workflow_id: str) -> VideoDetail:
    handle = client.get_workflow_handle(workflow_id)
    description = await _describe(handle)
    execution = description.status or WorkflowExecutionStatus.RUNNING
    failure = None
    if execution == WorkflowExecutionStatus.FAILED:
        failure = await failure_reason(handle)
    try:
        status: VideoStatus | None = await query_status(handle, timeout_seconds=5)
    except RPCError as error:
        if error.status not in NO_WORKER_CODES:
            raise
        status = None
    stage = description.typed_search_attributes.get(VIDEO_STAGE) or "-"
    return VideoDetail(workflow_id, execution.name, stage, failure, status)


async def send_selection(
    client: Client, workflow_id: str, video_path: str, candidate_id: str | None
) -> None:
    await client.get_workflow_handle(workflow_id).signal(
        THUMBNAIL_SELECTED_SIGNAL, ThumbnailSelectedSignal(video_path, candidate_id)
    )


async def cancel(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    description = await _describe(handle)
    if description.status != WorkflowExecutionStatus.RUNNING:
        name = description.status.name if description.status else "CLOSED"
        raise WorkflowEndedError(workflow_id, name, "nothing to cancel")
    await handle.cancel()
