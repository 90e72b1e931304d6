"""Finished video runs for `stats` to count, made fast: a stand-in workflow registered under the
video workflow's type (and the companion's), started with the memo a real run keeps, ending as
told (published, failed, cancelled). `stats` reads only what the server lists, so it counts
them as it counts real runs; tests/test_thumbnail_change.py checks that real runs keep that
memo."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass

from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from temporal.change_messages import (
    CHANGES_WORKFLOW_TYPE,
    MEMO_CHANGES,
    ChangesMemo,
    changes_workflow_id,
)
from temporal.client.ids import WORKFLOW_TYPE
from temporal.messages import MEMO_STATS, ChoiceStats

PUBLISH = "publish"
FAIL = "fail"
CANCEL = "cancel"


@workflow.defn(name=WORKFLOW_TYPE, sandboxed=False)
class StandInVideo:
    @workflow.run
    async def run(self, ending: str, failure_type: str = "") -> None:
        if ending == FAIL:
            raise ApplicationError("failed as told", type=failure_type, non_retryable=True)
        if ending == CANCEL:
            await workflow.wait_condition(lambda: False)


@workflow.defn(name=CHANGES_WORKFLOW_TYPE, sandboxed=False)
class StandInChanges:
    @workflow.run
    async def run(self) -> None:
        return None


@dataclass
class Run:
    ending: str  # PUBLISH, FAIL or CANCEL
    stats: ChoiceStats | None  # None: a run of an earlier version, without it
    changes: ChangesMemo | None = None  # its companion's memo, when it had one


@asynccontextmanager
async def stand_in_worker(client: Client) -> AsyncIterator[str]:
    queue = f"stats-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[StandInVideo, StandInChanges]):
        yield queue


async def finish_runs(client: Client, runs: Sequence[Run], batch: int = 50) -> None:
    """Start each run, with its memo, and wait until it ended as told."""
    async with stand_in_worker(client) as queue:
        for first in range(0, len(runs), batch):
            await asyncio.gather(
                *(_finish(client, queue, run) for run in runs[first : first + batch])
            )


async def _finish(client: Client, queue: str, run: Run) -> None:
    video_id = f"standin-{uuid.uuid4().hex[:10]}"
    memo = {MEMO_STATS: asdict(run.stats)} if run.stats else {}
    failure = run.stats.failure_type if run.stats else ""
    handle = await client.start_workflow(
        WORKFLOW_TYPE, args=[run.ending, failure], id=video_id, task_queue=queue, memo=memo
    )
    if run.ending == CANCEL:
        await handle.cancel()
    if run.changes is not None:
        companion = await client.start_workflow(
            CHANGES_WORKFLOW_TYPE,
            id=changes_workflow_id(video_id),
            task_queue=queue,
            memo={MEMO_CHANGES: asdict(run.changes)},
        )
        await companion.result()
    with suppress(WorkflowFailureError):  # failed or cancelled, as told
        await handle.result()
