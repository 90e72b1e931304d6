"""What `up` tells the operator as it happens: a video starts waiting for its choice, a choice is
made (from any machine), a video waits for a person or for YouTube's quota, fails, is cancelled,
or is published.

`VideoFeed.changes()` compares what the server shows now with what it showed at the last look:
three visibility queries, plus a status query for each new choice (to name its rank) and a
describe for each run that ended. `follow()` looks every second until stopped. Everything goes
through `temporal.client`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from temporal import client as temporal_client
from temporal.client import OperatorError, VideoOutcome
from temporal.messages import (
    ATTENTION,
    CHOSEN,
    ENDED,
    FAILED,
    HOLD_FOR_QUOTA,
    PUBLISHED,
    QUOTA,
    WAITING,
    VideoEvent,
)

log = logging.getLogger(__name__)

ENDINGS = {
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed out",
}

# Visibility has a short delay: runs that closed a little before the last look are looked at
# again (each is reported once).
CLOSE_TIME_SLACK = timedelta(seconds=10)


class VideoFeed:
    """The changes since the previous call (since its creation for the first: the videos
    already waiting or held then are reported once, the runs closed before it are not)."""

    def __init__(self, client: Client):
        self._client = client
        self._since = datetime.now(UTC)
        self._waiting: dict[str, str] = {}  # workflow id -> file, at the last look
        self._holds: dict[str, tuple[str, str]] = {}  # workflow id -> the hold last reported
        self._reported_runs: set[str] = set()

    async def changes(self) -> list[VideoEvent]:
        looked_at = datetime.now(UTC)
        waiting = await temporal_client.list_waiting(self._client)
        held = await temporal_client.list_held(self._client)
        ended = await self._ended_runs()
        events = [
            await self._choice_of(workflow_id, file)
            for workflow_id, file in self._waiting.items()
            if workflow_id not in {video.workflow_id for video in waiting}
            and _chosen_or_running(ended.get(workflow_id))
        ]
        events += [ending(outcome) for outcome in ended.values()]
        events += [
            VideoEvent(WAITING, video.workflow_id, video.video_file, number=number)
            for number, video in enumerate(waiting, 1)
            if video.workflow_id not in self._waiting
        ]
        for video in held:
            hold = video.hold
            if self._holds.get(video.workflow_id) != (hold.stage, hold.problem):
                self._holds[video.workflow_id] = (hold.stage, hold.problem)
                kind = QUOTA if hold.kind == HOLD_FOR_QUOTA else ATTENTION
                events.append(
                    VideoEvent(
                        kind, video.workflow_id, video.video_file, hold=hold, host=video.host
                    )
                )
        for workflow_id in ended:
            self._holds.pop(workflow_id, None)
        self._waiting = {video.workflow_id: video.video_file for video in waiting}
        self._since = looked_at
        return events

    async def _ended_runs(self) -> dict[str, VideoOutcome]:
        closed = await temporal_client.closed_since(self._client, self._since - CLOSE_TIME_SLACK)
        ended = {}
        for workflow_id, run_id in closed:
            if run_id in self._reported_runs:
                continue
            self._reported_runs.add(run_id)
            ended[workflow_id] = await temporal_client.outcome(self._client, workflow_id, run_id)
        return ended

    async def _choice_of(self, workflow_id: str, file: str) -> VideoEvent:
        """The choice that took a video out of the waiting list, with its rank when a worker
        answers."""
        try:
            status = await temporal_client.get_status(self._client, workflow_id)
        except OperatorError:
            return VideoEvent(CHOSEN, workflow_id, file)
        chosen = status.selected_candidate_id
        rank = next((c.rank for c in status.candidates if c.id == chosen), None)
        return VideoEvent(CHOSEN, workflow_id, file, rank=rank, candidate_id=chosen)


def _chosen_or_running(ended: VideoOutcome | None) -> bool:
    """A video that left the waiting list was chosen, unless it was cancelled (or failed)."""
    return ended is None or ended.execution_status == WorkflowExecutionStatus.COMPLETED


def ending(outcome: VideoOutcome) -> VideoEvent:
    """What `up` reports of a video that ended."""
    workflow_id, video_file = outcome.workflow_id, outcome.video_file
    if outcome.execution_status == WorkflowExecutionStatus.COMPLETED:
        return VideoEvent(PUBLISHED, workflow_id, video_file, detail=outcome.published or "")
    if outcome.execution_status == WorkflowExecutionStatus.FAILED:
        failure = outcome.failure
        detail, redo = (failure.message, failure.redo) if failure else ("", None)
        return VideoEvent(FAILED, workflow_id, video_file, detail=detail, redo=redo)
    ended = ENDINGS.get(outcome.execution_status, outcome.execution_status.name.lower())
    detail = f"{ended}: {outcome.cancel_reason}" if outcome.cancel_reason else ended
    return VideoEvent(ENDED, workflow_id, video_file, detail=detail)


async def follow(
    feed: VideoFeed,
    report: Callable[[VideoEvent], Awaitable[None]],
    stop: asyncio.Event,
    until: Callable[[], Awaitable[bool]],
    interval_seconds: float = 1.0,
) -> bool:
    """Report each change until `stop` is set (returns False) or `until()` holds (True). A server
    that does not answer for a while is logged once and looked at again."""
    problem = ""
    while not stop.is_set():
        try:
            for event in await feed.changes():
                await report(event)
            problem = ""
        except (RPCError, RuntimeError) as error:
            if str(error) != problem:
                log.warning("cannot follow the videos now (%s); trying again", error)
                problem = str(error)
        if await until():
            return True
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_seconds)
    return False
