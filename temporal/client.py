"""Talking to Temporal from the operator's side: connect, start, list, find, describe, choose,
retry, cancel, and how videos ended. The CLI, the folder watcher and the tests go through these
functions; they print nothing.

The connection uses Temporal's standard environment configuration (`TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`, `TEMPORAL_PROFILE` and the profile
file), so a self-hosted cluster or Temporal Cloud works by setting the usual variables.

A video's workflow id comes from its content: `{slug of the file stem}-{6 hex of its
fingerprint}` (`md-nhozvinhvskhanhzleo-3f9a2c`), so the same recording never gets two workflows
and a rematch under yesterday's name is a new video.

A video runs its activities on the worker that started it (its host, `WORKER_NAME`): each
listing carries the host, and `host_states` says whether a worker of that name polls its queue
now. People name a video as `pending` numbers it, by a unique prefix of its id, or by its file
name, ignoring case and accents (`resolve`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution as ExecutionRef
from temporalio.api.enums.v1 import EventType, TaskQueueType, WorkerStatus
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    GetWorkflowExecutionHistoryReverseRequest,
    ListWorkersRequest,
)
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
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
from config import Settings, temporal_environment
from temporal.messages import (
    CHOOSE_THUMBNAIL_UPDATE,
    CLEANING_UP,
    COMPLETED,
    HELD_STAGES,
    MEMO_CHOSEN_CANDIDATE,
    MEMO_HOLD,
    MEMO_HOST,
    MEMO_VIDEO_FILE,
    MEMO_VIDEO_PATH,
    MEMO_WAITING_SINCE,
    PREPARING,
    PREVIEW_QUERY,
    RANKING,
    RETRY_SIGNAL,
    STATUS_QUERY,
    UPLOADING,
    VIDEO_FILE,
    VIDEO_FINGERPRINT,
    VIDEO_STAGE,
    WAITING_FOR_SELECTION,
    Hold,
    ProcessVideoInput,
    ThumbnailSelectedSignal,
    VideoResult,
    VideoStatus,
    host_task_queue,
)
from temporal.workflows import ACTIVITY_OF_STAGE, ProcessVideoWorkflow
from video_prep import SUPPORTED_EXTENSIONS, FileNameError, parse_file_name

DEFAULT_ADDRESS = "localhost:7233"
WORKFLOW_TYPE = "ProcessVideoWorkflow"
EARLIER_ID_PREFIX = "video-"  # the ids versions before content ids gave


# After the cancel request come only the cancellation of what ran then (at most the previews,
# two events each) and the end: it is among the last events of a cancelled run.
CANCEL_REASON_PAGE = 50
LAST_FAILURE_CHARS = 300
STAGE_OF_ACTIVITY = {activity: stage for stage, activity in ACTIVITY_OF_STAGE.items()}

# The stages from which a video may be on YouTube (or the publish folder), even in part.
PUBLISHING_STAGES = (UPLOADING, CLEANING_UP, COMPLETED)
# A file name that can be put in a visibility query between double quotes as it is.
_QUOTABLE = re.compile(r'[^"\\]+')

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


class WorkflowUnansweredError(OperatorError):
    """A worker took the query but the workflow could not answer it (e.g. an upgrade that broke
    its replay); the server's view of the video still holds."""

    def __init__(self, workflow_id: str, reason: str):
        self.reason = reason
        super().__init__(
            f"The workflow of {workflow_id} could not answer: {reason}. The worker's log says "
            f"more; `python main_temporal.py status {workflow_id}` shows what the server knows."
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
    """Temporal's standard environment configuration (TEMPORAL_* variables of the environment or
    the `.env` file, profile file)."""
    try:
        environment = temporal_environment()
        config = dict(ClientConfig.load_client_connect_config(override_env_vars=environment))
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
    return f"{EARLIER_ID_PREFIX}{readable}-{digest}"


def summary_for(video_path: Path) -> str:
    """What the Web UI's list shows for the video: the match, else the file name."""
    try:
        return ingest.summary_of(parse_file_name(video_path.name))
    except FileNameError:
        return video_path.name


def details_for(video_path: Path, host: str, shared_queue: str) -> str:
    """The Web UI's fixed details of the video (Markdown): the file and the host it runs on."""
    return (
        f"`{video_path.name}`, on host `{host}`: its steps run on the worker of that name "
        f"(task queue `{host_task_queue(shared_queue, host)}`)."
    )


@dataclass
class StartOutcome:
    video: str
    workflow_id: str  # the video's workflow: started now, or the one already there
    message: str
    started: bool
    superseded: list[str] = field(default_factory=list)  # runs of the earlier content, cancelled
    note: str = ""  # what became of the runs of the earlier content at its path, when any


async def start_video(
    client: Client,
    video_path: Path,
    settings: Settings,
    retry_failed: bool = False,
    rechoose: bool = False,
    fingerprint: str | None = None,
    host: str | None = None,
) -> StartOutcome:
    """Start the video's workflow unless one is running or done for the same recording (under
    this name or another), or failed (without `retry_failed`). A failed run's thumbnail choice
    is taken again unless `rechoose`. Its activities run on `host`'s queue (default: this
    machine's WORKER_NAME), where the file is.

    A running workflow of other content at this path on `host` (a copy that paused past
    INGEST_SETTLE, then went on; a file copied over) is superseded: cancelled, with a reason
    naming the new one, unless it began publishing (it then stays, for a person)."""
    host = host or settings.worker_name
    video_path = video_path.resolve()
    fingerprint = fingerprint or ingest.fingerprint(video_path)
    workflow_id = workflow_id_for(video_path, fingerprint)
    elsewhere = await started_by_an_earlier_version(client, video_path, workflow_id, retry_failed)
    others = await other_runs(client, video_path, host, fingerprint, workflow_id)
    elsewhere = elsewhere or others.same_recording
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
        host=host,
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
            static_details=details_for(video_path, host, settings.temporal_task_queue),
            memo={
                MEMO_VIDEO_FILE: video_path.name,
                MEMO_HOST: host,
                MEMO_VIDEO_PATH: str(video_path),
            },
        )
    except WorkflowAlreadyStartedError:
        state = await _existing_state(client, workflow_id)
        return StartOutcome(video_path.name, workflow_id, state, started=False)
    again = f", keeping the choice {previous_choice}" if previous_choice else ""
    superseded = await supersede(client, others.at_this_path, video_path, workflow_id)
    note = _supersession_note(others.at_this_path, superseded)
    return StartOutcome(video_path.name, workflow_id, f"started{again}", True, superseded, note)


