"""Talking to Temporal from the operator's side: connect, start, list, describe, choose, retry,
cancel. The CLI, the folder watcher and the tests go through these functions.

The connection uses Temporal's standard environment configuration (`TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`, `TEMPORAL_PROFILE` and the profile
file), so a self-hosted cluster or Temporal Cloud works by setting the usual variables.

A video's workflow id comes from its content: `{slug of the file stem}-{6 hex of its
fingerprint}` (`md-nhozvinhvskhanhzleo-3f9a2c`), so the same recording never gets two workflows
and a rematch under yesterday's name is a new video.
"""

from __future__ import annotations

import asyncio
import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.envconfig import ClientConfig
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

import ingest
from config import Settings
from temporal.messages import (
    CHOOSE_THUMBNAIL_UPDATE,
    HELD_STAGES,
    MEMO_CHOSEN_CANDIDATE,
    MEMO_HOLD,
    MEMO_VIDEO_FILE,
    MEMO_WAITING_SINCE,
    RANKING,
    RETRY_SIGNAL,
    STATUS_QUERY,
    THUMBNAIL_SELECTED_SIGNAL,
    UPLOADING,
    VIDEO_FILE,
    VIDEO_FINGERPRINT,
    VIDEO_STAGE,
    WAITING_FOR_SELECTION,
    Hold,
    ProcessVideoInput,
    ThumbnailSelectedSignal,
    VideoStatus,
)
from temporal.workflows import ProcessVideoWorkflow
from video_prep import FileNameError, parse_file_name

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


def workflow_id_for(video_path: Path, fingerprint: str | None = None) -> str:
    """The video's workflow id, from its file name and content (`fingerprint`, computed when not
    given): readable in the Web UI, and the same for the same recording."""
    fingerprint = fingerprint or ingest.fingerprint(video_path)
    return f"{ingest.slug(Path(video_path).stem)}-{fingerprint[:6]}"


def earlier_workflow_id_for(video_path: Path) -> str:
    """The id versions before content ids gave the video (from its name and size): a workflow
    of theirs, running or done, is this video's."""
    size = video_path.stat().st_size
    digest = hashlib.sha1(f"{video_path.name}\0{size}".encode()).hexdigest()[:8]
    ascii_name = unicodedata.normalize("NFKD", video_path.name.replace("Đ", "D").replace("đ", "d"))
    readable = "".join(c if c.isalnum() or c in "._-" else "-" for c in ascii_name if c.isascii())
    return f"video-{readable}-{digest}"


def summary_for(video_path: Path) -> str:
    """What the Web UI's list shows for the video: the match, else the file name."""
    try:
        return ingest.summary_of(parse_file_name(video_path.name))
    except FileNameError:
        return video_path.name


@dataclass
class StartOutcome:
    video: str
    workflow_id: str  # the video's workflow: started now, or the one already there
    message: str
    started: bool


async def start_video(
    client: Client,
    video_path: Path,
    settings: Settings,
    retry_failed: bool = False,
    rechoose: bool = False,
    fingerprint: str | None = None,
) -> StartOutcome:
    """Start the video's workflow unless one is running or done for the same recording (under
    this name or another), or failed (without `retry_failed`). A failed run's thumbnail choice
    is taken again unless `rechoose`."""
    video_path = video_path.resolve()
    fingerprint = fingerprint or ingest.fingerprint(video_path)
    workflow_id = workflow_id_for(video_path, fingerprint)
    elsewhere = await started_by_an_earlier_version(client, video_path)
    elsewhere = elsewhere or await same_recording_elsewhere(client, fingerprint, workflow_id)
    if elsewhere:
        return StartOutcome(video_path.name, *elsewhere, started=False)
    previous_choice = None
    if retry_failed and not rechoose:
        previous_choice = await _choice_of_last_run(client, workflow_id)
    request = ProcessVideoInput(
        video_path=str(video_path),
        top_n=settings.top_ranked_candidates_num,
        template_name=settings.thumbnail_template,
        selection_timeout_seconds=settings.selection_timeout_seconds,
        selection_timeout_action=settings.selection_timeout_action,
        fingerprint=fingerprint,
        previous_choice=previous_choice,
        attention_retry_seconds=settings.attention_retry_seconds,
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
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(VIDEO_FILE, video_path.name),
                    SearchAttributePair(VIDEO_FINGERPRINT, fingerprint),
                ]
            ),
            static_summary=summary_for(video_path),
            memo={MEMO_VIDEO_FILE: video_path.name},
        )
    except WorkflowAlreadyStartedError:
        state = await _existing_state(client, workflow_id)
        return StartOutcome(video_path.name, workflow_id, state, started=False)
    again = f", keeping the choice {previous_choice}" if previous_choice else ""
    return StartOutcome(video_path.name, workflow_id, f"started{again}", started=True)


