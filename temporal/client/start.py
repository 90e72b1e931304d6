"""Starting a video's workflow, once per recording: not when one runs or is done for the same
content (under this name or another), nor again after a failure unless asked. It runs on the
worker that started it (its host): its activities on that worker's queue, where the file is."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from config import Settings
from temporal.client.ids import WORKFLOW_TYPE, earlier_workflow_id_for, workflow_id_for
from temporal.client.queries import description_or_none
from temporal.client.rows import NO_STAGE, read_row
from temporal.client.supersede import other_runs, supersede
from temporal.messages import (
    MEMO_HOST,
    MEMO_VIDEO_FILE,
    MEMO_VIDEO_PATH,
    VIDEO_FILE,
    VIDEO_FINGERPRINT,
    ProcessVideoInput,
    host_task_queue,
)

RUNNING = WorkflowExecutionStatus.RUNNING
COMPLETED = WorkflowExecutionStatus.COMPLETED


@dataclass
class StartOutcome:
    """What became of one file `start` or the folder watcher took: started, already known,
    refused, or not ready yet. The message names no command: a front end adds its remedy."""

    video: str
    message: str
    workflow_id: str | None = None  # its workflow: started now, or the one already there
    started: bool = False
    refused: bool = False  # it cannot start as it is: a person must fix the file
    second_copy: bool = False  # another file holds this recording: this one is not needed
    can_run_again: bool = False  # its workflow ended without completing: it may be started again
    superseded: list[str] = field(default_factory=list)  # runs of its earlier content, cancelled
    kept: list[str] = field(default_factory=list)  # those that had begun publishing: they stay


def details_for(video_path: Path, host: str, shared_queue: str) -> str:
    """The Web UI's fixed details of the video (Markdown): the file and the host it runs on."""
    return (
        f"`{video_path.name}`, on host `{host}`: its steps run on the worker of that name "
        f"(task queue `{host_task_queue(shared_queue, host)}`)."
    )


def _examined(video_path: Path, fingerprint: str | None, summary: str | None) -> tuple[str, str]:
    """The content's fingerprint and what the Web UI's list shows (the match, else the file
    name), read here when the caller did not examine the file."""
    import ingest  # reading the file is ingest's job, and loads the decoders
    from prepare.file_names import FileNameError, parse_file_name

    if summary is None:
        try:
            summary = ingest.summary_of(parse_file_name(video_path.name))
        except FileNameError:
            summary = video_path.name
    return fingerprint or ingest.fingerprint(video_path), summary


async def start_video(
    client: Client,
    video_path: Path,
    settings: Settings,
    retry_failed: bool = False,
    rechoose: bool = False,
    fingerprint: str | None = None,
    host: str | None = None,
    summary: str | None = None,
) -> StartOutcome:
    """Start the video's workflow unless one is running or done for the same recording (under
    this name or another), or failed (without `retry_failed`). A failed run's thumbnail choice
    is taken again unless `rechoose`. Its activities run on `host`'s queue (default: this
    machine's WORKER_NAME), where the file is. `fingerprint` and `summary` come from the
    caller's examination of the file, else from reading it here.

    A running workflow of other content at this path on `host` (a copy that paused past
    INGEST_SETTLE, then went on; a file copied over) is superseded: cancelled, with a reason
    naming the new one, unless it began publishing (it then stays, for a person)."""
    host = host or settings.worker_name
    video_path = video_path.resolve()
    if fingerprint is None or summary is None:
        fingerprint, summary = _examined(video_path, fingerprint, summary)
    workflow_id = workflow_id_for(video_path, fingerprint)
    name = video_path.name
    earlier = await started_by_an_earlier_version(client, video_path, workflow_id, retry_failed)
    if earlier is not None:
        return earlier
    others = await other_runs(client, video_path, host, fingerprint, workflow_id)
    if same := others.same_recording:
        state = "running" if same.running else "done"
        why = f"the same recording as {same.video_file}, already {state}; nothing new started"
        return StartOutcome(name, why, same.workflow_id, second_copy=True)
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
        choice_mode=settings.choice_mode,
        rechoose_seconds=settings.rechoose_seconds,
    )
    reuse = (
        WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
        if retry_failed
        else WorkflowIDReusePolicy.REJECT_DUPLICATE
    )
    try:
        await client.start_workflow(
            WORKFLOW_TYPE,
            request,
            id=workflow_id,
            task_queue=settings.temporal_task_queue,
            id_reuse_policy=reuse,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(VIDEO_FILE, name),
                    SearchAttributePair(VIDEO_FINGERPRINT, fingerprint),
                ]
            ),
            static_summary=summary,
            static_details=details_for(video_path, host, settings.temporal_task_queue),
            memo={MEMO_VIDEO_FILE: name, MEMO_HOST: host, MEMO_VIDEO_PATH: str(video_path)},
        )
    except WorkflowAlreadyStartedError:
        return await _existing(client, name, workflow_id)
    again = f", keeping the choice {previous_choice}" if previous_choice else ""
    return StartOutcome(
        name,
        f"started{again}",
        workflow_id,
        started=True,
        superseded=await supersede(client, others.at_this_path, video_path, workflow_id),
        kept=[run.workflow_id for run in others.at_this_path if run.began_publishing],
    )


async def started_by_an_earlier_version(
    client: Client, video_path: Path, workflow_id: str, retry_failed: bool = False
) -> StartOutcome | None:
    """The video's workflow from before content ids, when it is running or done, or when it
    failed or was cancelled and neither `retry_failed` nor a run under its content id
    (`workflow_id`) came since. Such a workflow has no fingerprint to be found by."""
    earlier = earlier_workflow_id_for(video_path)
    description = await description_or_none(client, earlier)
    if description is None:
        return None
    name, status = video_path.name, description.status or RUNNING
    if status == RUNNING:
        why = "already running (started by an earlier version), nothing new started"
        return StartOutcome(name, why, earlier)
    if status == COMPLETED:
        return StartOutcome(
            name, "already done (by an earlier version), nothing new started", earlier
        )
    if retry_failed or await description_or_none(client, workflow_id) is not None:
        return None
    why = f"already {status.name.lower()} (by an earlier version)"
    return StartOutcome(name, why, earlier, can_run_again=True)


async def _choice_of_last_run(client: Client, workflow_id: str) -> str | None:
    description = await description_or_none(client, workflow_id)
    if description is None or description.status == RUNNING:
        return None
    return (await read_row(description)).chosen_candidate


async def _existing(client: Client, name: str, workflow_id: str) -> StartOutcome:
    row = await read_row(await client.get_workflow_handle(workflow_id).describe())
    if row.execution_status == RUNNING:
        stage = row.stage if row.stage != NO_STAGE else "starting"
        return StartOutcome(name, f"already running ({stage}), nothing new started", workflow_id)
    if row.execution_status == COMPLETED:
        return StartOutcome(name, "already done, nothing new started", workflow_id)
    why = f"already {row.execution_status.name.lower()}"
    return StartOutcome(name, why, workflow_id, can_run_again=True)
