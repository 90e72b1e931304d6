"""The worker: runs ProcessVideoWorkflow, the notifier (temporal/notifier.py) and the playlist
retries (temporal/playlist_retry.py) on TEMPORAL_TASK_QUEUE, shared by every worker, and the
stage activities on this host's own queue (`TEMPORAL_TASK_QUEUE@WORKER_NAME`), where the videos
started here run theirs; and (with WATCH_INTERVAL > 0) the folder watcher that starts a workflow
for each arriving video.

The shared queue also runs activities, for the workflows started before hosts existed (their
activities are scheduled there). Each queue has its own threads: when both are busy at once,
up to twice MAX_CONCURRENT_ACTIVITIES run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from config import Settings
from temporal.activities import VideoActivities
from temporal.change_activities import ChangeActivities
from temporal.changes import ThumbnailChangeWorkflow
from temporal.client import OperatorError
from temporal.inbox import HostInboxWorkflow
from temporal.messages import SEARCH_ATTRIBUTES, host_task_queue
from temporal.notifier import NotifierActivities, NotifierWorkflow
from temporal.playlist_retry import PlaylistRetryWorkflow
from temporal.watcher import FolderWatcher
from temporal.workflows import ProcessVideoWorkflow

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN = timedelta(seconds=10)
# Activities decode video on every core; at this lower CPU priority (and the threads they start
# inherit it) workflow tasks, polls and heartbeats still run at once: a busy worker stays prompt.
ACTIVITY_NICENESS = 10
# The SDK logs its own "Beginning worker shutdown..." at INFO; the CLI says what stopping means.
SDK_WORKER_LOGGER = "temporalio.worker._worker"


def lower_thread_priority() -> None:
    """Give the calling thread (and the threads it starts) a lower CPU priority, where the OS
    allows it per thread (Linux)."""
    if sys.platform.startswith("linux"):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ACTIVITY_NICENESS)


async def ensure_search_attributes(client: Client) -> None:
    """Register VideoStage, VideoFile and VideoFingerprint: a workflow upserting an unknown
    attribute would hang forever."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = [key.name for key in SEARCH_ATTRIBUTES if key.name not in listed.custom_attributes]
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes=dict.fromkeys(
                    missing, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                ),
            )
        )
    except RPCError as error:
        commands = "; ".join(
            f"`temporal operator search-attribute create --name {name} --type Keyword`"
            for name in missing
        )
        raise OperatorError(
            f"The search attribute(s) {', '.join(missing)} (Keyword) are missing on namespace "
            f"{client.namespace} and could not be added ({error.message}); add them with "
            f"{commands}."
        ) from None
    log.info("registered search attributes %s", ", ".join(missing))


async def run_worker(
    client: Client,
    settings: Settings,
    stop: asyncio.Event,
    watcher: FolderWatcher | None = None,
) -> None:
    """Poll the shared queue and this host's (and run `watcher`, if given) until `stop` is set,
    then let running activities finish briefly."""
    await ensure_search_attributes(client)
    logging.getLogger(SDK_WORKER_LOGGER).setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    activities = VideoActivities(client, loop).all() + ChangeActivities(client, loop).all()
    own_queue = host_task_queue(settings.temporal_task_queue, settings.worker_name)
    with ExitStack() as executors:
        workers = [
            Worker(
                client,
                task_queue=queue,
                workflows=workflows,
                activities=queue_activities,
                activity_executor=executors.enter_context(
                    ThreadPoolExecutor(
                        max_workers=settings.max_concurrent_activities,
                        initializer=lower_thread_priority,
                    )
                ),
                max_concurrent_activities=settings.max_concurrent_activities,
                graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
                identity=f"{os.getpid()}@{settings.worker_name}",
            )
            for queue, workflows, queue_activities in (
                (
                    settings.temporal_task_queue,
                    [
                        ProcessVideoWorkflow,
                        NotifierWorkflow,
                        HostInboxWorkflow,
                        PlaylistRetryWorkflow,
                        ThumbnailChangeWorkflow,
                    ],
                    activities + NotifierActivities(client).all(),
                ),
                (own_queue, [], activities),
            )
        ]
        running = [asyncio.create_task(worker.run()) for worker in workers]
        log.info(
            "worker %s polling %s and %s",
            settings.worker_name,
            settings.temporal_task_queue,
            own_queue,
        )
        try:
            await (stop.wait() if watcher is None else watcher.run(stop))
        finally:  # both at once: each gives its running activities GRACEFUL_SHUTDOWN
            await asyncio.gather(*(worker.shutdown() for worker in workers))
            await asyncio.gather(*running)
