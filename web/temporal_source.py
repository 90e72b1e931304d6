"""`VideoSource` over `temporal.client`: the videos as Temporal knows them.

The candidates come from the workflow's status query and their previews from its preview query
(a worker must answer; the previews travel through Temporal, so the chooser runs on any machine
that reaches it). A video started before previews existed has none: its candidate file is read
instead, only inside WORKSPACE_DIR, where that worker's workspace is readable.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from errors import message_with_remedy, remedy_named
from remedies import temporal_command_for
from temporal import client as temporal_client
from temporal.client import (
    ChangeOffer,
    ChangeWaitingError,
    ChoiceRejectedError,
    KeptChoice,
    NoWorkerError,
    OperatorError,
    WaitingVideo,
    WorkflowEndedError,
    WorkflowSummary,
    WorkflowUnansweredError,
)
from temporal.client.stats import Stats
from temporal.messages import (
    WAITING_FOR_SELECTION,
    CandidateInfo,
    InboxFile,
    VideoResult,
    VideoStatus,
)
from web.source import (
    ActionOutcome,
    ChoiceOutcome,
    ChoiceStatus,
    RecentVideo,
    SourceError,
)

log = logging.getLogger(__name__)

COMPLETED = WorkflowExecutionStatus.COMPLETED
RUNNING = WorkflowExecutionStatus.RUNNING

QUERY_SECONDS = 3
# A video whose workflow did not answer (its host's worker is down) is asked again only after
# this long: every refresh of the page would otherwise wait QUERY_SECONDS for it.
UNANSWERED_RETRY_SECONDS = 30
# The workflow could not answer a query: not a video's workflow (an id typed into an address),
# or one its worker cannot replay (code changed under it).
QUERY_FAILURES = (
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUnansweredError,
)


def error_text(error: OperatorError) -> str:
    """An operator error as the page says it: what is wrong, and what a person does there."""
    problem = str(error)
    if isinstance(error, NoWorkerError):
        return f"{problem}: its worker is not running; start it on the video's machine."
    if isinstance(error, WorkflowUnansweredError):
        return f"{problem}. The worker's log says more."
    if isinstance(error, WorkflowEndedError) and error.can_run_again:
        return f"{problem}; it can be started again on its machine."
    return problem if problem.endswith(".") else f"{problem}."


def failure_text(summary: WorkflowSummary) -> str | None:
    """Why a video failed, with the command that fixes it, or why it was cancelled."""
    if summary.failure is not None:
        redo = remedy_named(summary.failure.redo)
        return message_with_remedy(summary.failure.message, redo, temporal_command_for)
    return f"cancelled: {summary.cancel_reason}" if summary.cancel_reason else None


@contextmanager
def _as_source_errors() -> Iterator[None]:
    try:
        yield
    except OperatorError as error:
        raise SourceError(error_text(error)) from None
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
        self._known: dict[str, tuple[WaitingVideo, str, list[CandidateInfo]]] = {}
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
            title = status.title or video.video_file
            self._known[video.workflow_id] = (video, title, status.candidates)
        listed_ids = {video.workflow_id for video in listed}
        for cache in (self._known, self._files, self._unanswered):
            for gone in cache.keys() - listed_ids:
                del cache[gone]
        videos = []
        for video in listed:
            _, title, candidates = self._known.get(video.workflow_id, (video, video.video_file, []))
            videos.append(dataclasses.replace(video, title=title, candidates=candidates))
        return videos

    def _to_ask(self, video: WaitingVideo) -> bool:
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
        taken = detail.status.selected_candidate_id if detail.status else None
        if not detail.running and taken and taken != candidate_id:
            return _taken(detail.status, candidate_id)
        try:
            status = temporal_client.answered_status(detail)
        except NoWorkerError:  # kept, for when its worker runs
            kept = await temporal_client.keep_choice(self._client, workflow_id, candidate_id)
            return _kept(kept, candidate_id)
        try:
            await temporal_client.choose(self._client, workflow_id, status.video_path, candidate_id)
        except ChoiceRejectedError as refusal:
            # refused before anything was recorded: taken meanwhile, or not a choice it takes
            status = await temporal_client.get_status(self._client, workflow_id)
            taken = status.selected_candidate_id
            if taken is None:
                return ChoiceOutcome(ChoiceStatus.REFUSED, error_text(refusal))
            if taken != candidate_id:
                return _taken(status, candidate_id)
        return _accepted(status, candidate_id)

    async def change_offer(self, workflow_id: str) -> ChangeOffer:
        with _as_source_errors():
            return await temporal_client.change_offer(self._client, workflow_id)

    async def change(self, workflow_id: str, candidate_id: str) -> ChoiceOutcome:
        with _as_source_errors():
            offer = await temporal_client.change_offer(self._client, workflow_id)
            video_file = offer.choice.video_file
            try:
                done = await temporal_client.change_thumbnail(
                    self._client, workflow_id, offer.choice.video_path, candidate_id
                )
            except ChoiceRejectedError as refusal:
                return ChoiceOutcome(ChoiceStatus.REFUSED, error_text(refusal))
            except ChangeWaitingError as waiting:
                return ChoiceOutcome(ChoiceStatus.ACCEPTED, error_text(waiting), candidate_id)
        where = "on YouTube" if done.target == "youtube" else "in the publish folder"
        return ChoiceOutcome(
            ChoiceStatus.ACCEPTED,
            f"Rank {done.rank} is now the thumbnail of {video_file} {where}.",
            candidate_id,
        )

    async def stats(self, days: float) -> Stats:
        with _as_source_errors():
            return await temporal_client.video_stats(self._client, days)

    async def recent(self, limit: int) -> list[RecentVideo]:
        with _as_source_errors():
            summaries = await temporal_client.recent_workflows(self._client, limit)
            completed = [s for s in summaries if s.execution_status == COMPLETED]
            links = await asyncio.gather(*(self._published_link(s.workflow_id) for s in completed))
        published = dict(zip((s.workflow_id for s in completed), links, strict=True))
        for gone in self._published.keys() - {s.workflow_id for s in summaries}:
            del self._published[gone]
        return [
            RecentVideo(
                workflow_id=s.workflow_id,
                video_file=s.video_file,
                stage=s.stage,
                execution_status=s.execution_status,
                started_at=s.started_at,
                progress_percent=s.progress_percent,
                hold=s.hold,
                failure=failure_text(s),
                published_link=published.get(s.workflow_id),
                host=s.host,
                playlist_problem=s.playlist.problem
                if s.playlist and not s.playlist.added
                else None,
                playlist_retrying=bool(s.playlist and s.playlist.retry == RUNNING),
                branding_percent=s.branding_percent,
            )
            for s in summaries
        ]

    async def not_started(self) -> list[InboxFile]:
        with _as_source_errors():
            return await temporal_client.inbox_files(self._client)

    async def _published_link(self, workflow_id: str) -> str | None:
        if workflow_id not in self._published:
            handle = self._client.get_workflow_handle(workflow_id, result_type=VideoResult)
            try:
                result = await handle.result(follow_runs=False, rpc_timeout=timedelta(seconds=5))
            except WorkflowFailureError:
                return None
            self._published[workflow_id] = result.published.url or result.published.video_id
        return self._published[workflow_id]

    async def retry(self, workflow_id: str) -> ActionOutcome:
        with _as_source_errors():
            stage = await temporal_client.retry(self._client, workflow_id)
        if stage == COMPLETED.name:  # published without the playlist YouTube refused
            return ActionOutcome(f"{workflow_id}: its playlist step runs again now.")
        return ActionOutcome(f"{workflow_id} was {stage}: its step runs again now.")

    async def cancel(self, workflow_id: str) -> ActionOutcome:
        with _as_source_errors():
            await temporal_client.cancel(self._client, workflow_id)
        return ActionOutcome(
            f"Cancellation requested for {workflow_id}: it stops at its next step; the source "
            "video stays in place."
        )


def _accepted(status: VideoStatus, candidate_id: str) -> ChoiceOutcome:
    return ChoiceOutcome(
        ChoiceStatus.ACCEPTED,
        f"Chose {_describe(status, candidate_id)} for {Path(status.video_path).name}.",
        candidate_id,
    )


def _kept(kept: KeptChoice, candidate_id: str) -> ChoiceOutcome:
    """A choice recorded while no worker runs the video, or the one recorded before it."""
    when = f"when its worker runs on {kept.host}" if kept.host else "when a worker runs"
    which = f"rank {kept.rank} ({kept.candidate_id})"
    if kept.earlier and kept.candidate_id != candidate_id:
        message = (
            f"{kept.video_file} already has {which} recorded, applied {when}; {candidate_id} "
            "was not used."
        )
        return ChoiceOutcome(ChoiceStatus.ALREADY_TAKEN, message, kept.candidate_id)
    message = f"Chose {which} for {kept.video_file}: no worker runs it now; applied {when}."
    return ChoiceOutcome(ChoiceStatus.ACCEPTED, message, kept.candidate_id)


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
