"""A published video YouTube refused to put in its playlist: how that stands, and its playlist
step run again (a `PlaylistRetryWorkflow` on the video's host, started here by type name)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from temporal.client.errors import WorkflowEndedError
from temporal.client.queries import Failure, describe, description_or_none, failure_reason
from temporal.client.rows import VideoRow, read_row
from temporal.messages import (
    PLAYLIST_RETRY_WORKFLOW,
    PlaylistRetryInput,
    VideoResult,
    playlist_retry_id,
)

RUNNING = WorkflowExecutionStatus.RUNNING
COMPLETED = WorkflowExecutionStatus.COMPLETED
FAILED = WorkflowExecutionStatus.FAILED


@dataclass
class PlaylistState:
    """Why a published video is not in its playlist, and how its latest retry went."""

    problem: str  # as the upload said it: the playlist's title quoted, YouTube's refusal
    retry: WorkflowExecutionStatus | None = None  # the latest retry's; None: none yet
    retry_failure: Failure | None = None  # the latest retry failed: why
    playlist: str | None = None  # the retry put it in this playlist ("": none is set now)

    @property
    def added(self) -> bool:
        """A retry put the video in its playlist: the problem is solved."""
        return self.retry == COMPLETED


async def playlist_state(client: Client, row: VideoRow) -> PlaylistState | None:
    """The playlist problem of the video of `row`, with its retry; None when it has none."""
    if not row.playlist_problem:
        return None
    state = PlaylistState(row.playlist_problem)
    handle = client.get_workflow_handle(playlist_retry_id(row.workflow_id), result_type=str)
    description = await description_or_none(client, handle.id)
    if description is None:
        return state
    state.retry = description.status
    if state.retry == COMPLETED:
        state.playlist = await handle.result(follow_runs=False)
    elif state.retry == FAILED:
        state.retry_failure = await failure_reason(handle)
    return state


async def retry_playlist(client: Client, workflow_id: str) -> PlaylistState:
    """Run the playlist step of a completed video whose playlist YouTube refused again, on its
    host; returns its state, the retry running. WorkflowEndedError (nothing to retry) for a
    video without that problem, or already added since."""
    handle = client.get_workflow_handle(workflow_id, result_type=VideoResult)
    row = await read_row(await describe(handle))
    state = await playlist_state(client, row) if row.execution_status == COMPLETED else None
    if state is None or state.added:
        raise WorkflowEndedError(workflow_id, row.execution_status, "nothing to retry")
    if state.retry == RUNNING:
        return state
    result = await handle.result(follow_runs=False)
    request = PlaylistRetryInput(
        workflow_id, result.video_path, result.published.video_id or "", row.host
    )
    await client.start_workflow(
        PLAYLIST_RETRY_WORKFLOW,
        request,
        id=playlist_retry_id(workflow_id),
        task_queue=row.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"{row.video_file}: its playlist step again",
    )
    state.retry, state.retry_failure = RUNNING, None
    return state
