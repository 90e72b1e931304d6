"""ProcessVideoWorkflow: one durable run per match video.

prepare -> rank -> wait for the operator's ThumbnailSelectedSignal -> select -> enhance ->
upload -> cleanup. Deterministic: everything it needs arrives in its input, from activities or
from signals. Changes that alter the command sequence must use `workflow.patched`; the histories
in tests/histories/ are replayed in CI to catch changes that would break running workflows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from temporal.activities import (
        PROGRESS_SIGNAL,
        CandidateInfo,
        EnhanceRequest,
        PreparedVideo,
        ProgressReport,
        PublishedVideo,
        RankRequest,
        SelectRequest,
        VideoActivities,
    )
    from temporal.signals import THUMBNAIL_SELECTED_SIGNAL, ThumbnailSelectedSignal

VIDEO_STAGE = SearchAttributeKey.for_keyword("VideoStage")
STATUS_QUERY = "get_status"

PREPARING = "PREPARING"
RANKING = "RANKING"
WAITING_FOR_SELECTION = "WAITING_FOR_SELECTION"
SELECTING = "SELECTING"
ENHANCING = "ENHANCING"
UPLOADING = "UPLOADING"
CLEANING_UP = "CLEANING_UP"
COMPLETED = "COMPLETED"

AUTOPICK = "autopick"

# Progress signals of an activity that already finished arrive late; they are ignored.
ACTIVITY_OF_STAGE = {
    PREPARING: "prepare_video",
    RANKING: "rank_thumbnails",
    SELECTING: "select_thumbnail",
    ENHANCING: "enhance_thumbnail",
    UPLOADING: "upload_video",
    CLEANING_UP: "cleanup_video",
}

# A dead worker stops heartbeating: its activity is retried elsewhere after this long.
HEARTBEAT_TIMEOUT = timedelta(seconds=20)
QUICK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)
UPLOAD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=20,
)


@dataclass
class ProcessVideoInput:
    video_path: str
    top_n: int
    template_name: str
    selection_timeout_seconds: float | None = None
    selection_timeout_action: str = AUTOPICK


@dataclass
class RejectedSelection:
    selected_frame: str | None
    reason: str


@dataclass
class VideoStatus:
    stage: str
    video_path: str
    candidates: list[CandidateInfo] = field(default_factory=list)
    title: str | None = None
    selected_candidate_id: str | None = None
    rejected_selection: RejectedSelection | None = None
    progress: ProgressReport | None = None
    waiting_since: str | None = None
    published: PublishedVideo | None = None


@dataclass
class VideoResult:
    video_path: str
    selected_candidate_id: str
    published: PublishedVideo
    cleanup: str


@workflow.defn
class ProcessVideoWorkflow:
    def __init__(self) -> None:
        self._status = VideoStatus(stage=PREPARING, video_path="")
        self._chosen_id: str | None = None

    @workflow.run
    async def run(self, request: ProcessVideoInput) -> VideoResult:
        self._status.video_path = request.video_path
        path = request.video_path

        self._enter(PREPARING, "Validating the video and reading its metadata")
        prepared: PreparedVideo = await workflow.execute_activity_method(
            VideoActivities.prepare_video,
            path,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=QUICK_RETRY,
        )
        self._status.title = prepared.title

        self._enter(RANKING, "Finding the best thumbnail candidates")
        self._status.candidates = await workflow.execute_activity_method(
            VideoActivities.rank_thumbnails,
            RankRequest(path, request.top_n),
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=QUICK_RETRY,
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )

        chosen = await self._wait_for_selection(request)

        self._enter(SELECTING, f"Storing the chosen thumbnail {chosen}")
        await workflow.execute_activity_method(
            VideoActivities.select_thumbnail,
            SelectRequest(path, chosen),
            start_to_close_timeout=timedelta(minutes=2),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=QUICK_RETRY,
        )

        self._enter(ENHANCING, f"Rendering the branded thumbnail ({request.template_name})")
        await workflow.execute_activity_method(
            VideoActivities.enhance_thumbnail,
            EnhanceRequest(path, request.template_name),
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=QUICK_RETRY,
        )

        self._enter(UPLOADING, "Uploading the video, then its thumbnail, then its privacy")
        published: PublishedVideo = await workflow.execute_activity_method(
            VideoActivities.upload_video,
            path,
            start_to_close_timeout=timedelta(hours=24),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=UPLOAD_RETRY,
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        self._status.published = published

        self._enter(CLEANING_UP, "Archiving the source video and its workspace")
        cleaned: str = await workflow.execute_activity_method(
            VideoActivities.cleanup_video,
            path,
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=QUICK_RETRY,
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )

        self._enter(COMPLETED, f"Published: {published.url or published.video_id}")
        return VideoResult(path, chosen, published, cleaned)

    async def _wait_for_selection(self, request: ProcessVideoInput) -> str:
        self._status.waiting_since = workflow.now().isoformat()
        workflow.upsert_memo({"waiting_since": self._status.waiting_since})
        self._enter(
            WAITING_FOR_SELECTION,
            "Waiting for the operator to choose a thumbnail: run "
            f"`python main_temporal.py select {workflow.info().workflow_id}`",
        )
        timeout = request.selection_timeout_seconds
        try:
            await workflow.wait_condition(
                lambda: self._chosen_id is not None,
                timeout=timedelta(seconds=timeout) if timeout else None,
            )
        except TimeoutError:
            if request.selection_timeout_action != AUTOPICK:
                raise ApplicationError(
                    f"No thumbnail was chosen within {timedelta(seconds=timeout or 0)}; "
                    "start the video again with `python main_temporal.py start --retry-failed "
                    f'"{request.video_path}"`',
                    type="SelectionTimeout",
                    non_retryable=True,
                ) from None
            self._chosen_id = self._status.candidates[0].id
        assert self._chosen_id is not None
        self._status.selected_candidate_id = self._chosen_id
        return self._chosen_id

    def _enter(self, stage: str, details: str) -> None:
        self._status.stage = stage
        self._status.progress = None
        workflow.upsert_search_attributes([VIDEO_STAGE.value_set(stage)])
        workflow.set_current_details(details)

    @workflow.signal(name=THUMBNAIL_SELECTED_SIGNAL)
    def thumbnail_selected(self, signal: ThumbnailSelectedSignal) -> None:
        if self._chosen_id is not None:
            return  # the choice is taken; later signals change nothing
        reason = self._rejection_reason(signal)
        if reason:
            self._status.rejected_selection = RejectedSelection(signal.selected_frame, reason)
            return
        self._chosen_id = signal.selected_frame or self._status.candidates[0].id

    def _rejection_reason(self, signal: ThumbnailSelectedSignal) -> str | None:
        if self._status.stage != WAITING_FOR_SELECTION:
            return f"the video is not waiting for a choice yet (stage {self._status.stage})"
        if signal.video_path and signal.video_path != self._status.video_path:
            return f"the signal is for {signal.video_path}, not {self._status.video_path}"
        ids = [candidate.id for candidate in self._status.candidates]
        if signal.selected_frame is not None and signal.selected_frame not in ids:
            return (
                f"{signal.selected_frame!r} is not one of this video's candidates "
                f"({', '.join(ids)})"
            )
        return None

    @workflow.signal(name=PROGRESS_SIGNAL)
    def activity_progress(self, report: ProgressReport) -> None:
        if report.activity == ACTIVITY_OF_STAGE.get(self._status.stage):
            self._status.progress = report

    @workflow.query(name=STATUS_QUERY)
    def get_status(self) -> VideoStatus:
        return self._status