async def started_by_an_earlier_version(
    client: Client, video_path: Path, workflow_id: str, retry_failed: bool = False
) -> tuple[str, str] | None:
    """The video's workflow from before content ids, when it is running or done, or when it
    failed or was cancelled and neither `retry_failed` nor a run under its content id
    (`workflow_id`) came since: its id, and why nothing new starts. Such a workflow has no
    fingerprint to be found by."""
    earlier = earlier_workflow_id_for(video_path)
    description = await _description_or_none(client, earlier)
    if description is None:
        return None
    status = description.status
    if status == WorkflowExecutionStatus.RUNNING:
        return earlier, "already running (started by an earlier version), nothing new started"
    if status == WorkflowExecutionStatus.COMPLETED:
        return earlier, "already done (by an earlier version), nothing new started"
    if retry_failed or await _description_or_none(client, workflow_id) is not None:
        return None
    name = status.name.lower() if status else "closed"
    return (
        earlier,
        f"already {name} (by an earlier version); use `start --retry-failed` to run it again",
    )


@dataclass
class RunAtPath:
    """A running workflow of other content that was at the new video's path on its host."""

    workflow_id: str
    stage: str
    hold: Hold | None

    @property
    def began_publishing(self) -> bool:
        """Whether its upload may have begun: its step (the held one, while it waits) is
        UPLOADING or later. A held run whose step is unknown counts as begun."""
        step = self.stage
        if step in HELD_STAGES:
            step = self.hold.step if self.hold else UPLOADING
        return step in PUBLISHING_STAGES


@dataclass
class OtherRuns:
    """What already runs for a video about to start, from one visibility query."""

    same_recording: tuple[str, str] | None  # a run of its content under another id; why
    at_this_path: list[RunAtPath]  # runs of other content at its path: it supersedes them


