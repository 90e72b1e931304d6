"""Everything ProcessVideoWorkflow exchanges with its activities, its clients and the Web UI.

Names of the search attributes, stages, signals, queries, updates and memo keys, and the
dataclasses that travel as payloads. Payloads are JSON: a field added later needs a default, so
that the histories and inputs of workflows already running still decode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.common import SearchAttributeKey

# Search attributes: the Web UI and `pending`/`status` filter on them without a worker.
VIDEO_STAGE = SearchAttributeKey.for_keyword("VideoStage")
VIDEO_FILE = SearchAttributeKey.for_keyword("VideoFile")
VIDEO_FINGERPRINT = SearchAttributeKey.for_keyword("VideoFingerprint")
SEARCH_ATTRIBUTES = (VIDEO_STAGE, VIDEO_FILE, VIDEO_FINGERPRINT)

# Stages: the values of VideoStage.
PREPARING = "PREPARING"
RANKING = "RANKING"
WAITING_FOR_SELECTION = "WAITING_FOR_SELECTION"
SELECTING = "SELECTING"
ENHANCING = "ENHANCING"
UPLOADING = "UPLOADING"
CLEANING_UP = "CLEANING_UP"
COMPLETED = "COMPLETED"
WAITING_FOR_QUOTA = "WAITING_FOR_QUOTA"  # a YouTube daily limit; goes on after its reset
NEEDS_ATTENTION = "NEEDS_ATTENTION"  # a person fixes something; retried on a slow schedule
HELD_STAGES = (WAITING_FOR_QUOTA, NEEDS_ATTENTION)

# Handlers.
STATUS_QUERY = "get_status"
PREVIEW_QUERY = "get_preview"  # a candidate's JPEG preview, bytes (empty: none)
THUMBNAIL_SELECTED_SIGNAL = "thumbnail_selected"  # the Web UI's way to choose
CHOOSE_THUMBNAIL_UPDATE = "choose_thumbnail"  # the CLI's: validated before it is recorded
PROGRESS_SIGNAL = "activity_progress"
RETRY_SIGNAL = "retry_now"  # a held step runs again now

# Memo keys: shown without a worker, carried from a failed run to the next.
MEMO_VIDEO_FILE = "video_file"
MEMO_WAITING_SINCE = "waiting_since"
MEMO_CHOSEN_CANDIDATE = "chosen_candidate"
MEMO_HOLD = "hold"
MEMO_HOST = "host"  # the worker whose task queue runs the video's activities
MEMO_VIDEO_PATH = "video_path"  # the file's path on its host: new content there supersedes it

# An activity's ApplicationError whose first detail is one of these waits instead of failing.
HOLD_FOR_QUOTA = "quota"  # second detail: when to try again (ISO time)
HOLD_FOR_ATTENTION = "attention"  # second detail: not tried again by itself before (ISO), or None
# third detail (both): the errors.Step that fixes it, or None

AUTOPICK = "autopick"

# Bounds on what a person may send: longer is refused, and a reason quotes a short prefix.
MAX_CANDIDATE_ID_CHARS = 300
MAX_VIDEO_PATH_CHARS = 4096
QUOTED_PREFIX_CHARS = 40


def host_task_queue(shared_queue: str, host: str) -> str:
    """The task queue only the worker named `host` polls: a video's activities run there, on
    the machine that holds its file. The workflow itself runs on `shared_queue`."""
    return f"{shared_queue}@{host}"


@dataclass
class ProcessVideoInput:
    video_path: str
    top_n: int
    template_name: str
    selection_timeout_seconds: float | None = None
    selection_timeout_action: str = AUTOPICK
    fingerprint: str = ""  # the content this workflow is for; empty: not checked
    previous_choice: str | None = None  # a failed run's choice, taken again if still offered
    attention_retry_seconds: float = 600.0
    # WORKER_NAME of the host that started it; empty: started before hosts, any worker runs it
    host: str = ""


@dataclass
class PreparedVideo:
    video_file: str
    title: str
    duration_seconds: float


@dataclass
class RankRequest:
    video_path: str
    top_n: int
    fingerprint: str = ""
    template_name: str = ""  # whose crop the candidates carry; empty: THUMBNAIL_TEMPLATE


@dataclass
class CandidateInfo:
    id: str
    rank: int
    score: float
    timestamp: float
    file: str
    # the part of the frame the thumbnail shows (x0, y0, x1, y1, fractions); None: the centre
    crop: tuple[float, float, float, float] | None = None


@dataclass
class PreviewRequest:
    video_path: str
    candidate_id: str
    file: str  # the full-size candidate, on the video's host
    fingerprint: str = ""


@dataclass
class SelectRequest:
    video_path: str
    candidate_id: str
    fingerprint: str = ""


@dataclass
class EnhanceRequest:
    video_path: str
    template_name: str
    fingerprint: str = ""


@dataclass
class PublishedVideo:
    target: str
    video_id: str | None
    url: str | None
    publish_at: str | None = None  # a scheduled video: when YouTube makes it public (ISO)


@dataclass
class ProgressReport:
    """Progress of the running activity; no secrets, it is visible in the Web UI."""

    activity: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


@dataclass
class ThumbnailSelectedSignal:
    """A thumbnail choice, as the signal or the update carries it.

    `selected_frame` is the chosen candidate id; None accepts the top-ranked candidate.
    `video_path` guards against a choice sent to the wrong workflow; empty (a signal typed in
    the Web UI as `{"selected_frame": "..."}`) means "this workflow's video".
    """

    video_path: str = ""
    selected_frame: str | None = None


@dataclass
class RejectedSelection:
    selected_frame: str | None
    reason: str


@dataclass
class Hold:
    """A step waiting for YouTube's quota or for a person, instead of failing."""

    stage: str  # WAITING_FOR_QUOTA or NEEDS_ATTENTION
    step: str  # the stage whose step runs again, e.g. UPLOADING
    reason: str  # what is wrong and how to fix it: path and cause
    redo: str | None  # the errors.Step that fixes it ("auth": a successful `auth` retries it)
    since: str  # ISO times, UTC
    retry_at: str


@dataclass
class VideoStatus:
    stage: str
    video_path: str
    candidates: list[CandidateInfo] = field(default_factory=list)
    title: str | None = None
    selected_candidate_id: str | None = None
    rejected_selection: RejectedSelection | None = None
    progress: ProgressReport | None = None
    waiting_since: str | None = None
    published: PublishedVideo | None = None
    hold: Hold | None = None
    choice_reused: bool = False  # the choice of a failed run was taken again
    chosen_by_timeout: bool = False  # SELECTION_TIMEOUT passed and the top candidate was taken
    host: str = ""  # the worker that runs the video's activities; empty: any worker
    preview_ids: list[str] = field(default_factory=list)  # candidates with a preview (query)


@dataclass
class VideoResult:
    video_path: str
    selected_candidate_id: str
    published: PublishedVideo
    cleanup: str
