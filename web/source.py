"""What the web chooser needs to know and do, whatever answers it.

The pages depend only on `VideoSource` and these dataclasses. `web.temporal_source` implements
it over `temporal.client`; a test or a bench can serve fixed data through the same interface.
Every text here is plain (never HTML): the templates escape it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol


class SourceError(Exception):
    """Something the person must know, shown on the page as one line (no worker, an ended
    workflow, an unknown id...)."""


@dataclass(frozen=True)
class Candidate:
    id: str
    rank: int  # 1 is the best
    score: float
    timestamp: float  # seconds into the video
    # the part of the picture the thumbnail shows (x0, y0, x1, y1, fractions); None: all of it
    crop: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class WaitingVideo:
    workflow_id: str
    title: str
    video_file: str
    host: str | None  # the machine holding the video; None when unknown
    waiting_since: datetime | None
    candidates: list[Candidate] = field(default_factory=list)  # best first; empty: none known


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
class Hold:
    """A step that waits instead of failing; `retry` runs it again now."""

    needs_attention: bool  # a person must fix something; False: YouTube's daily limit
    step: str  # the stage whose step runs again, e.g. UPLOADING
    reason: str  # what is wrong, and how it goes on
    resumes_at: datetime | None  # when the step runs again by itself


@dataclass(frozen=True)
class RecentVideo:
    workflow_id: str
    video_file: str
    stage: str  # the workflow's stage, e.g. WAITING_FOR_SELECTION, UPLOADING, COMPLETED
    execution_status: str  # RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT
    started_at: datetime | None = None
    progress_percent: int | None = None  # of the running stage, when it reports progress
    hold: Hold | None = None  # a step waiting for a person or the quota; None: not held
    failure: str | None = None  # why the workflow failed
    published_link: str | None = None  # where the published video is


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
        """Run a held step again now: a person fixed the cause, or the quota may be back."""
        ...

    async def cancel(self, workflow_id: str) -> ActionOutcome:
        """Stop a video at its next step; its source stays in place."""
        ...
