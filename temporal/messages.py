"""Everything ProcessVideoWorkflow exchanges with its activities, its clients and the Web UI.

Names of the search attributes, stages, signals, queries, updates and memo keys, and the
dataclasses that travel as payloads. Payloads are JSON: a field added later needs a default, so
that the histories and inputs of workflows already running still decode.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
# publishing waits for the branded copy, made beside ranking and the choice (`BrandingStatus`)
BRANDING = "BRANDING"
COMPLETED = "COMPLETED"
WAITING_FOR_QUOTA = "WAITING_FOR_QUOTA"  # a YouTube daily limit; goes on after its reset
NEEDS_ATTENTION = "NEEDS_ATTENTION"  # a person fixes something; retried on a slow schedule
HELD_STAGES = (WAITING_FOR_QUOTA, NEEDS_ATTENTION)

# The activity that does each stage, by the name it is registered under.
ACTIVITY_OF_STAGE = {
    PREPARING: "prepare_video",
    RANKING: "rank_thumbnails",
    SELECTING: "select_thumbnail",
    ENHANCING: "enhance_thumbnail",
    BRANDING: "brand_video",
    UPLOADING: "upload_video",
    CLEANING_UP: "cleanup_video",
}

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
MEMO_PLAYLIST_PROBLEM = "playlist_problem"  # published, but YouTube refused its playlist: why
MEMO_STATS = "stats"  # a ChoiceStats: who chose which rank, the times, the failure's type, quota

# A published video's playlist step run again (`PlaylistRetryInput`), as a workflow of its own.
PLAYLIST_RETRY_WORKFLOW = "PlaylistRetryWorkflow"

# The kinds of Hold: an activity's ApplicationError whose one detail is a Hold waits instead of
# failing, for YouTube's quota or for a person.
HOLD_FOR_QUOTA = "quota"
HOLD_FOR_ATTENTION = "attention"

AUTOPICK = "autopick"

# CHOICE: wait for a person (or SELECTION_TIMEOUT) before publishing, or publish with rank 1 at
# once and let a person change the thumbnail afterwards.
CHOICE_WAIT = "wait"
CHOICE_AUTO = "auto"
# Who made a video's choice (ChoiceStats.chosen_by).
BY_PERSON = "person"
BY_TIMEOUT = "timeout"
BY_AUTO = "auto"
BY_EARLIER_RUN = "earlier_run"  # a failed run's choice, taken again

# What happens to a video (VideoEvent.kind): what its workflow tells the notifier, what `up` says.
WAITING = "waiting"  # it started waiting for a thumbnail choice
CHOSEN = "chosen"  # it no longer waits: a choice, or the timeout's pick
ATTENTION = "attention"  # a person must fix something (`hold`; events of older runs: `detail`)
QUOTA = "quota"  # it waits for YouTube's daily limit (`hold`)
FAILED = "failed"  # `detail`: why; `redo`: the errors.Remedy that fixes it
PUBLISHED = "published"  # `detail`: the link
ENDED = "ended"  # cancelled, terminated or timed out; `detail`: which, and why when known

# Bounds on what a person may send: longer is refused, and a reason quotes a short prefix.
MAX_CANDIDATE_ID_CHARS = 300
MAX_VIDEO_PATH_CHARS = 4096
QUOTED_PREFIX_CHARS = 40


def playlist_retry_id(video_workflow_id: str) -> str:
    """The workflow that runs the playlist step of this video's workflow again."""
    return f"{video_workflow_id}-playlist"


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
    choice_mode: str = CHOICE_WAIT  # CHOICE
    rechoose_seconds: float = 0.0  # RECHOOSE_DAYS: how long a published video's thumbnail changes


@dataclass
class PreparedVideo:
    video_file: str
    title: str
    duration_seconds: float
    file_time: str = ""  # ISO, UTC: when the file was last written (the end of the recording)


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
    playlist: str | None = None  # the title of its playlist, when it has one
    # published without its playlist, which YouTube refused for good: why (the title quoted)
    playlist_problem: str | None = None
    quota_units: dict[str, int] = field(default_factory=dict)  # YouTube's units, by quota day


