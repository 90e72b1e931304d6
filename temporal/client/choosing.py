"""Choosing a waiting video's thumbnail from any machine: its candidates with their previews
(through Temporal), and the choice sent as an update its workflow validates."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from temporal.client.describe import VideoDetail, describe_video
from temporal.client.errors import (
    ChoicePendingError,
    ChoiceRejectedError,
    NotWaitingError,
    NoWorkerError,
    PreviewsMissingError,
    WorkflowEndedError,
    WorkflowUnansweredError,
)
from temporal.client.queries import NO_WORKER_CODES, get_previews
from temporal.messages import (
    CHOOSE_THUMBNAIL_UPDATE,
    WAITING_FOR_SELECTION,
    CandidateInfo,
    ThumbnailSelectedSignal,
    VideoStatus,
)


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


def answered_status(detail: VideoDetail, doing: str = "nothing to choose") -> VideoStatus:
    """The status of a running workflow whose worker answered; else the OperatorError saying
    why there is none (it ended, it could not answer, no worker answered)."""
    if not detail.running:
        raise WorkflowEndedError(detail.workflow_id, detail.execution_status, doing)
    if detail.unanswered:
        raise WorkflowUnansweredError(detail.workflow_id, detail.unanswered)
    if detail.status is None:
        raise NoWorkerError(detail.workflow_id)
    return detail.status


async def choice_request(client: Client, workflow_id: str) -> ChoiceRequest:
    """The candidates of a video waiting for its choice, with their previews. Refused (one
    OperatorError) when it ended, no worker answers, it is not waiting, or a candidate has
    neither a preview nor a file readable here."""
    status = answered_status(await describe_video(client, workflow_id))
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
        choice_candidates(status.candidates, previews),
    )
    unseen = [c for c in request.candidates if c.preview is None and not _readable(c.file)]
    if unseen:
        raise PreviewsMissingError(request.video_file, len(unseen), status.host)
    return request


def choice_candidates(
    candidates: list[CandidateInfo], previews: dict[str, bytes]
) -> list[ChoiceCandidate]:
    """The candidates as a chooser shows them, each with its preview when there is one."""
    return [
        ChoiceCandidate(c.id, c.rank, c.score, c.timestamp, previews.get(c.id), c.file, c.crop)
        for c in candidates
    ]


def _readable(path: str) -> bool:
    return os.access(path, os.R_OK)


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
