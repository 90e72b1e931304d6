"""Thin Temporal activities around the stage functions.

Each activity is a sync function run on the worker's thread pool. While it runs, a companion
thread heartbeats every few seconds (so a dead worker is noticed quickly) with the stage's latest
progress, and forwards that progress to the workflow as a signal so `get_status` can show it.
A stage's `PipelineError` (bad input, auth, quota: things a person must fix) becomes a
non-retryable `ApplicationError` named after the error class; anything else is retried.
Cancellation is cooperative: the SDK never raises into a stage at an arbitrary line (a cleanup
always finishes its move); a stage with progress stops at its next progress call.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory, CancelledError

import cleanup
import thumbnail_enhancement
import thumbnail_selector
import uploader
import video_prep
from errors import PipelineError
from remedies import for_temporal
from thumbnail_ranking import rank_and_store_top_candidates

log = logging.getLogger(__name__)

PROGRESS_SIGNAL = "activity_progress"
HEARTBEAT_INTERVAL_SECONDS = 5.0
PROGRESS_SIGNAL_SECONDS = 30.0

T = TypeVar("T")
ProgressCallback = Callable[[int, int], None]


@dataclass
class PreparedVideo:
    video_file: str
    title: str
    duration_seconds: float


@dataclass
class RankRequest:
    video_path: str
    top_n: int


@dataclass
class CandidateInfo:
    id: str
    rank: int
    score: float
    timestamp: float
    file: str


@dataclass
class SelectRequest:
    video_path: str
    candidate_id: str


@dataclass
class EnhanceRequest:
    video_path: str
    template_name: str


@dataclass
class PublishedVideo:
    target: str
    video_id: str | None
    url: str | None


@dataclass
class ProgressReport:
    """Progress of the running activity; no secrets, it is visible in the Web UI."""

    activity: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


@contextmanager
def user_errors_are_final() -> Iterator[None]:
    """Turn a person-must-fix error into a non-retryable failure without a stack trace."""
    try:
        yield
    except PipelineError as error:
        raise ApplicationError(
            for_temporal(error),
            type=type(error).__name__,
            non_retryable=True,
            category=ApplicationErrorCategory.BENIGN,
        ) from None


class VideoActivities:
    """The pipeline's activities. `client` and `loop` let progress reach the workflow."""

    def __init__(self, client: Client | None = None, loop: asyncio.AbstractEventLoop | None = None):
        self._client = client
        self._loop = loop

    def _run(self, work: Callable[[ProgressCallback], T]) -> T:
        """Run `work(progress)` while heartbeating and forwarding its latest progress.

        A cancellation (seen through the heartbeats) stops the work at its next progress call,
        where the stage can stop cleanly, instead of at an arbitrary line of it.
        """
        info = activity.info()
        latest: ProgressReport | None = None
        forwarded: ProgressReport | None = None
        forwarded_at = 0.0
        stop = threading.Event()
        cancelled = threading.Event()
        context = contextvars.copy_context()

        def publish() -> None:
            nonlocal forwarded, forwarded_at
            report = latest
            context.run(activity.heartbeat, report)
            if context.run(activity.is_cancelled) and not cancelled.is_set():
                log.info("%s of %s: cancelled, stopping", info.activity_type, info.workflow_id)
                cancelled.set()
            if report is None or not (self._client and self._loop):
                return
            # Each signal adds to the workflow's history, which Temporal caps: a new percentage
            # at most every PROGRESS_SIGNAL_SECONDS keeps a day-long upload far under the cap.
            if forwarded is not None and (
                report.percent == forwarded.percent
                or time.monotonic() - forwarded_at < PROGRESS_SIGNAL_SECONDS
            ):
                return
            handle = self._client.get_workflow_handle(info.workflow_id)
            asyncio.run_coroutine_threadsafe(handle.signal(PROGRESS_SIGNAL, report), self._loop)
            forwarded, forwarded_at = report, time.monotonic()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_INTERVAL_SECONDS):
                publish()

        def progress(done: int, total: int) -> None:
            nonlocal latest
            if cancelled.is_set():
                raise CancelledError("cancelled by the operator")
            latest = ProgressReport(info.activity_type, done, total)

        beater = threading.Thread(target=beat, name=f"heartbeat-{info.activity_id}", daemon=True)
        beater.start()
        try:
            with user_errors_are_final():
                return work(progress)
        finally:
            stop.set()
            beater.join()

    @activity.defn(name="prepare_video", no_thread_cancel_exception=True)
    def prepare_video(self, video_path: str) -> PreparedVideo:
        metadata = self._run(lambda _: video_prep.prepare_single_video(Path(video_path)))
        return PreparedVideo(metadata.video_file, metadata.title, metadata.duration_seconds)

    @activity.defn(name="rank_thumbnails", no_thread_cancel_exception=True)
    def rank_thumbnails(self, request: RankRequest) -> list[CandidateInfo]:
        candidates = self._run(
            lambda progress: rank_and_store_top_candidates(
                Path(request.video_path), request.top_n, progress=progress
            )
        )
        return [CandidateInfo(c.id, c.rank, c.score, c.timestamp, c.file) for c in candidates]

    @activity.defn(name="select_thumbnail", no_thread_cancel_exception=True)
    def select_thumbnail(self, request: SelectRequest) -> str:
        selection = self._run(
            lambda _: thumbnail_selector.record_selection(
                Path(request.video_path), request.candidate_id
            )
        )
        return selection.candidate_id

    @activity.defn(name="enhance_thumbnail", no_thread_cancel_exception=True)
    def enhance_thumbnail(self, request: EnhanceRequest) -> str:
        thumbnail = self._run(
            lambda _: thumbnail_enhancement.render_thumbnail(
                Path(request.video_path), request.template_name
            )
        )
        return str(thumbnail)

    @activity.defn(name="upload_video", no_thread_cancel_exception=True)
    def upload_video(self, video_path: str) -> PublishedVideo:
        record = self._run(
            lambda progress: uploader.upload_single_video(Path(video_path), progress=progress)
        )
        return PublishedVideo(record.target, record.video_id, record.url)

    @activity.defn(name="cleanup_video", no_thread_cancel_exception=True)
    def cleanup_video(self, video_path: str) -> str:
        result = self._run(lambda _: cleanup.cleanup_single_video(Path(video_path)))
        return str(result)

    def all(self) -> list[Callable]:
        return [
            self.prepare_video,
            self.rank_thumbnails,
            self.select_thumbnail,
            self.enhance_thumbnail,
            self.upload_video,
            self.cleanup_video,
        ]