@dataclass
class PlaylistRetryInput:
    """A published video's playlist step, run again on its host (its workspace, its token)."""

    video_workflow_id: str
    video_path: str  # on its host, where it was before it was archived
    video_id: str  # on YouTube
    host: str = ""  # WORKER_NAME of its host; empty: any worker


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
    """A stage waiting for YouTube's quota or for a person, instead of failing.

    An activity asks for it as the one detail of its ApplicationError (`kind`, `problem`, `redo`,
    and in `retry_at` the earliest time worth trying again, when it knows one); the workflow holds
    the stage until `retry_at` or a `retry_now` signal, and keeps the hold in its status and memo.
    It names no command: each front end words the remedy (`redo`, and how to go on now) for where
    it is read.
    """

    kind: str  # HOLD_FOR_QUOTA or HOLD_FOR_ATTENTION
    problem: str  # what is wrong, where and why (the path, the cause)
    redo: str | None = None  # the errors.Remedy that fixes it ("auth": a successful `auth` goes on)
    retry_at: str | None = None  # ISO time, UTC: when the stage runs again by itself
    stage: str = ""  # the stage held, whose activity runs again, e.g. UPLOADING
    since: str = ""  # ISO time, UTC

    @property
    def video_stage(self) -> str:
        """The VideoStage the video shows while held."""
        return WAITING_FOR_QUOTA if self.kind == HOLD_FOR_QUOTA else NEEDS_ATTENTION


@dataclass
class FailureRemedy:
    """The one detail of a failing stage's ApplicationError: the errors.Remedy that fixes it, for
    each front end to word (the message says what is wrong, never a command)."""

    redo: str | None = None


# How the versions before typed holds worded the remedy after the problem: their holds (in the
# memo of a video waiting since, and in the histories replayed) are read without it.
_WORDED_REMEDIES = (
    re.compile(
        r"\. The video waits for the reset and goes on by itself \(`[^`]*` tries sooner\)\.$"
    ),
    re.compile(r": run `[^`]*auth` on .*? \(its token is the one used\), the videos waiting .*$"),
    re.compile(r"\. Once fixed, `[^`]*` goes on at once; it is also tried again by itself\.$"),
)


def problem_of_worded(reason: str) -> str:
    """The problem an older hold's reason states, without the remedy it went on to word."""
    for remedy in _WORDED_REMEDIES:
        problem, cut = remedy.subn("", reason)
        if cut:
            return problem
    return reason


def hold_from_failure(message: str, details: Sequence[Any]) -> Hold | None:
    """The hold an activity's ApplicationError asks for, or None (a failure): a Hold as its one
    detail, or the positional details of the versions before it (kind, retry_at, redo), whose
    message worded the remedy too."""
    if len(details) == 1 and isinstance(details[0], dict):
        return hold_from_dict(details[0])
    if not details or details[0] not in (HOLD_FOR_QUOTA, HOLD_FOR_ATTENTION):
        return None
    kind, retry_at, redo = (*details, None, None)[:3]
    return Hold(
        kind,
        problem_of_worded(message),
        redo if isinstance(redo, str) else None,
        retry_at if isinstance(retry_at, str) else None,
    )


def hold_from_dict(data: Any) -> Hold | None:
    """A Hold from its JSON (a detail, the memo), or None when it is not one. The memo of a video
    held by a version before typed holds has that version's fields (stage WAITING_FOR_QUOTA or
    NEEDS_ATTENTION, step, reason)."""
    if not isinstance(data, dict):
        return None
    if "kind" not in data and "reason" in data:
        quota = data.get("stage") == WAITING_FOR_QUOTA
        data = {
            "kind": HOLD_FOR_QUOTA if quota else HOLD_FOR_ATTENTION,
            "problem": problem_of_worded(str(data["reason"])),
            "redo": data.get("redo"),
            "retry_at": data.get("retry_at"),
            "stage": data.get("step", ""),
            "since": data.get("since", ""),
        }
    try:
        hold = Hold(**data)
    except TypeError:
        return None
    if hold.kind not in (HOLD_FOR_QUOTA, HOLD_FOR_ATTENTION) or not isinstance(hold.problem, str):
        return None
    return hold


