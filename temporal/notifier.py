"""Notifications from the video workflows, sent by one small NotifierWorkflow.

A video workflow tells the notifier what happened to it (`tell`: it started waiting for a choice,
the choice was taken, it needs attention, it failed, it was published) through a local activity
that signals the notifier, starting it if needed (signal-with-start, id `notifications-<task
queue>`). That activity only talks to Temporal, and does nothing unless NOTIFY_URLS is set; a
video never waits for a notification service, and one that cannot be told is only logged.

The notifier keeps the videos that started waiting in a `notify.WaitingGroup` and sends them in
one message at most every NOTIFY_WAITING_INTERVAL, sleeping on a durable timer in between; every
other event is one message at once. Messages go out one at a time from a local activity, so a
slow or unreachable service never takes a worker's activity slot from a video. The notifier
continues as new before its history grows long, carrying the waiting group.

The service URLs never enter Temporal: the activities read them from the worker's settings.
"""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo
from pathlib import PurePath

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    FailureError,
    is_cancelled_exception,
)

with workflow.unsafe.imports_passed_through():
    import notify
    from config import get_settings
    from errors import Remedy, remedy_named
    from notify import WaitingGroup, WaitingNotice
    from temporal.messages import (
        ATTENTION,
        FAILED,
        PUBLISHED,
        WAITING,
        Hold,
        VideoEvent,
        VideoStatus,
        problem_of_worded,
        redo_of_failure,
    )

# The patch that added notifications to ProcessVideoWorkflow: runs started before it send none.
NOTIFY_PATCH = "notify"
# Marks the runs a cancellation stops even while they tell the notifier (a choice and a cancel
# that arrive together, while no worker ran).
CANCEL_IN_TELL_PATCH = "i22-cancel-during-tell"
VIDEO_EVENT_SIGNAL = "video_event"
NOTIFIER_ID_PREFIX = "notifications-"

MAX_HISTORY_EVENTS = 2000
MIN_TIMER = timedelta(seconds=1)
TELL_TIMEOUT = timedelta(seconds=10)
TELL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
# notify.send tries each service three times with its own timeouts; a send that outlives this is
# abandoned (never retried: the message may have gone out).
SEND_TIMEOUT = timedelta(minutes=5)


def notifier_id(task_queue: str) -> str:
    """The notifier of the video workflows on `task_queue`."""
    return NOTIFIER_ID_PREFIX + task_queue


@dataclass
class NotifierInput:
    waiting: WaitingGroup = field(default_factory=WaitingGroup)
    max_history_events: int = MAX_HISTORY_EVENTS


@dataclass
class Notification:
    """One message: the videos that started waiting, or one video's event."""

    waiting: list[WaitingNotice] = field(default_factory=list)
    event: VideoEvent | None = None


def message_for(
    notification: Notification, web_link: str | None, zone: tzinfo = UTC
) -> notify.Message:
    event = notification.event
    if event is None:
        return notify.waiting_message(notification.waiting, web_link)
    if event.kind == ATTENTION:
        hold = event.hold
        problem = hold.problem if hold else problem_of_worded(event.detail or "")  # older runs
        auth = hold is not None and remedy_named(hold.redo) is Remedy.AUTH
        auth_on = (event.host or "the worker's machine") if auth else None
        return notify.attention_message(event.video_file, event.title, problem, web_link, auth_on)
    if event.kind == FAILED:
        return notify.failed_message(event.video_file, event.title, event.detail or "", event.redo)
    return notify.published_message(
        event.video_file,
        event.title,
        event.detail,
        event.playlist_problem,
        web_link,
        event.changeable_until,
        zone,
    )


class NotifierActivities:
    """The notifier's two local activities; `client` reaches the notifier."""

    def __init__(self, client: Client):
        self._client = client

    @activity.defn(name="tell_notifier")
    async def tell_notifier(self, event: VideoEvent) -> bool:
        """Signal the notifier of this workflow's task queue, starting it if needed; nothing
        (False) when NOTIFY_URLS is not set."""
        settings = get_settings()
        if not settings.notify_urls:
            return False
        task_queue = activity.info().task_queue
        event = dataclasses.replace(
            event, waiting_interval_seconds=settings.notify_waiting_interval_seconds
        )
        await self._client.start_workflow(
            NotifierWorkflow.run,
            NotifierInput(),
            id=notifier_id(task_queue),
            task_queue=task_queue,
            start_signal=VIDEO_EVENT_SIGNAL,
            start_signal_args=[event],
        )
        return True

    @activity.defn(name="send_notification")
    async def send_notification(self, notification: Notification) -> bool:
        """Send to every NOTIFY_URLS service; False when one did not take it (logged)."""
        settings = get_settings()
        if not settings.notify_urls:
            return False
        message = message_for(notification, notify.chooser_link(settings), settings.cafe_timezone)
        # in a thread of its own: not one of the worker's activity threads, which videos use
        return await asyncio.to_thread(notify.send, message, settings.notify_urls)

    def all(self) -> list:
        return [self.tell_notifier, self.send_notification]