async def other_runs(
    client: Client, video_path: Path, host: str, fingerprint: str, workflow_id: str
) -> OtherRuns:
    """A running or completed workflow of another id for the same recording (the file was
    renamed), and the running workflows of other content at this path on `host` (a copy that
    went on after it was started, a file replaced): one visibility query for both."""
    same = (
        f'{VIDEO_FINGERPRINT.name}="{fingerprint}" '
        'AND (ExecutionStatus="Running" OR ExecutionStatus="Completed")'
    )
    wanted = f"({same})"
    if _QUOTABLE.fullmatch(video_path.name):
        wanted += f' OR ({VIDEO_FILE.name}="{video_path.name}" AND ExecutionStatus="Running")'
    found = OtherRuns(None, [])
    async for execution in client.list_workflows(f'WorkflowType="{WORKFLOW_TYPE}" AND ({wanted})'):
        if execution.id == workflow_id:
            continue
        attributes = execution.typed_search_attributes
        if attributes.get(VIDEO_FINGERPRINT) == fingerprint:
            if found.same_recording is None:
                file = attributes.get(VIDEO_FILE) or "another name"
                running = execution.status == WorkflowExecutionStatus.RUNNING
                state = "running" if running else "done"
                why = f"the same recording as {file}, already {state}; nothing new started"
                found.same_recording = (execution.id, why)
            continue
        memo = await execution.memo()
        if memo.get(MEMO_VIDEO_PATH) == str(video_path) and memo.get(MEMO_HOST) == host:
            stage = attributes.get(VIDEO_STAGE) or PREPARING
            found.at_this_path.append(RunAtPath(execution.id, stage, _hold_from(memo)))
    return found


def superseded_reason(video_path: Path, workflow_id: str) -> str:
    return f"superseded by the new content at {video_path} ({workflow_id})"


async def supersede(
    client: Client, runs: list[RunAtPath], video_path: Path, workflow_id: str
) -> list[str]:
    """Cancel the runs of the earlier content at this path that have not begun publishing, with
    the reason `status` shows; returns their ids. The others stay, for a person."""
    cancelled = []
    for run in runs:
        if run.began_publishing:
            continue
        handle = client.get_workflow_handle(run.workflow_id)
        try:
            await handle.cancel(reason=superseded_reason(video_path, workflow_id))
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:  # not found: it ended meanwhile
                raise
            continue
        cancelled.append(run.workflow_id)
    return cancelled


def _supersession_note(runs: list[RunAtPath], cancelled: list[str]) -> str:
    notes = [
        f"; it replaces {run.workflow_id} (the earlier content of this file, cancelled)"
        if run.workflow_id in cancelled
        else f"; {run.workflow_id} (the earlier content of this file) had begun publishing: "
        f"it stays for a person (`python main_temporal.py status {run.workflow_id}`)"
        for run in runs
        if run.workflow_id in cancelled or run.began_publishing
    ]
    return "".join(notes)


async def _description_or_none(
    client: Client, workflow_id: str
) -> WorkflowExecutionDescription | None:
    try:
        return await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def _choice_of_last_run(client: Client, workflow_id: str) -> str | None:
    description = await _description_or_none(client, workflow_id)
    if description is None or description.status == WorkflowExecutionStatus.RUNNING:
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


# -- hosts ----------------------------------------------------------------------------------------

# An idle worker polls its queue again about every minute: a poll older than this is a worker gone.
FRESH_POLL = timedelta(seconds=75)
_STOPPED = (WorkerStatus.WORKER_STATUS_SHUTTING_DOWN, WorkerStatus.WORKER_STATUS_SHUTDOWN)


@dataclass
class HostState:
    """Whether the worker a video's activities wait for is there."""

    name: str  # its WORKER_NAME
    running: bool | None  # a worker of that name polls the video's queue now; None: unknown
    last_seen: datetime | None  # its latest poll the server remembers (about 5 minutes)


async def host_state(client: Client, shared_queue: str, host: str) -> HostState:
    """From the pollers of the host's queue; a worker that said it stopped (on a server with
    worker heartbeats) is known at once, one that was killed once its last poll is old. Unknown
    where the server does not tell (a namespace role without that permission)."""
    queue = host_task_queue(shared_queue, host)
    try:
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            )
        )
    except RPCError as error:
        if error.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            return HostState(host, None, None)
        raise
    polls = [poller.last_access_time.ToDatetime(tzinfo=UTC) for poller in described.pollers]
    last_seen = max(polls, default=None)
    running = last_seen is not None and datetime.now(UTC) - last_seen <= FRESH_POLL
    if running and await _every_worker_stopped(client, queue):
        running = False
    return HostState(host, running, last_seen)


async def _every_worker_stopped(client: Client, queue: str) -> bool:
    if '"' in queue:
        return False
    try:
        listed = await client.workflow_service.list_workers(
            ListWorkersRequest(namespace=client.namespace, query=f'TaskQueue="{queue}"')
        )
    except RPCError:  # a server without worker heartbeats: the polls decide
        return False
    statuses = [worker.status for worker in listed.workers if worker.task_queue == queue]
    return bool(statuses) and all(status in _STOPPED for status in statuses)


async def host_states(
    client: Client, hosts: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], HostState]:
    """The state of each (shared queue, host) named, at once; a video with no host needs none."""
    wanted = sorted({(queue, host) for queue, host in hosts if host})
    states = await asyncio.gather(*(host_state(client, queue, host) for queue, host in wanted))
    return dict(zip(wanted, states, strict=True))


