"""Changing a published video's thumbnail from any machine, within its window: its candidates
(with the video's previews) and which one is live, from its companion workflow; the change sent
as an update the companion validates before anything is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from temporal.change_messages import (
    CHANGE_FAILED,
    CHANGE_THUMBNAIL_UPDATE,
    CHANGES_STATUS_QUERY,
    MEMO_CHANGES,
    ChangeDone,
    ChangeRequest,
    ChangesStatus,
    changes_workflow_id,
)
from temporal.client.choosing import ChoiceRequest, choice_candidates
from temporal.client.errors import (
    ChoiceRejectedError,
    NotHeldError,
    NoWorkerError,
    OperatorError,
)
from temporal.client.queries import NO_WORKER_CODES, description_or_none, get_previews
from temporal.messages import HELD_STAGES, RETRY_SIGNAL, VIDEO_STAGE

CHANGE_WAIT_SECONDS = 30.0


class NotChangeableError(OperatorError):
    """The video's thumbnail can no longer be changed from here (one line says why)."""


class ChangeWaitingError(OperatorError):
    """The change was taken but is not live yet: it waits for the video's host, or is held."""

    def __init__(self, video_file: str, candidate_id: str, why: str, host: str):
        self.host = host
        super().__init__(f"{video_file}: the change to {candidate_id} is taken and {why}")


class ChangeFailedError(OperatorError):
    def __init__(self, video_file: str, reason: str):
        super().__init__(f"{video_file}: the thumbnail was not changed: {reason}")


@dataclass
class ChangeOffer:
    """A published video whose thumbnail can change: its candidates and the live one."""

    choice: ChoiceRequest  # the candidates, as a chooser shows them
    live_candidate_id: str
    closes_at: str  # ISO, UTC
    changes_made: int
    changing_to: str | None  # a change under way


async def change_offer(client: Client, video_workflow_id: str) -> ChangeOffer:
    """What a chooser needs to change the video's thumbnail; refused in one line when it was
    published without a window, the window closed, or no worker answers."""
    companion = changes_workflow_id(video_workflow_id)
    status = await _changes_status(client, video_workflow_id, companion)
    ids = [candidate.id for candidate in status.candidates]
    try:
        previews = await get_previews(client, video_workflow_id, ids)
    except RPCError:  # the previews stay in the video's workflow; its files may be read here
        previews = {}
    choice = ChoiceRequest(
        video_workflow_id,
        status.video_path,
        Path(status.video_path).name,
        status.host,
        choice_candidates(status.candidates, previews),
    )
    return ChangeOffer(
        choice, status.live_candidate_id, status.closes_at, status.changes_made, status.changing_to
    )


async def _changes_status(client: Client, video_workflow_id: str, companion: str) -> ChangesStatus:
    description = await description_or_none(client, companion)
    if description is None:
        raise NotChangeableError(
            f"{video_workflow_id}: its thumbnail cannot be changed: it was published without a "
            "window for changes (by an earlier version, or with RECHOOSE_DAYS=0), or is not "
            "published yet"
        )
    if description.status != WorkflowExecutionStatus.RUNNING:
        memo = await description.memo()
        closes_at = (memo.get(MEMO_CHANGES) or {}).get("closes_at", "")
        raise NotChangeableError(window_closed(video_workflow_id, closes_at))
    try:
        return await client.get_workflow_handle(companion).query(
            CHANGES_STATUS_QUERY, result_type=ChangesStatus, rpc_timeout=timedelta(seconds=10)
        )
    except RPCError as error:
        if error.status in NO_WORKER_CODES:
            raise NoWorkerError(companion) from None
        raise


async def retry_change(client: Client, video_workflow_id: str) -> str:
    """Make a held change of the published video (YouTube refused it, a problem a person
    fixed) try again now; returns the stage it waited in."""
    companion = changes_workflow_id(video_workflow_id)
    description = await description_or_none(client, companion)
    stage = description.typed_search_attributes.get(VIDEO_STAGE) if description else None
    running = description is not None and description.status == WorkflowExecutionStatus.RUNNING
    if not running or stage not in HELD_STAGES:
        raise NotHeldError(video_workflow_id, stage or "COMPLETED")
    await client.get_workflow_handle(companion).signal(RETRY_SIGNAL)
    return stage


def window_closed(video: str, closes_at: str) -> str:
    when = f" at {closes_at[:16].replace('T', ' ')} UTC" if closes_at else ""
    return f"{video}: its window for changing the thumbnail closed{when}"


async def change_thumbnail(
    client: Client,
    video_workflow_id: str,
    video_path: str,
    candidate_id: str,
    wait_seconds: float = CHANGE_WAIT_SECONDS,
) -> ChangeDone:
    """Make `candidate_id` the published video's thumbnail; returns once it is live. Refused
    (nothing recorded) for an unknown candidate, the live one, or a closed window; a change not
    live within `wait_seconds` raises ChangeWaitingError saying what it waits for."""
    companion = changes_workflow_id(video_workflow_id)
    video_file = Path(video_path).name or video_workflow_id
    handle = client.get_workflow_handle(companion)
    try:
        update = await handle.start_update(
            CHANGE_THUMBNAIL_UPDATE,
            ChangeRequest(candidate_id, video_path),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=ChangeDone,
            rpc_timeout=timedelta(seconds=wait_seconds),
        )
    except WorkflowUpdateFailedError as error:
        raise ChoiceRejectedError(_reason(error)) from None
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            await _changes_status(client, video_workflow_id, companion)  # says why in one line
        raise
    try:
        return await update.result(rpc_timeout=timedelta(seconds=wait_seconds))
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == CHANGE_FAILED:
            raise ChangeFailedError(video_file, cause.message) from None
        raise ChoiceRejectedError(_reason(error)) from None  # the validator's refusal
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise await _waiting(client, companion, video_file, candidate_id) from None


async def _waiting(
    client: Client, companion: str, video_file: str, candidate_id: str
) -> ChangeWaitingError:
    status = await client.get_workflow_handle(companion).query(
        CHANGES_STATUS_QUERY, result_type=ChangesStatus
    )
    if status.hold is not None:
        why = (
            f"held (NEEDS_ATTENTION): {status.hold.problem}; it is tried again by itself, and "
            "the video stays published with its thumbnail until then"
        )
    else:
        host = status.host or "any worker"
        why = f"waits for {host} (its worker is down or busy): it is made once that runs"
    return ChangeWaitingError(video_file, candidate_id, why, status.host)


def _reason(error: WorkflowUpdateFailedError) -> str:
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause)