async def tell(
    status: VideoStatus,
    kind: str,
    detail: str | None = None,
    hold: Hold | None = None,
    redo: str | None = None,
    playlist_problem: str | None = None,
    changeable_until: str | None = None,
) -> None:
    """From ProcessVideoWorkflow: tell the notifier about this video (runs before the patch
    tell nothing). Never raises but a cancellation: a notification never fails a video."""
    if not workflow.patched(NOTIFY_PATCH):
        return
    video_file = PurePath(status.video_path).name
    event = VideoEvent(
        kind,
        workflow.info().workflow_id,
        video_file,
        status.title or video_file,
        detail,
        hold=hold,
        redo=redo,
        host=status.host,
        playlist_problem=playlist_problem,
        changeable_until=changeable_until,
    )
    try:
        await workflow.execute_local_activity_method(
            NotifierActivities.tell_notifier,
            event,
            start_to_close_timeout=TELL_TIMEOUT,
            retry_policy=TELL_RETRY,
        )
    except ActivityError as error:
        # the video was cancelled meanwhile: it stops (runs before the patch went on)
        if is_cancelled_exception(error) and workflow.patched(CANCEL_IN_TELL_PATCH):
            raise
        workflow.logger.warning("the notifier was not told that the video is %s: %s", kind, error)


def failure_of(error: FailureError) -> tuple[str, str | None]:
    """The message a person reads, the outermost application error's (a stage's own message),
    and the errors.Remedy that fixes it, when it names one."""
    cause: BaseException = error
    while not isinstance(cause, ApplicationError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, ApplicationError):
        return cause.message, redo_of_failure(cause.details)
    return (cause.message if isinstance(cause, FailureError) else str(cause)), None


@workflow.defn(name="NotifierWorkflow")
class NotifierWorkflow:
    def __init__(self) -> None:
        self._events: list[VideoEvent] = []

    @workflow.signal(name=VIDEO_EVENT_SIGNAL)
    def video_event(self, event: VideoEvent) -> None:
        self._events.append(event)

    @workflow.run
    async def run(self, state: NotifierInput) -> None:
        group = state.waiting
        while True:
            while self._events:
                await self._handle(group, self._events.pop(0))
            batch = group.take(workflow.now().timestamp())
            if batch:
                await self._send(Notification(waiting=batch))
                continue  # events may have arrived meanwhile
            if self._history_is_long(state.max_history_events):
                # signals delivered with this activation run their handlers after it: take them
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._events:
                    workflow.continue_as_new(NotifierInput(group, state.max_history_events))
                continue
            due = group.seconds_until_due(workflow.now().timestamp())
            timeout = None if due is None else max(timedelta(seconds=due), MIN_TIMER)
            with suppress(TimeoutError):  # the group is due
                await workflow.wait_condition(lambda: bool(self._events), timeout=timeout)

    async def _handle(self, group: WaitingGroup, event: VideoEvent) -> None:
        if event.waiting_interval_seconds:
            group.interval_seconds = event.waiting_interval_seconds
        if event.kind == WAITING:
            group.add(WaitingNotice(event.workflow_id, event.video_file, event.title))
            return
        group.discard(event.workflow_id)  # it no longer waits
        if event.kind in (ATTENTION, FAILED, PUBLISHED):
            await self._send(Notification(event=event))

    async def _send(self, notification: Notification) -> None:
        try:
            await workflow.execute_local_activity_method(
                NotifierActivities.send_notification,
                notification,
                schedule_to_close_timeout=SEND_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError as error:
            workflow.logger.warning("a notification was not sent: %s", error)

    @staticmethod
    def _history_is_long(max_events: int) -> bool:
        info = workflow.info()
        return (
            info.get_current_history_length() >= max_events or info.is_continue_as_new_suggested()
        )
