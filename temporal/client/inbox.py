"""The hosts' inboxes: the files their watchers did not start (`temporal.inbox` holds them),
sent by a watcher and read by every front end."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError

from temporal.messages import (
    FILE_REFUSED,
    INBOX_QUERY,
    INBOX_SIGNAL,
    INBOX_WORKFLOW_TYPE,
    InboxFile,
    InboxInput,
    inbox_id,
)

log = logging.getLogger(__name__)
QUERY_TIMEOUT = timedelta(seconds=5)


async def send_inbox(client: Client, task_queue: str, host: str, files: list[InboxFile]) -> None:
    """`host`'s inbox holds `files` from now on (its inbox workflow starts with the first)."""
    await client.start_workflow(
        INBOX_WORKFLOW_TYPE,
        InboxInput(files),
        id=inbox_id(task_queue, host),
        task_queue=task_queue,
        start_signal=INBOX_SIGNAL,
        start_signal_args=[files],
    )


async def inbox_of(client: Client, task_queue: str, host: str) -> list[InboxFile]:
    """What `host`'s inbox holds; none when it has no inbox or no worker answers."""
    return await _query(client, inbox_id(task_queue, host))


async def inbox_files(client: Client) -> list[InboxFile]:
    """Every host's files that did not start, refused first, each host's in its order."""
    query = f'WorkflowType="{INBOX_WORKFLOW_TYPE}" AND ExecutionStatus="Running"'
    ids = [execution.id async for execution in client.list_workflows(query)]
    lists = await asyncio.gather(*(_query(client, workflow_id) for workflow_id in ids))
    files = [file for found in lists for file in found]
    return sorted(files, key=lambda file: file.kind != FILE_REFUSED)


async def _query(client: Client, workflow_id: str) -> list[InboxFile]:
    try:
        return await client.get_workflow_handle(workflow_id).query(
            INBOX_QUERY, result_type=list[InboxFile], rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as error:  # none, or no worker answers now: the videos still show
        log.debug("inbox %s did not answer: %s", workflow_id, error)
        return []


def matching(files: list[InboxFile], name: str) -> list[InboxFile]:
    """The files `name` names: the file name, with or without its extension, in any case."""
    wanted = name.strip().casefold()
    return [
        file
        for file in files
        if wanted in (file.file.casefold(), file.file.rsplit(".", 1)[0].casefold())
    ]
