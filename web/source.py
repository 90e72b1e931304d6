"""What the web chooser needs to know and do, whatever answers it.

The pages depend only on `VideoSource`, these dataclasses and the operator API's own
(`WaitingVideo`, `Hold`). `web.temporal_source` implements it over `temporal.client`; a test or a
bench can serve fixed data through the same interface. Every text here is plain (never HTML):
the templates escape it, and word the remedies of a hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from temporalio.client import WorkflowExecutionStatus

from temporal.client.changing import ChangeOffer
from temporal.client.listing import WaitingVideo
from temporal.client.stats import Stats
from temporal.messages import Hold, InboxFile


class SourceError(Exception):
    """Something the person must know, shown on the page as one line (no worker, an ended
    workflow, an unknown id...)."""


class ChoiceStatus(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # the workflow said no; `message` holds its reason, the video waits on
    ALREADY_TAKEN = "already_taken"  # another candidate was taken first (the timeout's autopick)


@dataclass(frozen=True)
class ChoiceOutcome:
    status: ChoiceStatus
    message: str
    taken_candidate_id: str | None = None  # the candidate in use: chosen, or taken first


@dataclass(frozen=True)
class RecentVideo:
    workflow_id: str
    video_file: str
    stage: str  # the workflow's stage, e.g. WAITING_FOR_SELECTION, UPLOADING, COMPLETED
    execution_status: WorkflowExecutionStatus
    started_at: datetime | None = None
    progress_percent: int | None = None  # of the running stage, when it reports progress
    hold: Hold | None = None  # a stage waiting for a person or the quota; None: not held
    failure: str | None = None  # why the workflow failed (and how to fix it), or was cancelled
    published_link: str | None = None  # where the published video is
    host: str = ""  # the worker that runs its activities; empty: any
    # published without the playlist YouTube refused: why (None: in it, or none), and whether
    # a retry of that step runs now
    playlist_problem: str | None = None
    playlist_retrying: bool = False
    branding_percent: int | None = None  # the branded copy, while made beside the stage shown

    @property
    def running(self) -> bool:
        return self.execution_status == WorkflowExecutionStatus.RUNNING


@dataclass(frozen=True)
class ActionOutcome:
    message: str


class VideoSource(Protocol):
    async def waiting(self) -> list[WaitingVideo]:
        """The videos waiting for a choice, oldest first."""
        ...

    async def preview(self, workflow_id: str, candidate_id: str) -> bytes | None:
        """The candidate's image as JPEG bytes; None when this source cannot get it."""
        ...

    async def choose(self, workflow_id: str, candidate_id: str) -> ChoiceOutcome:
        """Choose a candidate, through the same validation as the CLI's `select`."""
        ...

    async def recent(self, limit: int) -> list[RecentVideo]:
        """The latest videos, newest first."""
        ...

    async def retry(self, workflow_id: str) -> ActionOutcome:
        """Run a held stage again now: a person fixed the cause, or the quota may be back; or
        the playlist step of a video published without the playlist YouTube refused."""
        ...

    async def cancel(self, workflow_id: str) -> ActionOutcome:
        """Stop a video at its next step; its source stays in place."""
        ...

    async def not_started(self) -> list[InboxFile]:
        """The hosts' files that did not start: refused (with what to do), or still copying."""
        ...

    async def change_offer(self, workflow_id: str) -> ChangeOffer:
        """A published video's candidates and the live one, within its window for changes."""
        ...

    async def change(self, workflow_id: str, candidate_id: str) -> ChoiceOutcome:
        """Change a published video's thumbnail, through the same validation as `select`."""
        ...

    async def stats(self, days: float) -> Stats:
        """How the videos of the last `days` days went."""
        ...


__all__ = [
    "ActionOutcome",
    "ChoiceOutcome",
    "ChoiceStatus",
    "Hold",
    "RecentVideo",
    "SourceError",
    "VideoSource",
    "WaitingVideo",
]