# -- listing --------------------------------------------------------------------------------------


@dataclass
class WaitingVideo:
    workflow_id: str
    video_file: str
    waiting_since: datetime | None
    host: str = ""  # the worker that runs its activities; empty: any (started before hosts)
    task_queue: str = ""  # its workflow's (shared) queue


def _running_in(stages: tuple[str, ...]) -> str:
    wanted = " OR ".join(f'{VIDEO_STAGE.name}="{stage}"' for stage in stages)
    return f'WorkflowType="{WORKFLOW_TYPE}" AND ExecutionStatus="Running" AND ({wanted})'


async def list_waiting(client: Client) -> list[WaitingVideo]:
    """The videos waiting for a thumbnail choice, oldest first: one visibility query. Their
    numbers (from 1, in this order) are the ones `pending` prints."""
    waiting = []
    async for execution in client.list_workflows(_running_in((WAITING_FOR_SELECTION,))):
        memo = await execution.memo()
        since = memo.get(MEMO_WAITING_SINCE)
        waiting.append(
            WaitingVideo(
                execution.id,
                memo.get(MEMO_VIDEO_FILE, execution.id),
                datetime.fromisoformat(since) if since else None,
                memo.get(MEMO_HOST, ""),
                execution.task_queue,
            )
        )
    latest = datetime.max.replace(tzinfo=UTC)
    return sorted(waiting, key=lambda video: (video.waiting_since or latest, video.workflow_id))


@dataclass
class HeldVideo:
    """A video waiting for YouTube's quota or for a person (NEEDS_ATTENTION)."""

    workflow_id: str
    video_file: str
    hold: Hold
    host: str = ""
    task_queue: str = ""


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
            held.append(
                HeldVideo(
                    execution.id,
                    memo.get(MEMO_VIDEO_FILE, execution.id),
                    hold,
                    memo.get(MEMO_HOST, ""),
                    execution.task_queue,
                )
            )
    return sorted(held, key=lambda video: (video.hold.retry_at, video.workflow_id))


def shown_stage(execution_status: str, stage: str) -> str:
    """The stage people read: a run that ended otherwise than completed shows how it ended
    (CANCELED, FAILED...), not the stage it had reached, which no longer goes on."""
    return stage if execution_status in ("RUNNING", "COMPLETED") else execution_status


@dataclass
class WorkflowSummary:
    workflow_id: str
    video_file: str
    execution_status: str
    stage: str  # shown_stage: how it ended, for a run that did not complete
    started_at: datetime | None
    progress_percent: int | None
    failure: str | None  # why it failed, or why it was cancelled (when that was said)
    hold: Hold | None = None
    host: str = ""
    host_state: HostState | None = None  # running videos with a host
    last_stage: str = ""  # the VideoStage it reached
    number: int | None = None  # waiting for a choice: the number `pending` gives it


async def recent_workflows(client: Client, limit: int = 20) -> list[WorkflowSummary]:
    """The latest videos; progress, failure reasons and hosts are fetched for all at once."""
    executions = [
        execution
        async for execution in client.list_workflows(f'WorkflowType="{WORKFLOW_TYPE}"', limit=limit)
    ]
    summaries = list(await asyncio.gather(*(_summary(client, e) for e in executions)))
    running = [(e.task_queue, s) for e, s in zip(executions, summaries, strict=True)]
    running = [(queue, s) for queue, s in running if s.execution_status == "RUNNING"]
    states = await host_states(client, ((queue, s.host) for queue, s in running))
    numbers = {workflow_id: n for n, workflow_id in enumerate(await numbered(client), 1)}
    for queue, summary in running:
        summary.host_state = states.get((queue, summary.host))
        summary.number = numbers.get(summary.workflow_id)
    return summaries


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
    elif status == WorkflowExecutionStatus.CANCELED:
        reason = await cancel_reason(client, execution.id, execution.run_id)
        failure = f"cancelled: {reason}" if reason else None
    running = status == WorkflowExecutionStatus.RUNNING
    hold = _hold_from(memo) if running and stage in HELD_STAGES else None
    return WorkflowSummary(
        execution.id,
        memo.get(MEMO_VIDEO_FILE, execution.id),
        status.name,
        shown_stage(status.name, stage),
        execution.start_time,
        progress,
        failure,
        hold,
        memo.get(MEMO_HOST, ""),
        last_stage=stage,
    )


