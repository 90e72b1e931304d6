"""Asking one video's workflow and the server about it: its status and previews (a worker must
answer), why it failed or was cancelled (the server answers alone)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.api.common.v1 import WorkflowExecution as ExecutionRef
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from temporal.client.errors import NoWorkerError, WorkflowNotFoundError, WorkflowUnansweredError
from temporal.messages import PREVIEW_QUERY, STATUS_QUERY, VideoStatus, redo_of_failure

# A query waits for a worker: the server answers these when none is polling (any more).
NO_WORKER_CODES = (
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.FAILED_PRECONDITION,
)
# After the cancel request come only the cancellation of what ran then (at most the previews,
# two events each) and the end: it is among the last events of a cancelled run.
CANCEL_REASON_PAGE = 50


@dataclass
class Failure:
    """Why a run failed: the stage's own message and the errors.Remedy that fixes it (None: none,
    or a run of a version that worded the remedy into the message)."""

    message: str
    redo: str | None = None


async def describe(handle: WorkflowHandle) -> WorkflowExecutionDescription:
    try:
        return await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFoundError(handle.id) from None
        raise


async def description_or_none(
    client: Client, workflow_id: str
) -> WorkflowExecutionDescription | None:
    try:
        return await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def query_status(handle: WorkflowHandle, timeout_seconds: float = 10) -> VideoStatus:
    """The workflow's own status; a worker must be running to answer, and the workflow able to
    (WorkflowUnansweredError)."""
    try:
        return await handle.query(
            STATUS_QUERY, result_type=VideoStatus, rpc_timeout=timedelta(seconds=timeout_seconds)
        )
    except WorkflowQueryFailedError as error:
        raise WorkflowUnansweredError(handle.id, str(error)) from None


async def status_if_a_worker_answers(
    handle: WorkflowHandle, timeout_seconds: float = 5
) -> VideoStatus | None:
    try:
        return await query_status(handle, timeout_seconds)
    except RPCError as error:
        if error.status not in NO_WORKER_CODES:
            raise
        return None


async def get_status(client: Client, workflow_id: str) -> VideoStatus:
    try:
        return await query_status(client.get_workflow_handle(workflow_id))
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFoundError(workflow_id) from None
        if error.status in NO_WORKER_CODES:
            raise NoWorkerError(workflow_id) from None
        raise


async def get_preview(client: Client, workflow_id: str, candidate_id: str) -> bytes | None:
    """The candidate's JPEG preview (at most 40 KB) from the workflow, on any machine; None when
    it has none (started before previews, or it could not be made). A worker must answer."""
    try:
        preview = await client.get_workflow_handle(workflow_id).query(
            PREVIEW_QUERY, candidate_id, result_type=bytes, rpc_timeout=timedelta(seconds=10)
        )
    except WorkflowQueryFailedError as error:
        raise WorkflowUnansweredError(workflow_id, str(error)) from None
    return preview or None


async def get_previews(
    client: Client, workflow_id: str, candidate_ids: Iterable[str]
) -> dict[str, bytes]:
    """The previews of these candidates that the workflow has, each its own query, at once."""
    ids = list(candidate_ids)
    previews = await asyncio.gather(*(get_preview(client, workflow_id, id_) for id_ in ids))
    return {id_: preview for id_, preview in zip(ids, previews, strict=True) if preview}


async def failure_reason(handle: WorkflowHandle) -> Failure | None:
    """Why the workflow failed: the stage's own message (the outermost application error), not
    whatever low-level error it was raised from; None when it did not fail."""
    try:
        await handle.result(follow_runs=False)
    except WorkflowFailureError as error:
        cause: BaseException = error.cause
        while not isinstance(cause, ApplicationError) and cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(cause, ApplicationError):
            return Failure(str(cause), redo_of_failure(cause.details))
        return Failure(str(cause))
    return None


async def cancel_reason(client: Client, workflow_id: str, run_id: str | None) -> str:
    """Why the run was cancelled, as its canceller said (a new video superseding it says which):
    read from the end of its history, where the cancel request is. Empty when none was said."""
    request = GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace,
        execution=ExecutionRef(workflow_id=workflow_id, run_id=run_id or ""),
        maximum_page_size=CANCEL_REASON_PAGE,
    )
    page = await client.workflow_service.get_workflow_execution_history_reverse(request)
    for event in page.history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            return event.workflow_execution_cancel_requested_event_attributes.cause
    return ""
