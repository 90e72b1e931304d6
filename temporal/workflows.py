"""ProcessVideoWorkflow: one durable run per match video.

prepare -> rank -> wait for the operator's choice -> select -> enhance -> upload -> cleanup, each
stage's activity from the STAGE_ACTIVITIES table. Once prepared, the video's branded copy is made
beside ranking and the choice (its progress in `VideoStatus.branding`); publishing waits for it
(BRANDING) and sends it. A stage that hits a YouTube daily limit waits on a durable timer until
the time its activity named (WAITING_FOR_QUOTA); one that needs a person (a full disk, a
permission, a token, a replaced source, a video the branding cannot take) waits
ATTENTION_RETRY_INTERVAL, or until the later time its activity named (NEEDS_ATTENTION); either
runs again at once on a `retry_now` signal. Bad input still fails the video once. A playlist
YouTube refuses for good fails nothing: the video completes, published, with why in its result
and memo; a `PlaylistRetryWorkflow` (temporal/playlist_retry.py) runs that step again when asked.

Its history, memo, search attributes and details name no command of any front end: a hold or a
failure carries what is wrong and the step that fixes it (`Hold`, `FailureRemedy`), and each
front end words the remedy.

Only the workflow runs on the shared task queue: its activities run on the queue of the worker
that started it (`ProcessVideoInput.host`, the Temporal pattern of worker-specific task queues),
on the machine that holds the file; a video whose host is down waits for it. Once ranked, a small
JPEG preview of each candidate is kept in the workflow (`get_preview`), so a chooser on any
machine shows them without the host's disk.

Deterministic: everything it needs arrives in its input, from activities, signals or updates.
Changes that alter the command sequence must use `workflow.patched`; the histories in
tests/histories/ are replayed in CI to catch changes that would break running workflows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    FailureError,
    WorkflowAlreadyStartedError,
    is_cancelled_exception,
)

with workflow.unsafe.imports_passed_through():
    from errors import Remedy
    from temporal import notifier
    from temporal.activities import VideoActivities
    from temporal.change_messages import (
        CHANGES_WORKFLOW_TYPE,
        ChangesInput,
        changes_workflow_id,
    )
    from temporal.messages import (
        ACTIVITY_OF_STAGE,
        ATTENTION,
        AUTOPICK,
        BRANDING,
        BY_AUTO,
        BY_EARLIER_RUN,
        BY_PERSON,
        BY_TIMEOUT,
        CHOICE_AUTO,
        CHOOSE_THUMBNAIL_UPDATE,
        CHOSEN,
        CLEANING_UP,
        COMPLETED,
        ENHANCING,
        FAILED,
        HOLD_FOR_ATTENTION,
        HOLD_FOR_QUOTA,
        MAX_CANDIDATE_ID_CHARS,
        MAX_VIDEO_PATH_CHARS,
        MEMO_CHOSEN_CANDIDATE,
        MEMO_HOLD,
        MEMO_PLAYLIST_PROBLEM,
        MEMO_STATS,
        MEMO_WAITING_SINCE,
        PREPARING,
        PREVIEW_QUERY,
        PROGRESS_SIGNAL,
        PUBLISHED,
        QUOTED_PREFIX_CHARS,
        RANKING,
        RETRY_SIGNAL,
        SELECTING,
        STATUS_QUERY,
        THUMBNAIL_SELECTED_SIGNAL,
        UPLOADING,
        VIDEO_STAGE,
        WAITING,
        WAITING_FOR_SELECTION,
        BrandedVideo,
        BrandingStatus,
        CandidateInfo,
        ChoiceStats,
        EnhanceRequest,
        FailureRemedy,
        Hold,
        PreparedVideo,
        PreviewRequest,
        ProcessVideoInput,
        ProgressReport,
        PublishedVideo,
        RankRequest,
        RejectedSelection,
        SelectRequest,
        ThumbnailSelectedSignal,
        VideoResult,
        VideoStatus,
        hold_from_failure,
        host_task_queue,
    )

# A dead worker stops heartbeating: its activity is retried elsewhere after this long.
HEARTBEAT_TIMEOUT = timedelta(seconds=20)
QUICK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)
# A passing failure of the upload (the network, YouTube's servers) is retried every 10 minutes
# at most, without a limit: an internet outage of a day is waited out, not failed. `status`
# shows the attempt and the last failure. Bad input is non-retryable and fails at once.
UPLOAD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=0,
)
# A quota hold whose activity named no time (or a time already past) waits this long.
QUOTA_FALLBACK_WAIT = timedelta(hours=1)
MIN_HOLD_WAIT = timedelta(seconds=1)

# Marks the runs that keep their choice in the memo (for `start --retry-failed`).
CHOICE_IN_MEMO_PATCH = "choice-in-memo"
# Marks the runs that make a preview of each candidate after ranking (the previews activities).
PREVIEWS_PATCH = "previews-in-workflow"
PREVIEW_TIMEOUT = timedelta(minutes=2)
# Marks the runs published without the playlist YouTube refused, which keep why in the memo.
PLAYLIST_PROBLEM_PATCH = "i22-playlist-problem"
# Marks the runs that make the video's branded copy beside ranking and the choice.
BRANDING_PATCH = "branding-beside-choice"
# Marks the runs that keep what the stats count in their memo (MEMO_STATS).
STATS_PATCH = "i20-stats"
# Marks the runs that may publish with rank 1 without waiting (CHOICE=auto).
AUTO_CHOICE_PATCH = "i20-auto-choice"
# Marks the runs that start a companion changing the thumbnail once published (RECHOOSE_DAYS).
CHANGES_PATCH = "i20-changes"


@dataclass(frozen=True)
class StageActivity:
    """The activity that does a stage of the pipeline, and how it runs."""

    stage: str
    activity: Callable
    details: str  # shown in the Web UI while it runs; formatted with the stage's values
    timeout: timedelta
    retry: RetryPolicy
    finish_on_cancel: bool = False  # a cancel waits for the activity to stop cleanly


STAGE_ACTIVITIES = {
    run.stage: run
    for run in (
        StageActivity(
            PREPARING,
            VideoActivities.prepare_video,
            "Validating the video and reading its metadata",
            timedelta(minutes=5),
            QUICK_RETRY,
        ),
        StageActivity(
            RANKING,
            VideoActivities.rank_thumbnails,
            "Finding the best thumbnail candidates",
            timedelta(hours=1),
            QUICK_RETRY,
            finish_on_cancel=True,
        ),
        StageActivity(
            SELECTING,
            VideoActivities.select_thumbnail,
            "Storing the chosen thumbnail {choice}",
            timedelta(minutes=2),
            QUICK_RETRY,
        ),
        StageActivity(
            ENHANCING,
            VideoActivities.enhance_thumbnail,
            "Rendering the branded thumbnail ({template})",
            timedelta(minutes=5),
            QUICK_RETRY,
        ),
        StageActivity(
            BRANDING,
            VideoActivities.brand_video,
            "Making the branded copy of the video (its titles, its logo)",
            timedelta(hours=12),
            QUICK_RETRY,
            finish_on_cancel=True,
        ),
        StageActivity(
            UPLOADING,
            VideoActivities.upload_video,
            "Uploading the video, then its thumbnail, then its privacy",
            timedelta(hours=24),
            UPLOAD_RETRY,
            finish_on_cancel=True,
        ),
        StageActivity(
            CLEANING_UP,
            VideoActivities.cleanup_video,
            "Archiving the source video and its workspace",
            timedelta(hours=2),
            QUICK_RETRY,
            finish_on_cancel=True,
        ),
    )
}


@workflow.defn
class ProcessVideoWorkflow:
    def __init__(self) -> None:
        self._status = VideoStatus(stage=PREPARING, video_path="")
        self._chosen_id: str | None = None
        self._retry_requested = False
        self._attention_retry = timedelta(minutes=10)
        self._told_attention: tuple[str, str] | None = None  # (stage, problem) last notified
        self._activity_queue: str | None = None  # None: the workflow's own (shared) queue
        self._previews: dict[str, bytes] = {}
        self._stats = ChoiceStats()
        self._counting = False  # the run keeps its stats in its memo (STATS_PATCH)

    @workflow.run
    async def run(self, request: ProcessVideoInput) -> VideoResult:
        try:
            return await self._process(request)
        except FailureError as error:
            if not is_cancelled_exception(error):
                problem, redo = notifier.failure_of(error)
                self._count(failure_type=_failure_type(error))
                await notifier.tell(self._status, FAILED, problem, redo=redo)
            raise

    async def _process(self, request: ProcessVideoInput) -> VideoResult:
        self._status.video_path = path = request.video_path
        self._counting = workflow.patched(STATS_PATCH)
        self._attention_retry = timedelta(seconds=request.attention_retry_seconds)
        fingerprint = request.fingerprint
        self._status.host = request.host
        if request.host:  # a workflow started before hosts has none: any worker runs it
            self._activity_queue = host_task_queue(workflow.info().task_queue, request.host)

        prepared: PreparedVideo = await self._run_stage(PREPARING, [path, fingerprint])
        self._status.title = prepared.title
        branding = None
        if workflow.patched(BRANDING_PATCH):
            self._status.branding = BrandingStatus()
            branding = asyncio.create_task(self._brand_beside(path, fingerprint))
        self._status.candidates = await self._run_stage(
            RANKING, [RankRequest(path, request.top_n, fingerprint, request.template_name)]
        )
        self._stats.file_time = prepared.file_time
        self._stats.ranked_at = workflow.now().isoformat()
        if workflow.patched(PREVIEWS_PATCH):
            await self._make_previews(path, fingerprint)

        chosen = await self._choice(request)
        await self._run_stage(SELECTING, [SelectRequest(path, chosen, fingerprint)], choice=chosen)
        await self._run_stage(
            ENHANCING,
            [EnhanceRequest(path, request.template_name, fingerprint)],
            template=request.template_name,
        )
        if branding is not None:
            await self._branded(branding, path, fingerprint)
        published: PublishedVideo = await self._run_stage(UPLOADING, [path, fingerprint])
        self._status.published = published
        problem = published.playlist_problem
        if problem and workflow.patched(PLAYLIST_PROBLEM_PATCH):
            workflow.upsert_memo({MEMO_PLAYLIST_PROBLEM: problem})  # shown without a worker
        self._count(published_at=workflow.now().isoformat(), quota_units=published.quota_units)
        closes_at = None
        if request.rechoose_seconds > 0 and workflow.patched(CHANGES_PATCH):
            closes_at = workflow.now() + timedelta(seconds=request.rechoose_seconds)
        await notifier.tell(
            self._status,
            PUBLISHED,
            published.url or published.video_id,
            playlist_problem=problem,
            changeable_until=closes_at.isoformat() if closes_at else None,
        )
        cleaned: str = await self._run_stage(CLEANING_UP, [path, fingerprint])
        if closes_at is not None:
            await self._start_changes(request, closes_at)

        self._enter(COMPLETED, f"Published: {published.url or published.video_id}")
        return VideoResult(path, chosen, published, cleaned)

    # -- stages and holds -----------------------------------------------------------------------

    async def _run_stage(self, stage: str, args: list[Any], **values: str) -> Any:
        """Run the stage's activity; wait out a quota or a problem a person fixes, then run it
        again. Bad input and exhausted retries fail the video."""
        run = STAGE_ACTIVITIES[stage]
        while True:
            self._enter(stage, self._on_host(run.details.format(**values)))
            try:
                return await self._execute(run, args)
            except ActivityError as error:
                hold = asked_hold(error, stage, self._attention_retry)
                if hold is None:
                    raise
                await self._wait_out(hold)

    async def _execute(self, run: StageActivity, args: list[Any]) -> Any:
        cancellation = (
            workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
            if run.finish_on_cancel
            else workflow.ActivityCancellationType.TRY_CANCEL
        )
        return await workflow.execute_activity_method(
            run.activity,
            args=args,
            task_queue=self._activity_queue,
            start_to_close_timeout=run.timeout,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=run.retry,
            cancellation_type=cancellation,
        )

    # -- the branded copy, beside ranking and the choice ----------------------------------------

    async def _brand_beside(self, path: str, fingerprint: str) -> BrandedVideo | None:
        """The branded copy, made while the video is ranked and waits for its choice, without
        changing its stage; None when it stopped on a problem a person fixes (kept in the
        status), which publishing then holds the video for."""
        branding = self._status.branding
        assert branding is not None
        try:
            branding.made = await self._execute(STAGE_ACTIVITIES[BRANDING], [path, fingerprint])
        except ActivityError as error:
            hold = asked_hold(error, BRANDING, self._attention_retry)
            if hold is None:
                raise
            branding.problem = hold.problem
        return branding.made

    async def _branded(
        self, beside: asyncio.Task[BrandedVideo | None], path: str, fingerprint: str
    ) -> None:
        """Publishing waits for the branded copy: showing its progress while it is made, or
        holding the video for its problem as any stage does."""
        branding = self._status.branding
        assert branding is not None
        if not beside.done():
            self._enter(BRANDING, self._on_host("Waiting for the branded copy of the video"))
            self._status.progress = branding.progress
        made = await beside
        if made is None:
            made = await self._run_stage(BRANDING, [path, fingerprint])
        branding.made, branding.problem = made, None

    async def _wait_out(self, hold: Hold) -> None:
        """Show the hold (stage, status, memo) and wait until its time or a `retry_now`."""
        self._status.hold = hold
        self._retry_requested = False
        self._enter(hold.video_stage, hold.problem)
        workflow.upsert_memo({MEMO_HOLD: asdict(hold)})
        problem = (hold.stage, hold.problem)
        if hold.kind == HOLD_FOR_ATTENTION and self._told_attention != problem:
            self._told_attention = problem  # once per problem, not per retry
            await notifier.tell(self._status, ATTENTION, hold=hold)
        wake = datetime.fromisoformat(hold.retry_at or workflow.now().isoformat())
        with suppress(TimeoutError):  # the time came: run the stage again
            await workflow.wait_condition(
                lambda: self._retry_requested, timeout=wake - workflow.now()
            )
        self._status.hold = None
        workflow.upsert_memo({MEMO_HOLD: None})

    @workflow.signal(name=RETRY_SIGNAL)
    def retry_now(self, *_: Any) -> None:
        """A held step runs again now; ignored by a workflow that is not waiting."""
        if self._status.hold is not None:
            self._retry_requested = True

    # -- previews, for choosers on any machine ---------------------------------------------------

    async def _make_previews(self, path: str, fingerprint: str) -> None:
        """A small JPEG of each candidate, made on the video's host and kept here: one activity
        per candidate, so each preview is a payload of its own (raw bytes, at most 40 KB; nine
        add at most 360 KB to the history). A preview that cannot be made is left out: the
        chooser on the host reads the candidate's file instead."""
        workflow.set_current_details(self._on_host("Making the candidates' previews"))
        candidates = self._status.candidates
        made = await asyncio.gather(*(self._preview(c, path, fingerprint) for c in candidates))
        for candidate, preview in zip(candidates, made, strict=True):
            if preview:
                self._previews[candidate.id] = preview
        self._status.preview_ids = list(self._previews)

    async def _preview(self, candidate: CandidateInfo, path: str, fingerprint: str) -> bytes:
        try:
            return await workflow.execute_activity_method(
                VideoActivities.make_preview,
                PreviewRequest(path, candidate.id, candidate.file, fingerprint),
                task_queue=self._activity_queue,
                start_to_close_timeout=PREVIEW_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=QUICK_RETRY,
            )
        except ActivityError as error:
            if is_cancelled_exception(error):
                raise
            workflow.logger.warning("No preview of %s: %s", candidate.id, error.cause)
            return b""

    @workflow.query(name=PREVIEW_QUERY)
    def get_preview(self, candidate_id: str) -> bytes:
        """The candidate's JPEG preview; empty when it has none (made before previews were, or
        it could not be made)."""
        return self._previews.get(candidate_id, b"")

    def _on_host(self, details: str) -> str:
        return f"{details}, on {self._status.host}" if self._status.host else details

    def _count(self, **values: Any) -> None:
        """Keep what the stats count, in the memo (runs before STATS_PATCH keep none)."""
        self._stats = replace(self._stats, **values)
        if self._counting:
            workflow.upsert_memo({MEMO_STATS: asdict(self._stats)})

    async def _start_changes(self, request: ProcessVideoInput, closes_at: datetime) -> None:
        """The companion that changes the published video's thumbnail until `closes_at`; it
        outlives this workflow."""
        info = workflow.info()
        companion = changes_workflow_id(info.workflow_id)
        changes = ChangesInput(
            info.workflow_id,
            request.video_path,
            request.fingerprint,
            request.host,
            request.template_name,
            self._status.candidates,
            self._chosen_id or "",
            closes_at.isoformat(),
            request.attention_retry_seconds,
        )
        try:
            await workflow.start_child_workflow(
                CHANGES_WORKFLOW_TYPE,
                changes,
                id=companion,
                task_queue=info.task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning("%s runs already", companion)
        self._status.changes_workflow_id = companion

    # -- the choice -----------------------------------------------------------------------------

    async def _choice(self, request: ProcessVideoInput) -> str:
        ids = [candidate.id for candidate in self._status.candidates]
        if request.previous_choice is not None and request.previous_choice in ids:
            self._chosen_id = request.previous_choice
            self._status.choice_reused = True
            self._status.chosen_by = BY_EARLIER_RUN
        elif self._publishes_at_once(request):
            self._chosen_id = self._status.candidates[0].id
            self._status.chosen_by = BY_AUTO
        else:
            await self._wait_for_selection(request)
        assert self._chosen_id is not None
        self._status.selected_candidate_id = self._chosen_id
        rank = next(c.rank for c in self._status.candidates if c.id == self._chosen_id)
        self._count(
            chosen_by=self._status.chosen_by, rank=rank, chosen_at=workflow.now().isoformat()
        )
        if not self._status.choice_reused and self._status.chosen_by != BY_AUTO:
            await notifier.tell(self._status, CHOSEN)
        if workflow.patched(CHOICE_IN_MEMO_PATCH):
            workflow.upsert_memo({MEMO_CHOSEN_CANDIDATE: self._chosen_id})
        return self._chosen_id

    @staticmethod
    def _publishes_at_once(request: ProcessVideoInput) -> bool:
        """CHOICE=auto without SELECTION_TIMEOUT: rank 1, no wait."""
        return (
            request.choice_mode == CHOICE_AUTO
            and not request.selection_timeout_seconds
            and workflow.patched(AUTO_CHOICE_PATCH)
        )

    async def _wait_for_selection(self, request: ProcessVideoInput) -> None:
        self._status.waiting_since = workflow.now().isoformat()
        workflow.upsert_memo({MEMO_WAITING_SINCE: self._status.waiting_since})
        self._enter(
            WAITING_FOR_SELECTION,
            "Waiting for a person to choose a thumbnail, on any machine: the chooser window or "
            "the web chooser",
        )
        await notifier.tell(self._status, WAITING)
        timeout = request.selection_timeout_seconds
        try:
            await workflow.wait_condition(
                lambda: self._chosen_id is not None,
                timeout=timedelta(seconds=timeout) if timeout else None,
            )
        except TimeoutError:
            # CHOICE=auto publishes with rank 1 once the timeout passed, whatever its action
            if request.selection_timeout_action != AUTOPICK and request.choice_mode != CHOICE_AUTO:
                raise ApplicationError(
                    f"No thumbnail was chosen within {timedelta(seconds=timeout or 0)}",
                    FailureRemedy(Remedy.SELECT),
                    type="SelectionTimeout",
                    non_retryable=True,
                ) from None
            self._chosen_id = self._status.candidates[0].id
            self._status.chosen_by_timeout = True
            self._status.chosen_by = BY_TIMEOUT

    @workflow.signal(name=THUMBNAIL_SELECTED_SIGNAL)
    def thumbnail_selected(self, *payloads: Any) -> None:
        """The Web UI's choice: `{"selected_frame": "<id>"}`, or `{}` for the top-ranked.

        Any payload is accepted here and checked by hand: a handler the SDK could not call
        (another number or type of arguments) would fail every workflow task from then on.
        """
        if self._chosen_id is not None:
            return  # the choice is taken; later signals change nothing
        choice, reason = _read_choice(payloads)
        if choice is None:
            self._status.rejected_selection = RejectedSelection(None, reason or "")
            return
        reason = self._rejection_reason(choice)
        if reason:
            frame = choice.selected_frame
            self._status.rejected_selection = RejectedSelection(
                frame[:QUOTED_PREFIX_CHARS] if frame else None, reason
            )
            return
        self._chosen_id = choice.selected_frame or self._status.candidates[0].id
        self._status.chosen_by = BY_PERSON

    @workflow.update(name=CHOOSE_THUMBNAIL_UPDATE)
    def choose_thumbnail(self, choice: ThumbnailSelectedSignal) -> str:
        """The CLI's choice; refused by the validator before anything is recorded."""
        self._chosen_id = choice.selected_frame or self._status.candidates[0].id
        self._status.chosen_by = BY_PERSON
        return self._chosen_id

    @choose_thumbnail.validator
    def _validate_choice(self, choice: ThumbnailSelectedSignal) -> None:
        if self._chosen_id is not None:
            raise ValueError(f"{self._chosen_id} was already chosen")
        reason = _shape_problem(choice) or self._rejection_reason(choice)
        if reason:
            raise ValueError(reason)

    def _rejection_reason(self, choice: ThumbnailSelectedSignal) -> str | None:
        if self._status.stage != WAITING_FOR_SELECTION:
            return f"the video is not waiting for a choice (stage {self._status.stage})"
        if choice.video_path and choice.video_path != self._status.video_path:
            return f"the choice is for {_quote(choice.video_path)}, not {self._status.video_path}"
        ids = [candidate.id for candidate in self._status.candidates]
        if choice.selected_frame is not None and choice.selected_frame not in ids:
            return (
                f"{_quote(choice.selected_frame)} is not one of this video's candidates "
                f"({', '.join(ids)})"
            )
        return None

    # -- status ---------------------------------------------------------------------------------

    def _enter(self, stage: str, details: str) -> None:
        self._status.stage = stage
        self._status.progress = None
        workflow.upsert_search_attributes([VIDEO_STAGE.value_set(stage)])
        workflow.set_current_details(details)

    @workflow.signal(name=PROGRESS_SIGNAL)
    def activity_progress(self, *payloads: Any) -> None:
        report = _read_progress(payloads)
        if report is None:
            return
        branding = self._status.branding
        if report.activity == ACTIVITY_OF_STAGE[BRANDING] and branding and not branding.made:
            branding.progress = report  # it runs beside the stages
        # progress of an activity that already finished arrives late: it is ignored
        if report.activity == ACTIVITY_OF_STAGE.get(self._status.stage):
            self._status.progress = report

    @workflow.query(name=STATUS_QUERY)
    def get_status(self) -> VideoStatus:
        return self._status


def asked_hold(error: ActivityError, stage: str, attention_retry: timedelta) -> Hold | None:
    """The hold an activity asked for in its error, held from now, or None (a failure)."""
    cause = error.cause
    if not isinstance(cause, ApplicationError):
        return None
    asked = hold_from_failure(cause.message, cause.details)
    if asked is None:
        return None
    now = workflow.now()
    named = _parse_time(asked.retry_at)
    if asked.kind == HOLD_FOR_QUOTA:
        wake = named if named and named > now else now + QUOTA_FALLBACK_WAIT
    else:  # a problem that is not fixed in minutes names a later time
        wake = now + attention_retry
        wake = max(wake, named) if named else wake
    wake = max(wake, now + MIN_HOLD_WAIT)
    return replace(asked, stage=stage, since=now.isoformat(), retry_at=wake.isoformat())


def _parse_time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _failure_type(error: FailureError) -> str:
    """The type of the innermost application error: what the stats count a failure by."""
    cause: BaseException | None = error
    found = ""
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.type:
            found = cause.type
        cause = cause.__cause__
    return found or type(error).__name__


def _quote(text: str) -> str:
    """`text` in quotes, cut to a short prefix: a reason never repeats a flood."""
    if len(text) <= QUOTED_PREFIX_CHARS:
        return repr(text)
    return f"{text[:QUOTED_PREFIX_CHARS]!r}... ({len(text)} characters)"


def _read_choice(payloads: tuple[Any, ...]) -> tuple[ThumbnailSelectedSignal | None, str | None]:
    """The choice a signal carries, or why it cannot be one."""
    expected = 'expected one JSON object such as {"selected_frame": "<candidate id>"} or {}'
    if len(payloads) != 1 or not isinstance(payloads[0], dict):
        got = ", ".join(type(payload).__name__ for payload in payloads) or "nothing"
        return None, f"{expected}, got {got}"
    data = payloads[0]
    unknown = sorted(str(key) for key in data if key not in ("video_path", "selected_frame"))
    if unknown:
        return None, f"{expected}; unknown field(s) {_quote(', '.join(unknown))}"
    video_path, frame = data.get("video_path", ""), data.get("selected_frame")
    if not isinstance(video_path, str) or not (frame is None or isinstance(frame, str)):
        return None, f"{expected}; selected_frame and video_path must be text"
    choice = ThumbnailSelectedSignal(video_path, frame)
    problem = _shape_problem(choice)
    return (None, problem) if problem else (choice, None)


def _shape_problem(choice: ThumbnailSelectedSignal) -> str | None:
    if choice.selected_frame is not None and len(choice.selected_frame) > MAX_CANDIDATE_ID_CHARS:
        return f"{_quote(choice.selected_frame)} is too long to be a candidate id"
    if len(choice.video_path) > MAX_VIDEO_PATH_CHARS:
        return f"{_quote(choice.video_path)} is too long to be a video path"
    return None


def _read_progress(payloads: tuple[Any, ...]) -> ProgressReport | None:
    if len(payloads) != 1 or not isinstance(payloads[0], dict):
        return None
    data = payloads[0]
    activity, done, total = data.get("activity"), data.get("done"), data.get("total")
    if not isinstance(activity, str) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in (done, total)
    ):
        return None
    return ProgressReport(activity, done, total)
