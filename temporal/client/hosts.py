"""Whether the worker a video's activities wait for is there: a video runs its activities on the
worker that started it (its host, `WORKER_NAME`), on the machine that holds its file."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType, WorkerStatus
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, ListWorkersRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from temporal.messages import host_task_queue

# An idle worker polls its queue again about every minute: a poll older than this is a worker gone.
FRESH_POLL = timedelta(seconds=75)
_STOPPED = (WorkerStatus.WORKER_STATUS_SHUTTING_DOWN, WorkerStatus.WORKER_STATUS_SHUTDOWN)


@dataclass
class HostState:
    """Whether the worker a video's activities wait for is there."""

    name: str  # its WORKER_NAME
    running: bool | None  # a worker of that name polls the video's queue now; None: unknown
    last_seen: datetime | None  # its latest poll the server remembers (about 5 minutes)


async def host_state(client: Client, shared_queue: str, host: str) -> HostState:
    """From the pollers of the host's queue; a worker that said it stopped (on a server with
    worker heartbeats) is known at once, one that was killed once its last poll is old. Unknown
    where the server does not tell (a namespace role without that permission)."""
    queue = host_task_queue(shared_queue, host)
    try:
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            )
        )
    except RPCError as error:
        if error.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            return HostState(host, None, None)
        raise
    polls = [poller.last_access_time.ToDatetime(tzinfo=UTC) for poller in described.pollers]
    last_seen = max(polls, default=None)
    running = last_seen is not None and datetime.now(UTC) - last_seen <= FRESH_POLL
    if running and await _every_worker_stopped(client, queue):
        running = False
    return HostState(host, running, last_seen)


async def _every_worker_stopped(client: Client, queue: str) -> bool:
    if '"' in queue:
        return False
    try:
        listed = await client.workflow_service.list_workers(
            ListWorkersRequest(namespace=client.namespace, query=f'TaskQueue="{queue}"')
        )
    except RPCError:  # a server without worker heartbeats: the polls decide
        return False
    statuses = [worker.status for worker in listed.workers if worker.task_queue == queue]
    return bool(statuses) and all(status in _STOPPED for status in statuses)


async def host_states(
    client: Client, hosts: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], HostState]:
    """The state of each (shared queue, host) named, at once; a video with no host needs none."""
    wanted = sorted({(queue, host) for queue, host in hosts if host})
    states = await asyncio.gather(*(host_state(client, queue, host) for queue, host in wanted))
    return dict(zip(wanted, states, strict=True))