async def _progress_percent(handle: WorkflowHandle) -> int | None:
    try:
        status = await query_status(handle, timeout_seconds=2)
    except (RPCError, WorkflowUnansweredError):
        return None  # no worker to answer the query right now, or the workflow could not
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
    """The workflow's own status; a worker must be running to answer, and the workflow able to
    (WorkflowUnansweredError)."""
    try:
        return await handle.query(
            STATUS_QUERY, result_type=VideoStatus, rpc_timeout=timedelta(seconds=timeout_seconds)
        )
    except WorkflowQueryFailedError as error:
        raise WorkflowUnansweredError(handle.id, str(error)) from None


async def get_status(client: Client, workflow_id: str) -> VideoStatus:
    try:
        return await query_status(client.get_workflow_handle(workflow_id))
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFoundError(workflow_id) from None
        if error.status in NO_WORKER_CODES:
            raise NoWorkerError(workflow_id) from None
        raise


# -- finding a video by what people type ----------------------------------------------------------

_ID_CHARACTERS = re.compile(r"[A-Za-z0-9._-]+")
MATCHES_LISTED = 10


def folded(text: str) -> str:
    """`Trâm.MP4` -> `tram.mp4`: file names compared as people type them."""
    decomposed = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass
class VideoMatch:
    workflow_id: str
    video_file: str
    execution_status: str
    stage: str  # shown_stage


class NoSuchVideoError(OperatorError):
    pass


class AmbiguousVideoError(OperatorError):
    def __init__(self, reference: str, matches: list[VideoMatch]):
        self.matches = matches
        shown = "\n".join(
            f"  {m.workflow_id}  {m.video_file}  {m.stage}" for m in matches[:MATCHES_LISTED]
        )
        more = (
            f"\n  ... and {len(matches) - MATCHES_LISTED} more"
            if len(matches) > MATCHES_LISTED
            else ""
        )
        super().__init__(
            f"{len(matches)} videos match {reference!r}; name one by more of its id:\n{shown}{more}"
        )


# which videos a command means when several match: the one in the state it acts on
WANTS_WAITING = "waiting"  # select
WANTS_RUNNING = "running"  # cancel, status
WANTS_HELD = "held"  # retry


async def resolve(client: Client, reference: str, wants: str = WANTS_RUNNING) -> str:
    """The workflow id `reference` names: the number `pending` prints, an id or a unique prefix
    of one, or a file name (with or without its extension, any case, accents or not). Among
    several matches, the only one in the state the command `wants` is taken; otherwise they are
    listed (AmbiguousVideoError)."""
    reference = reference.strip()
    if reference.isdigit():
        return await _numbered(client, int(reference))
    matches = await _by_file_name(client, reference) or await _by_id_prefix(client, reference)
    exact = [m for m in matches if m.workflow_id == reference]
    if exact:
        return reference
    if not matches:
        raise NoSuchVideoError(
            f"No video matches {reference!r}: give the number `python main_temporal.py "
            "pending` prints, the start of a workflow id, or a file name (`status` lists them)."
        )
    if len(matches) == 1:
        return matches[0].workflow_id
    wanted = [m for m in matches if _is_wanted(m, wants)]
    if len(wanted) == 1:
        return wanted[0].workflow_id
    raise AmbiguousVideoError(reference, wanted or matches)


def _is_wanted(match: VideoMatch, wants: str) -> bool:
    if match.execution_status != "RUNNING":
        return False
    if wants == WANTS_WAITING:
        return match.stage == WAITING_FOR_SELECTION
    if wants == WANTS_HELD:
        return match.stage in HELD_STAGES
    return True


async def numbered(client: Client) -> list[str]:
    """The workflow ids in the order `pending` numbers them from 1: the videos waiting for a
    choice (oldest first), then those waiting for a person or the quota (soonest retried
    first)."""
    waiting = [video.workflow_id for video in await list_waiting(client)]
    return waiting + [video.workflow_id for video in await list_held(client)]


async def _numbered(client: Client, number: int) -> str:
    ids = await numbered(client)
    if 1 <= number <= len(ids):
        return ids[number - 1]
    if not ids:
        raise NoSuchVideoError(
            f"No video is waiting for a choice, a person or the quota, so none is number {number}."
        )
    raise NoSuchVideoError(
        f"No video number {number}: `python main_temporal.py pending` numbers the "
        f"{len(ids)} waiting from 1 to {len(ids)}."
    )


