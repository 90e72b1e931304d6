"""Thin Temporal activities around the stage functions.

Each activity is a sync function run on the worker's thread pool. While it runs, a companion
thread heartbeats every few seconds (so a dead worker is noticed quickly) with the stage's latest
progress, and forwards that progress to the workflow as a signal so `get_status` can show it.

Errors become what the workflow needs to decide: a stage's `PipelineError` (bad input) is a
non-retryable `ApplicationError` named after the error class, which fails the video once (its one
detail a `messages.FailureRemedy`: the step that fixes it); a `QuotaExhaustedError` or a
`NeedsAttentionError`, and an `OSError` of a full disk, a missing permission or a read-only
filesystem, are non-retryable too but carry a `messages.Hold` as their one detail (the time to
try again after a quota, or the time before which a problem is not worth trying again by itself
when the error names one), and the workflow waits instead of failing; anything else is retried.
A message says what is wrong, never a command: each front end words the remedy. Every activity
first checks that the source video (and its workspace) still hold the content its workflow
started with.

Cancellation is cooperative: the SDK never raises into a stage at an arbitrary line (a cleanup
always finishes its move); a stage with progress stops at its next progress call.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory, CancelledError

import cleanup
import ingest
import thumbnail_enhancement
import thumbnail_selector
import uploader
import video_branding
import video_prep
from config import get_settings
from errors import NeedsAttentionError, PipelineError, QuotaExhaustedError
from temporal.messages import (
    HOLD_FOR_ATTENTION,
    HOLD_FOR_QUOTA,
    PROGRESS_SIGNAL,
    BrandedVideo,
    CandidateInfo,
    EnhanceRequest,
    FailureRemedy,
    Hold,
    PlaylistRetryInput,
    PreparedVideo,
    PreviewRequest,
    ProgressReport,
    PublishedVideo,
    RankRequest,
    SelectRequest,
)
from thumbnail_ranking import preview_jpeg, rank_and_store_top_candidates
from workspace import claim_workspace, workspace_dir

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 5.0
PROGRESS_SIGNAL_SECONDS = 30.0

# YouTube's daily limits reset at midnight Pacific time; the waiting videos try again a few
# minutes later, spread over QUOTA_STAGGER so they do not all call at the same second.
QUOTA_RESET_ZONE = ZoneInfo("America/Los_Angeles")
QUOTA_RESUME_AFTER_RESET = timedelta(minutes=5)
QUOTA_STAGGER = timedelta(minutes=25)
# A video the branding cannot take does not change by itself: it waits for a person (a new
# recording, or VIDEO_TITLES=off), whose `retry` is never held back, not for a timer.
BRANDING_REFUSED_RETRY = timedelta(days=1)

# errno -> (what happened, what to do, the ApplicationError type)
_ATTENTION_ERRNOS = {
    errno.ENOSPC: ("the disk is full", "free some space there", "DiskFullError"),
    errno.EDQUOT: ("the disk quota is used up", "free some space there", "DiskFullError"),
    errno.EACCES: ("permission denied", "let this user write there", "PermissionDeniedError"),
    errno.EPERM: ("operation not permitted", "let this user write there", "PermissionDeniedError"),
    errno.EROFS: ("the filesystem is read-only", "mount it read-write", "ReadOnlyError"),
}

T = TypeVar("T")
ProgressCallback = Callable[[int, int], None]


def quota_resume_time(now: datetime, key: str) -> datetime:
    """When a video that hit a YouTube daily limit at `now` tries again: the next midnight
    Pacific time, plus a few minutes that depend on `key` (its workflow id)."""
    pacific = now.astimezone(QUOTA_RESET_ZONE)
    midnight = datetime.combine(
        pacific.date() + timedelta(days=1), clock_time(0), tzinfo=QUOTA_RESET_ZONE
    )
    stagger = zlib.crc32(key.encode()) % int(QUOTA_STAGGER.total_seconds())
    return (midnight + QUOTA_RESUME_AFTER_RESET + timedelta(seconds=stagger)).astimezone(UTC)


def attention_for_os_error(error: OSError, places: Sequence[Path]) -> NeedsAttentionError | None:
    """A full disk, a permission or a read-only filesystem, as a person reads it (the path and
    the cause); None for other OS errors, which are retried."""
    known = _ATTENTION_ERRNOS.get(error.errno or 0)
    if known is None:
        return None
    cause, fix, _ = known
    where = error.filename or " or ".join(str(place) for place in places) or "the disk"
    return NeedsAttentionError(
        f"{where}: {cause} ({errno.errorcode[error.errno or 0]}: {error.strerror}); {fix}"
    )


def _held(
    error: PipelineError, kind: str, type_name: str, retry_at: str | None
) -> ApplicationError:
    redo = str(error.redo) if error.redo else None
    return ApplicationError(
        str(error).rstrip("."),
        Hold(kind, str(error).rstrip("."), redo, retry_at),
        type=type_name,
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,
    )


def _log_quota_hold(error: QuotaExhaustedError, retry_at: datetime) -> None:
    """One line in the worker's log as a video enters WAITING_FOR_QUOTA (each hold is one failed
    attempt: the workflow waits, then runs the step again), with when it goes on, in the café's
    time."""
    zone = get_settings().cafe_timezone
    local = retry_at.astimezone(zone)
    name = getattr(zone, "key", None) or local.tzname()
    log.warning(
        "%s: WAITING_FOR_QUOTA until %s (%s), then it goes on by itself: %s",
        activity.info().workflow_id,
        f"{local:%Y-%m-%d %H:%M}",
        name,
        str(error).rstrip("."),
    )


@contextmanager
def stage_errors(places: Sequence[Path]) -> Iterator[None]:
    """Turn a stage's expected errors into the ApplicationError the workflow acts on, without a
    stack trace; `places` are the folders the stage writes to, named when a disk error does not
    say which file it was about."""
    try:
        yield
    except QuotaExhaustedError as error:
        retry_at = quota_resume_time(datetime.now(UTC), activity.info().workflow_id)
        _log_quota_hold(error, retry_at)
        raise _held(error, HOLD_FOR_QUOTA, type(error).__name__, retry_at.isoformat()) from None
    except NeedsAttentionError as error:
        not_before = datetime.now(UTC) + error.retry_after if error.retry_after else None
        retry_at = not_before.isoformat() if not_before else None
        raise _held(error, HOLD_FOR_ATTENTION, type(error).__name__, retry_at) from None
    except PipelineError as error:
        raise ApplicationError(
            str(error),
            FailureRemedy(str(error.redo) if error.redo else None),
            type=type(error).__name__,
            non_retryable=True,
            category=ApplicationErrorCategory.BENIGN,
        ) from None
    except OSError as error:
        attention = attention_for_os_error(error, places)
        if attention is None:
            raise
        type_name = _ATTENTION_ERRNOS[error.errno or 0][2]
        raise _held(attention, HOLD_FOR_ATTENTION, type_name, None) from None


class VideoActivities:
    """The pipeline's activities. `client` and `loop` let progress reach the workflow."""

    def __init__(self, client: Client | None = None, loop: asyncio.AbstractEventLoop | None = None):
        self._client = client
        self._loop = loop

    def _run(self, work: Callable[[ProgressCallback], T], places: Sequence[Path]) -> T:
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
            with stage_errors(places):
                return work(progress)
        finally:
            stop.set()
            beater.join()

    @activity.defn(name="prepare_video", no_thread_cancel_exception=True)
    def prepare_video(self, video_path: str, fingerprint: str = "") -> PreparedVideo:
        video = Path(video_path)

        def prepare(_: ProgressCallback) -> video_prep.MatchMetadata:
            ingest.require_same_source(video, fingerprint, workspace=False)
            if fingerprint:
                claim_workspace(video, fingerprint)
            return video_prep.prepare_single_video(video)

        metadata = self._run(prepare, [workspace_dir(video)])
        written = datetime.fromtimestamp(video.stat().st_mtime, UTC).isoformat()
        return PreparedVideo(
            metadata.video_file, metadata.title, metadata.duration_seconds, written
        )

    @activity.defn(name="rank_thumbnails", no_thread_cancel_exception=True)
    def rank_thumbnails(self, request: RankRequest) -> list[CandidateInfo]:
        video = Path(request.video_path)

        def rank(progress: ProgressCallback) -> list:
            ingest.require_same_source(video, request.fingerprint)
            ranking = rank_and_store_top_candidates(video, request.top_n, progress=progress)
            return ranking.candidates

        candidates = self._run(rank, [workspace_dir(video)])
        # the crop of the template the workflow renders with: a remote chooser shows it
        template = request.template_name or get_settings().thumbnail_template
        return [
            CandidateInfo(c.id, c.rank, c.score, c.timestamp, c.file, c.crops.get(template))
            for c in candidates
        ]

    @activity.defn(name="make_preview", no_thread_cancel_exception=True)
    def make_preview(self, request: PreviewRequest) -> bytes:
        """The candidate's JPEG preview (at most 40 KB): returned alone, the bytes are stored
        as they are, not as JSON."""
        video = Path(request.video_path)

        def preview(_: ProgressCallback) -> bytes:
            ingest.require_same_source(video, request.fingerprint)
            return preview_jpeg(Path(request.file))

        return self._run(preview, [workspace_dir(video)])

    @activity.defn(name="select_thumbnail", no_thread_cancel_exception=True)
    def select_thumbnail(self, request: SelectRequest) -> str:
        video = Path(request.video_path)

        def select(_: ProgressCallback) -> thumbnail_selector.Selection:
            ingest.require_same_source(video, request.fingerprint)
            return thumbnail_selector.record_selection(video, request.candidate_id)

        return self._run(select, [workspace_dir(video)]).candidate_id

    @activity.defn(name="enhance_thumbnail", no_thread_cancel_exception=True)
    def enhance_thumbnail(self, request: EnhanceRequest) -> str:
        video = Path(request.video_path)

        def enhance(_: ProgressCallback) -> Path:
            ingest.require_same_source(video, request.fingerprint)
            return thumbnail_enhancement.render_thumbnail(video, request.template_name)

        return str(self._run(enhance, [workspace_dir(video)]))

    @activity.defn(name="brand_video", no_thread_cancel_exception=True)
    def brand_video(self, video_path: str, fingerprint: str = "") -> BrandedVideo:
        """The branded copy in the workspace, resumed from its finished pieces. A video it
        cannot be made from holds for a person (its one line says how to publish it unbranded)
        instead of failing: the fix is a setting or a new recording, then a retry."""
        video = Path(video_path)

        def brand(progress: ProgressCallback) -> BrandedVideo:
            ingest.require_same_source(video, fingerprint)
            try:
                made = video_branding.brand_video(video, progress)
            except video_branding.BrandingError as error:
                retry_at = datetime.now(UTC) + BRANDING_REFUSED_RETRY
                kind = type(error).__name__
                raise _held(error, HOLD_FOR_ATTENTION, kind, retry_at.isoformat()) from None
            if made is None:
                return BrandedVideo()
            return BrandedVideo(made.method, made.reason, made.encoder, made.resumed_pieces)

        return self._run(brand, [workspace_dir(video)])

    @activity.defn(name="upload_video", no_thread_cancel_exception=True)
    def upload_video(self, video_path: str, fingerprint: str = "") -> PublishedVideo:
        video = Path(video_path)

        def upload(progress: ProgressCallback) -> uploader.UploadRecord:
            ingest.require_same_source(video, fingerprint)
            return uploader.upload_single_video(video, progress=progress)

        places = [workspace_dir(video)]
        if get_settings().upload_target == "local":
            places.append(get_settings().publish_dir)
        record = self._run(upload, places)
        return PublishedVideo(
            record.target,
            record.video_id,
            record.url,
            record.publish_at,
            record.playlist,
            record.playlist_problem,
            record.quota_units,
        )

    @activity.defn(name="add_to_playlist_again", no_thread_cancel_exception=True)
    def add_to_playlist_again(self, request: PlaylistRetryInput) -> str:
        """A published video's playlist step again, on its workspace in place or archived;
        returns the playlist's title (empty: YOUTUBE_PLAYLIST names none now)."""
        video = Path(request.video_path)

        def add(_: ProgressCallback) -> uploader.UploadRecord:
            workspace = cleanup.current_workspace(video)
            if workspace is None:
                raise PipelineError(
                    f"{video.name}: its workspace is neither at {workspace_dir(video)} nor "
                    f"archived in {get_settings().completed_dir}; add the video to its playlist "
                    "in YouTube Studio"
                )
            return uploader.add_to_playlist_again(workspace, request.video_id)

        return self._run(add, [get_settings().completed_dir]).playlist or ""

    @activity.defn(name="cleanup_video", no_thread_cancel_exception=True)
    def cleanup_video(self, video_path: str, fingerprint: str = "") -> str:
        video = Path(video_path)

        def archive(_: ProgressCallback) -> cleanup.CleanupResult:
            ingest.require_same_source(video, fingerprint, gone_ok=True)
            return cleanup.cleanup_single_video(video)

        return str(self._run(archive, [get_settings().completed_dir]))

    def all(self) -> list[Callable]:
        return [
            self.prepare_video,
            self.rank_thumbnails,
            self.make_preview,
            self.select_thumbnail,
            self.enhance_thumbnail,
            self.brand_video,
            self.upload_video,
            self.cleanup_video,
            self.add_to_playlist_again,
        ]