async def started_by_an_earlier_version(client: Client, video_path: Path) -> tuple[str, str] | None:
    """The video's workflow from before content ids, when it is running or done: its id, and
    why nothing new starts. Such a workflow has no fingerprint to be found by."""
    earlier = earlier_workflow_id_for(video_path)
    try:
        description = await client.get_workflow_handle(earlier).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    if description.status == WorkflowExecutionStatus.RUNNING:
        return earlier, "already running (started by an earlier version), nothing new started"
    if description.status == WorkflowExecutionStatus.COMPLETED:
        return earlier, "already done (by an earlier version), nothing new started"
    return None


async def same_recording_elsewhere(
    client: Client, fingerprint: str, workflow_id: str
) -> tuple[str, str] | None:
    """A running or completed workflow of another id for the same recording (the file was
    renamed): its id, and why nothing new starts; None when there is none."""
    query = (
        f'WorkflowType="{WORKFLOW_TYPE}" AND {VIDEO_FINGERPRINT.name}="{fingerprint}" '
        'AND (ExecutionStatus="Running" OR ExecutionStatus="Completed")'
    )
    async for execution in client.list_workflows(query):
        if execution.id == workflow_id:
            continue
        file = execution.typed_search_attributes.get(VIDEO_FILE) or "another name"
        state = "running" if execution.status == WorkflowExecutionStatus.RUNNING else "done"
        return execution.id, f"the same recording as {file}, already {state}; nothing new started"
    return None


async def _choice_of_last_run(client: Client, workflow_id: str) -> str | None:
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    if description.status == WorkflowExecutionStatus.RUNNING:
        return None
    return (await description.memo()).get(MEMO_CHOSEN_CANDIDATE)


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


def _running_in(stages: tuple[str, ...]) -> str:
    wanted = " OR ".join(f'{VIDEO_STAGE.name}="{stage}"' for stage in stages)
    return f'WorkflowType="{WORKFLOW_TYPE}" AND ExecutionStatus="Running" AND ({wanted})'


async def list_waiting(client: Client) -> list[WaitingVideo]:
    """The videos waiting for a thumbnail choice, oldest first: one visibility query."""
    waiting = []
    async for execution in client.list_workflows(_running_in((WAITING_FOR_SELECTION,))):
        memo = await execution.memo()
        since = memo.get(MEMO_WAITING_SINCE)
        waiting.append(
            WaitingVideo(
                execution.id,
                memo.get(MEMO_VIDEO_FILE, execution.id),
                datetime.fromisoformat(since) if since else None,
            )
        )
    return sorted(waiting, key=lambda video: video.waiting_since or datetime.max)


@dataclass
class HeldVideo:
    """A video waiting for YouTube's quota or for a person (NEEDS_ATTENTION)."""

    workflow_id: str
    video_file: str
    hold: Hold


def _hold_from(memo: dict[str, Any]) -> Hold | None:
    data = memo.get(MEMO_HOLD)
    try:
        return Hold(**data) if isinstance(data, dict) else None
    except TypeError:
        return None


