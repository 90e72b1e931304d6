"""A choice made while no worker runs: kept, as the signal the Temporal Web UI sends.

Without a worker nothing answers a query or an update, but the server alone keeps the video's
history: its input (the path and host), the candidates its ranking returned, and the choices
already signalled. The client checks a choice against those candidates (a wrong one is refused
before anything is recorded), then signals it; the workflow checks it again when a worker runs,
and goes on by itself. A choice signalled earlier and not applied yet is kept, not doubled.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus

from temporal.client.choosing import ChoiceCandidate, ChoiceRequest
from temporal.client.errors import ChoiceRejectedError, NotWaitingError, WorkflowEndedError
from temporal.client.queries import describe
from temporal.client.rows import read_row
from temporal.messages import (
    THUMBNAIL_SELECTED_SIGNAL,
    VIDEO_STAGE,
    WAITING_FOR_SELECTION,
    CandidateInfo,
    ProcessVideoInput,
    ThumbnailSelectedSignal,
)

RANK_ACTIVITY = "rank_thumbnails"


@dataclass
class KeptChoice:
    """A choice recorded for a video whose worker does not run: applied when it runs."""

    candidate_id: str
    rank: int | None
    video_file: str
    host: str  # WORKER_NAME of the video's host; empty: any worker
    earlier: bool = False  # a choice signalled before was kept, not this one


@dataclass
class _History:
    request: ChoiceRequest
    signalled: str | None  # the candidate of a valid choice signalled since the ranking


async def request_from_history(client: Client, workflow_id: str) -> ChoiceRequest:
    """The candidates of a video waiting for its choice, read from its history alone (no
    previews: those need a worker). NotWaitingError or WorkflowEndedError when it does not
    wait."""
    return (await _read(client, workflow_id)).request


async def keep_choice(client: Client, workflow_id: str, candidate_id: str | None) -> KeptChoice:
    """Record the choice (None: the top-ranked) of a video no worker runs now, after checking
    it against its candidates; a choice signalled earlier and not applied yet is kept instead.
    A candidate it does not have is refused (ChoiceRejectedError), and nothing is sent."""
    found = await _read(client, workflow_id)
    request = found.request
    if found.signalled is not None:
        return _kept(request, found.signalled, earlier=True)
    chosen = candidate_id or request.candidates[0].id
    if request.rank_of(chosen) is None:
        ids = ", ".join(c.id for c in request.candidates)
        raise ChoiceRejectedError(f"{chosen[:40]!r} is not one of this video's candidates ({ids})")
    await client.get_workflow_handle(workflow_id).signal(
        THUMBNAIL_SELECTED_SIGNAL, ThumbnailSelectedSignal(request.video_path, chosen)
    )
    return _kept(request, chosen)


def _kept(request: ChoiceRequest, candidate_id: str, earlier: bool = False) -> KeptChoice:
    rank = request.rank_of(candidate_id)
    return KeptChoice(candidate_id, rank, request.video_file, request.host, earlier)


async def _read(client: Client, workflow_id: str) -> _History:
    handle = client.get_workflow_handle(workflow_id)
    row = await read_row(await describe(handle))
    if row.execution_status != WorkflowExecutionStatus.RUNNING:
        raise WorkflowEndedError(workflow_id, row.execution_status, "nothing to choose")
    if row.stage != WAITING_FOR_SELECTION:
        raise NotWaitingError(workflow_id, row.stage)
    converter = client.data_converter
    started: ProcessVideoInput | None = None
    rank_scheduled: set[int] = set()
    candidates: list[CandidateInfo] = []
    signals: list[HistoryEvent] = []
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_started_event_attributes"):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            (started,) = await converter.decode(payloads, [ProcessVideoInput])
        elif event.HasField("activity_task_scheduled_event_attributes"):
            if event.activity_task_scheduled_event_attributes.activity_type.name == RANK_ACTIVITY:
                rank_scheduled.add(event.event_id)
        elif event.HasField("activity_task_completed_event_attributes"):
            completed = event.activity_task_completed_event_attributes
            if completed.scheduled_event_id in rank_scheduled:
                (candidates,) = await converter.decode(
                    completed.result.payloads, [list[CandidateInfo]]
                )
        elif event.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            stage = fields.indexed_fields.get(VIDEO_STAGE.name)
            if stage is not None and WAITING_FOR_SELECTION in stage.data.decode():
                signals = []  # the workflow takes only a choice made while it waits
        elif _is_choice_signal(event):
            signals.append(event)
    if started is None or not candidates:
        raise NotWaitingError(workflow_id, row.stage)
    request = ChoiceRequest(
        workflow_id,
        started.video_path,
        row.video_file,
        started.host,
        [
            ChoiceCandidate(c.id, c.rank, c.score, c.timestamp, None, c.file, c.crop)
            for c in candidates
        ],
    )
    return _History(request, await _signalled_choice(client, signals, request))


def _is_choice_signal(event: HistoryEvent) -> bool:
    signalled = event.workflow_execution_signaled_event_attributes
    return bool(signalled.signal_name == THUMBNAIL_SELECTED_SIGNAL)


async def _signalled_choice(
    client: Client, signals: list[HistoryEvent], request: ChoiceRequest
) -> str | None:
    """The first signalled choice the workflow will take: for this video, of its candidates."""
    for event in signals:
        payloads = event.workflow_execution_signaled_event_attributes.input.payloads
        if len(payloads) != 1:
            continue
        try:
            (data,) = await client.data_converter.decode(payloads, [dict])
        except Exception:  # a payload the workflow refuses as well
            continue
        if not isinstance(data, dict) or data.get("video_path", "") not in ("", request.video_path):
            continue
        frame = data.get("selected_frame")
        if frame is None and request.candidates:
            return request.candidates[0].id
        if isinstance(frame, str) and request.rank_of(frame) is not None:
            return frame
    return None
