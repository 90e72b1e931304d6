"""What ThumbnailChangeWorkflow (temporal/changes.py) exchanges with the video's workflow that
starts it, its activities and its clients.

A published video gets a companion workflow of this type for RECHOOSE_DAYS: its id is the
video's workflow id with CHANGES_ID_SUFFIX, so any front end finds it from the video. Every
listing that means "videos" filters by ProcessVideoWorkflow's type and never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporal.messages import CandidateInfo, Hold

CHANGES_WORKFLOW_TYPE = "ThumbnailChangeWorkflow"
CHANGES_ID_SUFFIX = "-changes"
CHANGE_THUMBNAIL_UPDATE = "change_thumbnail"  # validated before anything is recorded
CHANGES_STATUS_QUERY = "get_changes"
CHANGE_FAILED = "ThumbnailChangeFailed"  # the type of a change's error after it was accepted
MEMO_CHANGES = "changes"  # a ChangesMemo: what is live, how many changes, the quota they spent


def changes_workflow_id(video_workflow_id: str) -> str:
    """The id of the companion that changes the thumbnail of the video `video_workflow_id`."""
    return video_workflow_id + CHANGES_ID_SUFFIX


@dataclass
class ChangesInput:
    video_workflow_id: str
    video_path: str  # on its host
    fingerprint: str
    host: str  # WORKER_NAME of the video's host; empty: any worker
    template_name: str
    candidates: list[CandidateInfo]  # no previews: they stay in the video's workflow
    live_candidate_id: str
    closes_at: str  # ISO, UTC: changes are refused from then on
    attention_retry_seconds: float = 600.0
    changes_made: int = 0  # carried over a continue-as-new
    quota_units: dict[str, int] = field(default_factory=dict)
    max_changes_per_run: int = 20  # then it continues as new: its history stays bounded


@dataclass
class ChangeRequest:
    candidate_id: str
    video_path: str = ""  # guards against a change sent to the wrong video; empty: not checked


@dataclass
class ChangeTask:
    """The activity's request: make `candidate_id` live as the video's change `number`."""

    video_path: str
    fingerprint: str
    number: int
    candidate_id: str
    template_name: str


@dataclass
class ChangeDone:
    candidate_id: str
    rank: int
    number: int
    target: str  # youtube or local
    quota_units: dict[str, int] = field(default_factory=dict)  # every change's, by quota day
    already_done: bool = False  # a retry found it done: not set a second time


@dataclass
class RetireTask:
    video_path: str
    fingerprint: str


@dataclass
class ChangesStatus:
    video_path: str
    live_candidate_id: str
    closes_at: str
    candidates: list[CandidateInfo] = field(default_factory=list)
    changes_made: int = 0
    changing_to: str | None = None  # a change under way (waiting for its host, or held)
    hold: Hold | None = None  # the change held: YouTube refused it, a problem a person fixes
    closed: bool = False  # the window ended
    host: str = ""  # the worker that makes the changes, on the machine of the video's workspace


@dataclass
class ChangesMemo:
    live_candidate_id: str
    live_rank: int
    changes_made: int
    closes_at: str
    quota_units: dict[str, int] = field(default_factory=dict)