def redo_of_failure(details: Sequence[Any]) -> str | None:
    """The errors.Remedy a failure's details name (a FailureRemedy), or None."""
    if len(details) == 1 and isinstance(details[0], dict):
        redo = details[0].get("redo")
        return redo if isinstance(redo, str) else None
    return None


@dataclass
class BrandedVideo:
    """What the branding stage made: `method` "spliced" (only the titles' keyframe intervals
    re-encoded) or "full" (every frame), or "" when the settings ask for no branding (the
    source is published as it is)."""

    method: str = ""
    reason: str | None = None  # why the titles took the full pass
    encoder: str = ""
    resumed_pieces: int = 0  # pieces an earlier attempt had finished


@dataclass
class BrandingStatus:
    """The branded copy, made while the video is ranked and waits for its choice."""

    progress: ProgressReport | None = None
    made: BrandedVideo | None = None  # None: not made yet
    problem: str | None = None  # why it stopped; publishing holds the video for it


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
    branding: BrandingStatus | None = None  # None: a run from before the branding stage
    chosen_by: str = ""  # BY_PERSON, BY_TIMEOUT, BY_AUTO or BY_EARLIER_RUN; empty: not yet
    changes_workflow_id: str = ""  # the companion that changes its thumbnail once published


@dataclass
class ChoiceStats:
    """What the stats count of a video (its memo MEMO_STATS): who chose which rank, when it was
    ranked, chosen and published, the file's own time, why it failed, the quota it spent."""

    chosen_by: str = ""
    rank: int | None = None
    ranked_at: str = ""  # ISO, UTC
    chosen_at: str = ""
    published_at: str = ""
    file_time: str = ""
    failure_type: str = ""  # the ApplicationError type a failed video ended with
    quota_units: dict[str, int] = field(default_factory=dict)  # by quota day (Pacific)


@dataclass
class VideoResult:
    video_path: str
    selected_candidate_id: str
    published: PublishedVideo
    cleanup: str


@dataclass
class VideoEvent:
    """Something that happened to a video: the workflow tells the notifier (a signal, kept in the
    notifier's history), and `up` reports what it sees change."""

    kind: str
    workflow_id: str
    video_file: str
    title: str = ""  # the video's title (the file name until it is prepared)
    detail: str | None = None  # the reason (FAILED) or the link (PUBLISHED)
    waiting_interval_seconds: float | None = None  # NOTIFY_WAITING_INTERVAL, set by the notifier
    hold: Hold | None = None  # ATTENTION, QUOTA
    redo: str | None = None  # FAILED: the errors.Remedy that fixes it
    host: str = ""  # the worker that runs the video's activities
    number: int | None = None  # WAITING, in `up`: the number `pending` gives it
    rank: int | None = None  # CHOSEN, in `up`: the rank chosen, when a worker said
    candidate_id: str | None = None  # CHOSEN, in `up`
    playlist_problem: str | None = None  # PUBLISHED without its playlist: why
    changeable_until: str | None = None  # PUBLISHED: its thumbnail can be changed until (ISO)


# -- a host's inbox: the files of its INPUT_DIR that did not start ------------------------------

INBOX_WORKFLOW_TYPE = "HostInboxWorkflow"
INBOX_ID_PREFIX = "inbox-"
INBOX_SIGNAL = "inbox_files"  # the whole list, as the host's watcher sees it now
INBOX_QUERY = "get_inbox_files"
FILE_REFUSED = "refused"  # a person fixes the file (rename it, copy it again, remove a copy)
FILE_WAITING = "waiting"  # a copy in progress: it starts by itself once it stops changing


@dataclass
class InboxFile:
    """A file of a host's INPUT_DIR that did not start: refused, or still being copied. The
    problem says what is wrong and what to do to the file; it names no command."""

    file: str
    host: str
    kind: str  # FILE_REFUSED or FILE_WAITING
    problem: str
    path: str = ""  # on its host


@dataclass
class InboxInput:
    files: list[InboxFile] = field(default_factory=list)
    max_updates: int = 500  # then it continues as new, carrying the list


def inbox_id(task_queue: str, host: str) -> str:
    """The inbox of `host`'s watcher for the video workflows of `task_queue`."""
    return f"{INBOX_ID_PREFIX}{task_queue}@{host}"