async def _matches(client: Client, query: str) -> list[VideoMatch]:
    """Each workflow of the query once (its latest run), newest first."""
    found: dict[str, VideoMatch] = {}
    async for execution in client.list_workflows(query, limit=200):
        if execution.id in found:
            continue
        memo = await execution.memo()
        status = (execution.status or WorkflowExecutionStatus.RUNNING).name
        stage = execution.typed_search_attributes.get(VIDEO_STAGE) or "-"
        file = execution.typed_search_attributes.get(VIDEO_FILE) or memo.get(MEMO_VIDEO_FILE, "")
        found[execution.id] = VideoMatch(execution.id, file, status, shown_stage(status, stage))
    return list(found.values())


async def _by_file_name(client: Client, reference: str) -> list[VideoMatch]:
    """Workflows of a file named `reference`: their ids start with the slug of its name (case
    and accents already folded there), or with `video-` for those of earlier versions."""
    wanted = folded(reference)
    stem = Path(reference).stem if reference.lower().endswith(SUPPORTED_EXTENSIONS) else reference
    prefixes = (f"{ingest.slug(stem)}-", EARLIER_ID_PREFIX)
    found: dict[str, VideoMatch] = {}
    for prefix in prefixes:
        query = f'WorkflowType="{WORKFLOW_TYPE}" AND WorkflowId STARTS_WITH "{prefix}"'
        for match in await _matches(client, query):
            if wanted in (folded(match.video_file), folded(Path(match.video_file).stem)):
                found.setdefault(match.workflow_id, match)
    return list(found.values())


async def _by_id_prefix(client: Client, reference: str) -> list[VideoMatch]:
    if not _ID_CHARACTERS.fullmatch(reference):
        return []
    return await _matches(
        client, f'WorkflowType="{WORKFLOW_TYPE}" AND WorkflowId STARTS_WITH "{reference}"'
    )


# -- one video in detail --------------------------------------------------------------------------


@dataclass
class VideoDetail:
    """One video's workflow as the server and, when a worker answers, the workflow see it."""

    workflow_id: str
    execution_status: str  # RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT
    stage: str  # shown_stage of the VideoStage search attribute: known without a worker
    failure: str | None
    status: VideoStatus | None  # None when no worker answered the query
    video_file: str = ""
    hold: Hold | None = None  # from the memo: known without a worker
    host: str = ""
    host_state: HostState | None = None  # while it runs, when it has a host
    last_stage: str = ""  # the VideoStage it reached
    unanswered: str = ""  # why the workflow could not answer a worker's query
    cancel_reason: str = ""  # CANCELED: why, as the canceller said (e.g. superseded by ...)
    retrying: list[RetryingStep] = field(default_factory=list)  # steps after a failed attempt


@dataclass
class RetryingStep:
    """A step that failed for a passing reason and that Temporal runs again (the server's
    pending-activity info: known without a worker)."""

    stage: str  # the stage of the step, e.g. UPLOADING (its activity's name when it has none)
    attempt: int  # the attempt running, or the next one
    maximum_attempts: int  # 0: no limit
    last_failure: str
    next_attempt_at: datetime | None  # while it waits between two attempts


def retrying_steps(description: WorkflowExecutionDescription) -> list[RetryingStep]:
    steps = []
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
        steps.append(
            RetryingStep(
                STAGE_OF_ACTIVITY.get(activity, activity),
                pending.attempt,
                pending.maximum_attempts,
                message[:LAST_FAILURE_CHARS],
                next_at,
            )
        )
    return steps


async def cancel_reason(client: Client, workflow_id: str, run_id: str | None) -> str:
    """Why the run was cancelled, as its canceller said (a new video superseding it says which):
    read from the end of its history, where the cancel request is. Empty when none was said."""
    request = GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace,
        execution=ExecutionRef(workflow_id=workflow_id, run_id=run_id or ""),
        maximum_page_size=CANCEL_REASON_PAGE,
    )
    page = await client.workflow_service.get_workflow_execution_history_reverse(request)
    for event in page.history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            return event.workflow_execution_cancel_requested_event_attributes.cause
    return ""


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
    running = execution == WorkflowExecutionStatus.RUNNING
    failure = None
    if execution == WorkflowExecutionStatus.FAILED:
        failure = await failure_reason(handle)
    status, unanswered = None, ""
    try:
        status = await _status_if_a_worker_answers(handle)
    except WorkflowUnansweredError as error:
        unanswered = error.reason
    stage = description.typed_search_attributes.get(VIDEO_STAGE) or "-"
    memo = await description.memo()
    hold = _hold_from(memo) if running else None
    video_file = description.typed_search_attributes.get(VIDEO_FILE) or memo.get(
        MEMO_VIDEO_FILE, ""
    )
    host = memo.get(MEMO_HOST, "")
    state = await host_state(client, description.task_queue, host) if running and host else None
    cancelled = ""
    if execution == WorkflowExecutionStatus.CANCELED:
        cancelled = await cancel_reason(client, workflow_id, description.run_id)
    return VideoDetail(
        workflow_id,
        execution.name,
        shown_stage(execution.name, stage),
        failure,
        status,
        video_file,
        hold,
        host,
        state,
        stage,
        unanswered,
        cancelled,
        retrying_steps(description) if running else [],
    )


