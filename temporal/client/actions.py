"""Acting on a video: run a held stage again now (or the playlist step of a completed video
YouTube refused to put in its playlist), or cancel it."""

from __future__ import annotations

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from temporal.client.changing import retry_change
from temporal.client.errors import NotHeldError, WorkflowEndedError
from temporal.client.listing import HeldVideo, list_held
from temporal.client.playlist import retry_playlist
from temporal.client.queries import describe
from temporal.client.rows import VideoRow, read_row
from temporal.messages import COMPLETED, HELD_STAGES, RETRY_SIGNAL


async def _running(client: Client, workflow_id: str, doing: str) -> tuple[WorkflowHandle, VideoRow]:
    """The video's handle and row while it runs; WorkflowEndedError (with `doing`) once ended."""
    handle = client.get_workflow_handle(workflow_id)
    row = await read_row(await describe(handle))
    if row.execution_status != WorkflowExecutionStatus.RUNNING:
        raise WorkflowEndedError(workflow_id, row.execution_status, doing)
    return handle, row


async def retry(client: Client, workflow_id: str) -> str:
    """Run a held stage (quota, attention) again now; returns the stage it waited in. A
    published video has its playlist step run again when YouTube refused its playlist
    (`retry_playlist`; returns COMPLETED), else its held change of thumbnail."""
    handle = client.get_workflow_handle(workflow_id)
    row = await read_row(await describe(handle))
    ended = WorkflowEndedError(workflow_id, row.execution_status, "nothing to retry")
    if row.execution_status == WorkflowExecutionStatus.COMPLETED:
        if row.playlist_problem:
            await retry_playlist(client, workflow_id)
            return COMPLETED
        try:
            return await retry_change(client, workflow_id)
        except NotHeldError:
            raise ended from None  # published, and no change of its thumbnail waits
    if row.execution_status != WorkflowExecutionStatus.RUNNING:
        raise ended
    if row.stage not in HELD_STAGES:
        raise NotHeldError(workflow_id, row.stage)
    await handle.signal(RETRY_SIGNAL)
    return row.stage


async def retry_held(client: Client) -> list[HeldVideo]:
    """Run again now every held stage; returns those videos."""
    return await retry_videos(client, await list_held(client))


async def retry_videos(client: Client, videos: list[HeldVideo]) -> list[HeldVideo]:
    """Run again now the held stages of these videos; returns them."""
    for video in videos:
        await client.get_workflow_handle(video.workflow_id).signal(RETRY_SIGNAL)
    return videos


def runs_on(video: HeldVideo, host: str) -> bool:
    """Whether the video's activities run on the worker named `host` (or on any: started
    before hosts existed)."""
    return video.host in ("", host)


async def cancel(client: Client, workflow_id: str) -> None:
    handle, _ = await _running(client, workflow_id, "nothing to cancel")
    await handle.cancel()
