"""The videos in a state, from visibility queries alone (no worker needed): those waiting for a
choice, those held for a person or the quota, numbered as `pending` numbers them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from temporalio.client import Client

from temporal.client.hosts import HostState, host_states
from temporal.client.ids import videos_where
from temporal.client.rows import read_row
from temporal.messages import HELD_STAGES, VIDEO_STAGE, WAITING_FOR_SELECTION, CandidateInfo, Hold


@dataclass
class WaitingVideo:
    """A video waiting for its thumbnail choice. A listing knows who and since when; a chooser
    adds what the workflow says (its title and candidates) when a worker answers."""

    workflow_id: str
    video_file: str
    waiting_since: datetime | None
    host: str = ""  # the worker that runs its activities; empty: any (started before hosts)
    task_queue: str = ""  # its workflow's (shared) queue
    title: str = ""  # empty: not asked (yet)
    candidates: list[CandidateInfo] = field(default_factory=list)  # best first; empty: unknown


@dataclass
class HeldVideo:
    """A video waiting for YouTube's quota or for a person (NEEDS_ATTENTION)."""

    workflow_id: str
    video_file: str
    hold: Hold
    host: str = ""
    task_queue: str = ""


def running_in(stages: tuple[str, ...]) -> str:
    wanted = " OR ".join(f'{VIDEO_STAGE.name}="{stage}"' for stage in stages)
    return videos_where(f'ExecutionStatus="Running" AND ({wanted})')


async def list_waiting(client: Client) -> list[WaitingVideo]:
    """The videos waiting for a thumbnail choice, oldest first: one visibility query. Their
    numbers (from 1, in this order) are the ones `pending` prints."""
    waiting = []
    async for execution in client.list_workflows(running_in((WAITING_FOR_SELECTION,))):
        row = await read_row(execution)
        waiting.append(
            WaitingVideo(
                row.workflow_id, row.video_file, row.waiting_since, row.host, row.task_queue
            )
        )
    latest = datetime.max.replace(tzinfo=UTC)
    return sorted(waiting, key=lambda video: (video.waiting_since or latest, video.workflow_id))


async def list_held(client: Client) -> list[HeldVideo]:
    """The videos whose stage waits for the quota or a person, the soonest retried first."""
    held = []
    async for execution in client.list_workflows(running_in(HELD_STAGES)):
        row = await read_row(execution)
        if row.hold is not None:  # None: the memo is being updated as the stage runs again
            held.append(
                HeldVideo(row.workflow_id, row.video_file, row.hold, row.host, row.task_queue)
            )
    return sorted(held, key=lambda video: (video.hold.retry_at or "", video.workflow_id))


@dataclass
class Pending:
    """Everything waiting for someone, as `pending` numbers it: the videos waiting for a choice,
    then those held, and the state of their hosts by (shared queue, host)."""

    waiting: list[WaitingVideo]
    held: list[HeldVideo]
    hosts: dict[tuple[str, str], HostState]


async def pending(client: Client) -> Pending:
    waiting = await list_waiting(client)
    held = await list_held(client)
    hosts = [(video.task_queue, video.host) for video in [*waiting, *held]]
    return Pending(waiting, held, await host_states(client, hosts))


async def numbered(client: Client) -> list[str]:
    """The workflow ids in the order `pending` numbers them from 1: the videos waiting for a
    choice (oldest first), then those waiting for a person or the quota (soonest retried
    first)."""
    waiting = [video.workflow_id for video in await list_waiting(client)]
    return waiting + [video.workflow_id for video in await list_held(client)]


async def closed_since(client: Client, since: datetime) -> list[tuple[str, str]]:
    """(workflow id, run id) of the runs that ended at or after `since`."""
    stamp = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return [
        (e.id, e.run_id)
        async for e in client.list_workflows(videos_where(f'CloseTime >= "{stamp}"'))
    ]


async def count_in_progress(client: Client) -> int:
    """How many videos have not finished (waiting for a choice, a host, a person or working)."""
    counted = await client.count_workflows(videos_where('ExecutionStatus="Running"'))
    return counted.count