async def _status_if_a_worker_answers(handle: WorkflowHandle) -> VideoStatus | None:
    try:
        return await query_status(handle, timeout_seconds=5)
    except RPCError as error:
        if error.status not in NO_WORKER_CODES:
            raise
        return None


# -- choosing -------------------------------------------------------------------------------------


class NotWaitingError(OperatorError):
    def __init__(self, workflow_id: str, stage: str):
        super().__init__(f"{workflow_id} is not waiting for a selection (stage {stage}).")


class PreviewsMissingError(OperatorError):
    pass


@dataclass
class ChoiceCandidate:
    id: str
    rank: int
    score: float
    timestamp: float
    preview: bytes | None  # the JPEG the workflow keeps; None: read `file` (on its host)
    file: str
    crop: tuple[float, float, float, float] | None = None  # what the thumbnail shows


@dataclass
class ChoiceRequest:
    """What a chooser needs for a waiting video, wherever it runs."""

    workflow_id: str
    video_path: str  # on its host
    video_file: str
    host: str
    candidates: list[ChoiceCandidate] = field(default_factory=list)

    def rank_of(self, candidate_id: str) -> int | None:
        return next((c.rank for c in self.candidates if c.id == candidate_id), None)


async def get_preview(client: Client, workflow_id: str, candidate_id: str) -> bytes | None:
    """The candidate's JPEG preview (at most 40 KB) from the workflow, on any machine; None when
    it has none (started before previews, or it could not be made). A worker must answer."""
    try:
        preview = await client.get_workflow_handle(workflow_id).query(
            PREVIEW_QUERY, candidate_id, result_type=bytes, rpc_timeout=timedelta(seconds=10)
        )
    except WorkflowQueryFailedError as error:
        raise WorkflowUnansweredError(workflow_id, str(error)) from None
    return preview or None


async def get_previews(
    client: Client, workflow_id: str, candidate_ids: Iterable[str]
) -> dict[str, bytes]:
    """The previews of these candidates that the workflow has, each its own query, at once."""
    ids = list(candidate_ids)
    previews = await asyncio.gather(*(get_preview(client, workflow_id, id_) for id_ in ids))
    return {id_: preview for id_, preview in zip(ids, previews, strict=True) if preview}


async def choice_request(client: Client, workflow_id: str) -> ChoiceRequest:
    """The candidates of a video waiting for its choice, with their previews. Refused (one
    OperatorError) when it ended, no worker answers, it is not waiting, or a candidate has
    neither a preview nor a file readable here."""
    detail = await describe_video(client, workflow_id)
    if detail.execution_status != "RUNNING":
        raise WorkflowEndedError(workflow_id, detail.execution_status, "nothing to choose")
    status = detail.status
    if detail.unanswered:
        raise WorkflowUnansweredError(workflow_id, detail.unanswered)
    if status is None:
        raise NoWorkerError(workflow_id)
    if status.stage != WAITING_FOR_SELECTION:
        raise NotWaitingError(workflow_id, status.stage)
    try:
        previews = await get_previews(client, workflow_id, status.preview_ids)
    except RPCError as error:
        if error.status in NO_WORKER_CODES:
            raise NoWorkerError(workflow_id) from None
        raise
    request = ChoiceRequest(
        workflow_id,
        status.video_path,
        Path(status.video_path).name,
        status.host,
        [
            ChoiceCandidate(c.id, c.rank, c.score, c.timestamp, previews.get(c.id), c.file, c.crop)
            for c in status.candidates
        ],
    )
    unseen = [c for c in request.candidates if c.preview is None and not _readable(c.file)]
    if unseen:
        where = f"on {status.host}" if status.host else "on the worker's machine"
        raise PreviewsMissingError(
            f"{request.video_file}: {len(unseen)} candidate(s) have no preview in Temporal "
            f"(the video was ranked by an earlier version) and their files are not on this "
            f"machine: run `select` {where}, or use the web chooser there."
        )
    return request


def _readable(path: str) -> bool:
    return os.access(path, os.R_OK)


class ChoiceRejectedError(OperatorError):
    def __init__(self, reason: str):
        super().__init__(f"Choice rejected: {reason}.")


