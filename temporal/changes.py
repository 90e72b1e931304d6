"""ThumbnailChangeWorkflow: a published video's thumbnail changed afterwards, for RECHOOSE_DAYS.

The video's own ProcessVideoWorkflow ends COMPLETED as before; once it has published and
cleaned up, it starts this companion as an abandoned child (id: the video's id with
`-changes`), which lives until the window closes. A change is an Update whose validator
refuses, before anything is recorded, a candidate the video does not have, the one already
live, a change while another is under way, and any change once the window closed. The change is
made on the video's host (its workspace is there): recorded as the choice, rendered, then set
with `thumbnails.set` or put in the local target's folder. The activity records each change it
made by number in the workspace, so a retry after a crash never sets it twice.

A change YouTube refuses, or that meets a problem a person fixes, is held here (VideoStage
NEEDS_ATTENTION on this workflow, never on the video's), tried again on a slow schedule or a
`retry_now`; a change whose host is down waits on the host's queue. After some changes (or when
the server suggests it) the workflow continues as new, so its history stays bounded; when the
window closes, the candidates' images (kept by cleanup for the changes) are removed.

Deterministic: its clock is workflow.now(), everything else arrives in its input or updates.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from temporal import notifier
    from temporal.change_activities import ChangeActivities
    from temporal.change_messages import (
        CHANGE_FAILED,
        CHANGE_THUMBNAIL_UPDATE,
        CHANGES_STATUS_QUERY,
        CHANGES_WORKFLOW_TYPE,
        MEMO_CHANGES,
        ChangeDone,
        ChangeRequest,
        ChangesInput,
        ChangesMemo,
        ChangesStatus,
        ChangeTask,
        RetireTask,
    )
    from temporal.messages import (
        ATTENTION,
        HOLD_FOR_ATTENTION,
        MAX_CANDIDATE_ID_CHARS,
        MAX_VIDEO_PATH_CHARS,
        RETRY_SIGNAL,
        VIDEO_STAGE,
        Hold,
        VideoStatus,
        host_task_queue,
    )
    from temporal.workflows import HEARTBEAT_TIMEOUT, QUICK_RETRY, asked_hold

# VideoStage of the companion: open for changes, making one, closed.
CHANGEABLE = "CHANGEABLE"
CHANGING = "CHANGING_THUMBNAIL"
CLOSED = "CHANGES_CLOSED"
CHANGE_TIMEOUT = timedelta(minutes=10)
RETIRE_TIMEOUT = timedelta(minutes=5)


@workflow.defn(name=CHANGES_WORKFLOW_TYPE)
class ThumbnailChangeWorkflow:
    @workflow.init
    def __init__(self, state: ChangesInput) -> None:
        # set before any update is validated: one may arrive with the run's first task
        self._state = state
        self._status = ChangesStatus(
            state.video_path, state.live_candidate_id, state.closes_at, state.candidates
        )
        self._status.changes_made = state.changes_made
        self._status.host = state.host
        self._wanted: str | None = None  # the accepted change not made yet
        self._made: dict[int, ChangeDone | str] = {}  # by number: done, or why it failed
        self._retry_requested = False
        self._queue: str | None = None  # None: the workflow's own (started before hosts)
        self._told: str | None = None  # the problem of a hold last notified
        if state.host:
            self._queue = host_task_queue(workflow.info().task_queue, state.host)

    @workflow.run
    async def run(self, state: ChangesInput) -> ChangesMemo:
        self._enter(CHANGEABLE)
        self._remember()
        started_with = state.changes_made
        closes = datetime.fromisoformat(state.closes_at)
        while True:
            if self._wanted is None:
                if self._status.changes_made - started_with >= state.max_changes_per_run or (
                    workflow.info().is_continue_as_new_suggested()
                ):
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    if self._wanted is None:
                        workflow.continue_as_new(self._carried())
                try:
                    await workflow.wait_condition(
                        lambda: self._wanted is not None, timeout=closes - workflow.now()
                    )
                except TimeoutError:
                    break
            if self._wanted is not None:
                await self._make(self._wanted)
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._status.closed = True
        self._enter(CLOSED)
        await workflow.execute_activity_method(
            ChangeActivities.retire_change_sources,
            RetireTask(state.video_path, state.fingerprint),
            task_queue=self._queue,
            start_to_close_timeout=RETIRE_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=QUICK_RETRY,
        )
        return self._memo()

    # -- a change -------------------------------------------------------------------------------

    async def _make(self, candidate_id: str) -> None:
        state = self._state
        number = self._status.changes_made + 1
        task = ChangeTask(
            state.video_path, state.fingerprint, number, candidate_id, state.template_name
        )
        self._status.changing_to = candidate_id
        while True:
            self._enter(CHANGING)
            try:
                done: ChangeDone = await workflow.execute_activity_method(
                    ChangeActivities.change_published_thumbnail,
                    task,
                    task_queue=self._queue,
                    start_to_close_timeout=CHANGE_TIMEOUT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=QUICK_RETRY,
                )
                break
            except ActivityError as error:
                hold = asked_hold(error, CHANGING, timedelta(seconds=state.attention_retry_seconds))
                if hold is None:
                    self._made[number] = _message_of(error)
                    self._finish()
                    return
                await self._wait_out(hold)
                if workflow.now() >= datetime.fromisoformat(state.closes_at):
                    self._made[number] = f"the window closed while it was held: {hold.problem}"
                    self._finish()
                    return
        self._status.live_candidate_id = done.candidate_id
        self._status.changes_made = number
        state.quota_units = done.quota_units
        self._made[number] = done
        self._finish()
        self._remember()

    def _finish(self) -> None:
        self._wanted = None
        self._status.changing_to = None
        self._enter(CHANGEABLE)

    async def _wait_out(self, hold: Hold) -> None:
        """The change waits (YouTube refused it, a problem a person fixes) until its time or a
        `retry_now`; the video itself stays published."""
        self._status.hold = hold
        self._retry_requested = False
        self._enter(hold.video_stage)
        if hold.kind == HOLD_FOR_ATTENTION and self._told != hold.problem:
            self._told = hold.problem  # once per problem, not per retry
            await notifier.tell(self._video_status(), ATTENTION, hold=hold)
        wake = datetime.fromisoformat(hold.retry_at or workflow.now().isoformat())
        with suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._retry_requested, timeout=wake - workflow.now()
            )
        self._status.hold = None

    @workflow.signal(name=RETRY_SIGNAL)
    def retry_now(self, *_: Any) -> None:
        if self._status.hold is not None:
            self._retry_requested = True

    @workflow.update(name=CHANGE_THUMBNAIL_UPDATE)
    async def change_thumbnail(self, request: ChangeRequest) -> ChangeDone:
        """Make another candidate live; answers once it is (or raises why it could not be)."""
        number = self._status.changes_made + 1
        self._wanted = request.candidate_id
        await workflow.wait_condition(lambda: number in self._made)
        made = self._made.pop(number)
        if isinstance(made, str):
            raise ApplicationError(made, type=CHANGE_FAILED, non_retryable=True)
        return made

    @change_thumbnail.validator
    def _validate_change(self, request: ChangeRequest) -> None:
        reason = self._refusal(request)
        if reason:
            raise ValueError(reason)

    def _refusal(self, request: ChangeRequest) -> str | None:
        status = self._status
        name = PurePath(status.video_path).name
        if len(request.candidate_id) > MAX_CANDIDATE_ID_CHARS:
            return "that is too long to be a candidate id"
        if len(request.video_path) > MAX_VIDEO_PATH_CHARS:
            return "that is too long to be a video path"
        if status.closed or workflow.now() >= datetime.fromisoformat(status.closes_at):
            return f"{name}: its window for changing the thumbnail closed at {status.closes_at}"
        if request.video_path and request.video_path != status.video_path:
            return f"the change is for {request.video_path!r}, not {status.video_path}"
        if self._wanted is not None:
            return f"{name}: a change to {self._wanted} is under way; try again once it is live"
        ids = [candidate.id for candidate in status.candidates]
        if request.candidate_id not in ids:
            shown = request.candidate_id[:40]
            return f"{shown!r} is not one of this video's candidates ({', '.join(ids)})"
        if request.candidate_id == status.live_candidate_id:
            return f"{request.candidate_id} is already the live thumbnail of {name}"
        return None

    # -- what it shows --------------------------------------------------------------------------

    @workflow.query(name=CHANGES_STATUS_QUERY)
    def get_changes(self) -> ChangesStatus:
        return self._status

    def _enter(self, stage: str) -> None:
        workflow.upsert_search_attributes([VIDEO_STAGE.value_set(stage)])

    def _video_status(self) -> VideoStatus:
        """What the notifier is told of the video whose change is held."""
        return VideoStatus(
            self._status.hold.video_stage if self._status.hold else CHANGEABLE,
            self._status.video_path,
            host=self._status.host,
        )

    def _memo(self) -> ChangesMemo:
        state = self._state
        live = self._status.live_candidate_id
        rank = next((c.rank for c in state.candidates if c.id == live), 0)
        return ChangesMemo(
            live, rank, self._status.changes_made, state.closes_at, dict(state.quota_units)
        )

    def _remember(self) -> None:
        workflow.upsert_memo({MEMO_CHANGES: asdict(self._memo())})

    def _carried(self) -> ChangesInput:
        state = self._state
        return replace(
            state,
            live_candidate_id=self._status.live_candidate_id,
            changes_made=self._status.changes_made,
        )


def _message_of(error: ActivityError) -> str:
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause)