async def list_held(client: Client) -> list[HeldVideo]:
    """The videos whose step waits for the quota or a person, the soonest retried first."""
    held = []
    async for execution in client.list_workflows(_running_in(HELD_STAGES)):
        memo = await execution.memo()
        hold = _hold_from(memo)
        if hold is not None:  # None: the memo is being updated as the step runs again
            held.append(HeldVideo(execution.id, memo.get(MEMO_VIDEO_FILE, execution.id), hold))
    return sorted(held, key=lambda video: video.hold.retry_at)


@dataclass
class WorkflowSummary:
    workflow_id: str
    video_file: str
    execution_status: str
    stage: str
    started_at: datetime | None
    progress_percent: int | None
    failure: str | None
    hold: Hold | None = None


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
    hold = _hold_from(memo) if stage in HELD_STAGES else None
    return WorkflowSummary(
        execution.id,
        memo.get(MEMO_VIDEO_FILE, execution.id),
        status.name,
        stage,
        execution.start_time,
        progress,
        failure,
        hold,
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
    video_file: str = ""
    hold: Hold | None = None  # from the memo: known without a worker


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
    status = await _status_if_a_worker_answers(handle)
    stage = description.typed_search_attributes.get(VIDEO_STAGE) or "-"
    memo = await description.memo()
    hold = _hold_from(memo) if execution == WorkflowExecutionStatus.RUNNING else None
    video_file = description.typed_search_attributes.get(VIDEO_FILE) or memo.get(
        MEMO_VIDEO_FILE, ""
    )
    return VideoDetail(workflow_id, execution.name, stage, failure, status, video_file, hold)


async def _status_if_a_worker_answers(handle: WorkflowHandle) -> VideoStatus | None:
    try:
        return await query_status(handle, timeout_seconds=5)
    except RPCError as error:
        if error.status not in NO_WORKER_CODES:
            raise
        return None


class ChoiceRejectedError(OperatorError):
    def __init__(self, reason: str):
        super().__init__(f"Choice rejected: {reason}.")


async def choose(
    client: Client, workflow_id: str, video_path: str, candidate_id: str | None
) -> str:
    """The operator's choice, as an update: refused (and never recorded) when it is not one of
    the video's candidates or the video is not waiting; returns the candidate taken."""
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(
            CHOOSE_THUMBNAIL_UPDATE,
            ThumbnailSelectedSignal(video_path, candidate_id),
            result_type=str,
            rpc_timeout=timedelta(seconds=30),
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise ChoiceRejectedError(reason) from None


async def send_selection(
    client: Client, workflow_id: str, video_path: str, candidate_id: str | None
) -> None:
    """The choice as the Web UI sends it: a signal, checked by the workflow when it arrives."""
    await client.get_workflow_handle(workflow_id).signal(
        THUMBNAIL_SELECTED_SIGNAL, ThumbnailSelectedSignal(video_path, candidate_id)
    )


async def retry(client: Client, workflow_id: str) -> str:
    """Run a held step (quota, attention) again now; returns the stage it waited in."""
    handle = client.get_workflow_handle(workflow_id)
    description = await _describe(handle)
    if description.status != WorkflowExecutionStatus.RUNNING:
        name = description.status.name if description.status else "CLOSED"
        raise WorkflowEndedError(workflow_id, name, "nothing to retry")
    stage = description.typed_search_attributes.get(VIDEO_STAGE) or "-"
    if stage not in HELD_STAGES:
        raise OperatorError(
            f"{workflow_id} is not waiting for a retry (stage {stage}): nothing to retry."
        )
    await handle.signal(RETRY_SIGNAL)
    return stage


async def retry_held(client: Client, redo: str | None = None) -> list[HeldVideo]:
    """Run again now the held steps (of the videos whose fix is `redo`, e.g. "auth", when
    given); returns those videos."""
    chosen = [video for video in await list_held(client) if redo is None or video.hold.redo == redo]
    for video in chosen:
        await client.get_workflow_handle(video.workflow_id).signal(RETRY_SIGNAL)
    return chosen


async def cancel(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    description = await _describe(handle)
    if description.status != WorkflowExecutionStatus.RUNNING:
        name = description.status.name if description.status else "CLOSED"
        raise WorkflowEndedError(workflow_id, name, "nothing to cancel")
    await handle.cancel()