class ChoicePendingError(OperatorError):
    def __init__(self, workflow_id: str, waited_seconds: float):
        super().__init__(
            f"No worker took the choice for {workflow_id} within {waited_seconds:g} s (none "
            "runs now?): it is taken once a worker runs again (`python main_temporal.py worker`, "
            f"or `up`); `python main_temporal.py status {workflow_id}` shows whether it was."
        )


async def choose(
    client: Client,
    workflow_id: str,
    video_path: str,
    candidate_id: str | None,
    timeout_seconds: float = 30,
) -> str:
    """The operator's choice, as an update: refused (and never recorded) when it is not one of
    the video's candidates or the video is not waiting; returns the candidate taken. When no
    worker takes it in time (ChoicePendingError), the server keeps it for the next one."""
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(
            CHOOSE_THUMBNAIL_UPDATE,
            ThumbnailSelectedSignal(video_path, candidate_id),
            result_type=str,
            rpc_timeout=timedelta(seconds=timeout_seconds),
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise ChoiceRejectedError(reason) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise ChoicePendingError(workflow_id, timeout_seconds) from None


# -- how videos ended -----------------------------------------------------------------------------


@dataclass
class VideoOutcome:
    workflow_id: str
    video_file: str
    execution_status: str  # RUNNING while it is not done
    published: str | None = None  # COMPLETED: the link (or the local folder's URI)
    failure: str | None = None  # FAILED: why; CANCELED: why, when the canceller said

    @property
    def done(self) -> bool:
        return self.execution_status != "RUNNING"


async def outcome(client: Client, workflow_id: str, run_id: str | None = None) -> VideoOutcome:
    handle = client.get_workflow_handle_for(ProcessVideoWorkflow.run, workflow_id, run_id=run_id)
    description = await _describe(handle)
    execution = (description.status or WorkflowExecutionStatus.RUNNING).name
    memo = await description.memo()
    found = VideoOutcome(workflow_id, memo.get(MEMO_VIDEO_FILE, workflow_id), execution)
    if execution == "COMPLETED":
        result: VideoResult = await handle.result(follow_runs=False)
        found.published = result.published.url or result.published.video_id
    elif execution == "FAILED":
        found.failure = await failure_reason(handle)
    elif execution == "CANCELED":
        found.failure = await cancel_reason(client, workflow_id, description.run_id) or None
    return found


async def outcomes(client: Client, workflow_ids: Iterable[str]) -> list[VideoOutcome]:
    """How each video stands: still running, published (with its link), failed (why), or
    cancelled."""
    return list(await asyncio.gather(*(outcome(client, id_) for id_ in workflow_ids)))


async def all_done(client: Client, workflow_ids: Iterable[str]) -> bool:
    """Whether every one of these videos has ended (a describe each, up to the first running)."""
    for workflow_id in workflow_ids:
        if (await _describe(client.get_workflow_handle(workflow_id))).close_time is None:
            return False
    return True


async def closed_since(client: Client, since: datetime) -> list[tuple[str, str]]:
    """(workflow id, run id) of the runs that ended at or after `since`."""
    stamp = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
    query = f'WorkflowType="{WORKFLOW_TYPE}" AND CloseTime >= "{stamp}"'
    return [(e.id, e.run_id) async for e in client.list_workflows(query)]


async def count_in_progress(client: Client) -> int:
    """How many videos have not finished (waiting for a choice, a host, a person or working)."""
    counted = await client.count_workflows(
        f'WorkflowType="{WORKFLOW_TYPE}" AND ExecutionStatus="Running"'
    )
    return counted.count


# -- acting on held and running videos ------------------------------------------------------------


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


async def retry_held(client: Client) -> list[HeldVideo]:
    """Run again now every held step; returns those videos."""
    return await retry_videos(client, await list_held(client))


async def retry_videos(client: Client, videos: list[HeldVideo]) -> list[HeldVideo]:
    """Run again now the held steps of these videos; returns them."""
    for video in videos:
        await client.get_workflow_handle(video.workflow_id).signal(RETRY_SIGNAL)
    return videos


def runs_on(video: HeldVideo, host: str) -> bool:
    """Whether the video's steps run on the worker named `host` (or on any: started before
    hosts existed)."""
    return video.host in ("", host)


async def cancel(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    description = await _describe(handle)
    if description.status != WorkflowExecutionStatus.RUNNING:
        name = description.status.name if description.status else "CLOSED"
        raise WorkflowEndedError(workflow_id, name, "nothing to cancel")
    await handle.cancel()
