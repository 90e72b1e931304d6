"""`VideoSource` over `temporal.client`: the videos as Temporal knows them.

The candidates come from the workflow's status query and their previews from its preview query
(a worker must answer; the previews travel through Temporal, so the chooser runs on any machine
that reaches it). A video started before previews existed has none: its candidate file is read
instead, only inside WORKSPACE_DIR, where that worker's workspace is readable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from temporal import client as temporal_client
from temporal import messages
from temporal.client import (
    ChoiceRejectedError,
    NoWorkerError,
    OperatorError,
    WorkflowEndedError,
)
from temporal.messages import NEEDS_ATTENTION, WAITING_FOR_SELECTION, VideoStatus
from temporal.workflows import ProcessVideoWorkflow
from web.source import (
    ActionOutcome,
    Candidate,
    ChoiceOutcome,
    ChoiceStatus,
    Hold,
    RecentVideo,
    SourceError,
    WaitingVideo,
)

log = logging.getLogger(__name__)

QUERY_SECONDS = 3
# A video whose workflow did not answer (its host's worker is down) is asked again only after
# this long: every refresh of the page would otherwise wait QUERY_SECONDS for it.
UNANSWERED_RETRY_SECONDS = 30
# The workflow could not answer a query: not a video's workflow (an id typed into an address),
# or one its worker cannot replay (code changed under it).
QUERY_FAILURES = (
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    temporal_client.WorkflowUnansweredError,
)


@contextmanager
def _as_source_errors() -> Iterator[None]:
    try:
        yield
    except OperatorError as error:
        raise SourceError(str(error)) from None
    except RPCError as error:
        raise SourceError(f"Temporal refused the request: {error.message}") from None
    except QUERY_FAILURES as error:
        raise SourceError(f"The workflow could not answer: {error}") from None


class TemporalVideoSource:
    def __init__(self, client: Client, settings: Settings):
        self._client = client
        self._workspace = settings.workspace_dir.resolve()
        # candidate files by workflow id, from the last status seen: a preview needs no query
        self._files: dict[str, dict[str, Path]] = {}
        self._published: dict[str, str | None] = {}  # a completed workflow's link never changes
        # what a waiting video showed when last listed: (its listing, title, candidates)
        self._known: dict[str, tuple[temporal_client.WaitingVideo, str, list[Candidate]]] = {}
        self._unanswered: dict[str, float] = {}  # workflow id -> when its query went unanswered

    async def waiting(self) -> list[WaitingVideo]:
        """One visibility query; a status query only for a video not seen waiting before (a
        waiting video's title and candidates do not change)."""
        with _as_source_errors():
            listed = await temporal_client.list_waiting(self._client)
            unknown = [v for v in listed if self._to_ask(v)]
            statuses = await asyncio.gather(*(self._status(v.workflow_id) for v in unknown))
        for video, status in zip(unknown, statuses, strict=True):
            if status is None:
                self._unanswered[video.workflow_id] = time.monotonic()
                continue
            self._unanswered.pop(video.workflow_id, None)
            if status.stage != WAITING_FOR_SELECTION:
                continue  # chosen since the list was read
            candidates = [
                Candidate(c.id, c.rank, c.score, c.timestamp, c.crop) for c in status.candidates
            ]
            self._known[video.workflow_id] = (video, status.title or video.video_file, candidates)
        listed_ids = {video.workflow_id for video in listed}
        for cache in (self._known, self._files, self._unanswered):
            for gone in cache.keys() - listed_ids:
                del cache[gone]
        videos = []
        for video in listed:
            _, title, candidates = self._known.get(video.workflow_id, (video, video.video_file, []))
            videos.append(
                WaitingVideo(
                    video.workflow_id,
                    title,
                    video.video_file,
                    video.host or None,
                    video.waiting_since,
                    candidates,
                )
            )
        return videos

    def _to_ask(self, video: temporal_client.WaitingVideo) -> bool:
        """Whether to query the video: not known as listed, and not left unanswered lately."""
        if self._known.get(video.workflow_id, (None,))[0] == video:
            return False
        asked = self._unanswered.get(video.workflow_id)
        return asked is None or time.monotonic() - asked >= UNANSWERED_RETRY_SECONDS

    async def _status(self, workflow_id: str) -> VideoStatus | None:
        """The workflow's status, or None when no worker answers in time."""
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            status = await temporal_client.query_status(handle, timeout_seconds=QUERY_SECONDS)
        except RPCError as error:
            if error.status in (*temporal_client.NO_WORKER_CODES, RPCStatusCode.NOT_FOUND):
                return None
            raise
        except QUERY_FAILURES as error:  # the other videos are still shown
            log.info("%s does not answer its status query: %s", workflow_id, error)
            return None
        self._files[workflow_id] = {c.id: Path(c.file) for c in status.candidates}
        return status

    async def preview(self, workflow_id: str, candidate_id: str) -> bytes | None:
        with _as_source_errors():
            preview = await temporal_client.get_preview(self._client, workflow_id, candidate_id)
        return preview or await self._candidate_file(workflow_id, candidate_id)

    async def _candidate_file(self, workflow_id: str, candidate_id: str) -> bytes | None:
        """The full-size candidate of a video ranked before previews existed."""
        path = self._files.get(workflow_id, {}).get(candidate_id)
        if path is None:
            with _as_source_errors():
                await self._status(workflow_id)
            path = self._files.get(workflow_id, {}).get(candidate_id)
        if path is None:
            return None
        if not path.resolve().is_relative_to(self._workspace):
            log.warning("%s: candidate %s is outside WORKSPACE_DIR", workflow_id, candidate_id)
            return None
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError as error:  # another machine's workspace, or cleaned up meanwhile
            log.info("%s: no preview for %s (%s)", workflow_id, candidate_id, error.strerror)
            return None

    async def choose(self, workflow_id: str, candidate_id: str) -> ChoiceOutcome:
        with _as_source_errors():
            return await self._choose(workflow_id, candidate_id)

    async def _choose(self, workflow_id: str, candidate_id: str) -> ChoiceOutcome:
        detail = await temporal_client.describe_video(self._client, workflow_id)
        status = detail.status
        if detail.execution_status != "RUNNING":
            taken = status.selected_candidate_id if status else None
            if taken and taken != candidate_id:
                return _taken(status, candidate_id)
            raise WorkflowEndedError(workflow_id, detail.execution_status, "nothing to choose")
        if detail.unanswered:
            raise temporal_client.WorkflowUnansweredError(workflow_id, detail.unanswered)
        if status is None:
            raise NoWorkerError(workflow_id)
        try:
            await temporal_client.choose(self._client, workflow_id, status.video_path, candidate_id)
        except ChoiceRejectedError as refusal:
            # refused before anything was recorded: taken meanwhile, or not a choice it takes
            status = await temporal_client.get_status(self._client, workflow_id)
            taken = status.selected_candidate_id
            if taken is None:
                return ChoiceOutcome(ChoiceStatus.REFUSED, str(refusal))
            if taken != candidate_id:
                return _taken(status, candidate_id)
        return _accepted(status, candidate_id)

    async def recent(self, limit: int) -> list[RecentVideo]:
        with _as_source_errors():
            summaries = await temporal_client.recent_workflows(self._client, limit)
            links = await asyncio.gather(
                *(
                    self._published_link(s.workflow_id)
                    for s in summaries
                    if s.execution_status == "COMPLETED"
                )
            )
        completed = iter(links)
        shown = {s.workflow_id for s in summaries}
        for gone in self._published.keys() - shown:
            del self._published[gone]
        return [
            RecentVideo(
                workflow_id=s.workflow_id,
                video_file=s.video_file,
                stage=s.stage,
                execution_status=s.execution_status,
                started_at=s.started_at,
                progress_percent=s.progress_percent,
                hold=_hold(s.hold),
                failure=s.failure,
                published_link=next(completed) if s.execution_status == "COMPLETED" else None,
            )
            for s in summaries
        ]

    async def _published_link(self, workflow_id: str) -> str | None:
        if workflow_id not in self._published:
            handle = self._client.get_workflow_handle_for(ProcessVideoWorkflow.run, workflow_id)
            try:
                result = await handle.result(follow_runs=False, rpc_timeout=timedelta(seconds=5))
            except WorkflowFailureError:
                return None
            self._published[workflow_id] = result.published.url or result.published.video_id
        return self._published[workflow_id]

    async def retry(self, workflow_id: str) -> ActionOutcome:
        with _as_source_errors():
            stage = await temporal_client.retry(self._client, workflow_id)
        return ActionOutcome(f"{workflow_id} was {stage}: its step runs again now.")

    async def cancel(self, workflow_id: str) -> ActionOutcome:
        with _as_source_errors():
            await temporal_client.cancel(self._client, workflow_id)
        return ActionOutcome(
            f"Cancellation requested for {workflow_id}: it stops at its next step; the source "
            "video stays in place."
        )


def _hold(hold: messages.Hold | None) -> Hold | None:
    if hold is None:
        return None
    return Hold(
        needs_attention=hold.stage == NEEDS_ATTENTION,
        step=hold.step,
        reason=hold.reason,
        resumes_at=datetime.fromisoformat(hold.retry_at),
    )


def _accepted(status: VideoStatus, candidate_id: str) -> ChoiceOutcome:
    return ChoiceOutcome(
        ChoiceStatus.ACCEPTED,
        f"Chose {_describe(status, candidate_id)} for {Path(status.video_path).name}.",
        candidate_id,
    )


def _taken(status: VideoStatus, candidate_id: str) -> ChoiceOutcome:
    taken = status.selected_candidate_id or ""
    by = "the selection timeout's pick" if status.chosen_by_timeout else "an earlier choice"
    return ChoiceOutcome(
        ChoiceStatus.ALREADY_TAKEN,
        f"{Path(status.video_path).name} had already taken {_describe(status, taken)} ({by}); "
        f"{candidate_id} was not used.",
        taken,
    )


def _describe(status: VideoStatus, candidate_id: str) -> str:
    rank = next((c.rank for c in status.candidates if c.id == candidate_id), None)
    return f"rank {rank} ({candidate_id})" if rank else candidate_id
