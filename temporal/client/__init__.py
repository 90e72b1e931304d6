"""The operator's side of Temporal: connect, start, list, find, describe, choose, retry, cancel,
and how videos ended. The CLI, the folder watcher, the web chooser and the tests go through it;
it prints nothing and names no command of theirs (its errors carry what a front end needs to
word the remedy). It names the workflow by its type and never imports the workflow's code, so
it loads neither the stages nor their decoders.

One concern a module, each importable on its own:
  connection  reaching Temporal (its standard TEMPORAL_* configuration)
  ids         a video's workflow id, from its content; visibility queries of video workflows
  rows        a run's search attributes and memo, read in one place (`VideoRow`)
  queries     asking one workflow: status, previews, why it failed or was cancelled
  hosts       whether a video's host (its worker) is there
  inbox       each host's files that did not start (refused, or still being copied)
  listing     the videos waiting for a choice, and those held, as `pending` numbers them
  recent      the latest videos at a glance (`status`)
  resolve     a video by what people type: a number, an id's start, a file name
  describe    one video in detail, and how videos ended
  choosing    a waiting video's candidates and previews, and the choice
  recorded_choice  the choice of a video no worker runs now, kept as a signal
  changing    a published video's thumbnail changed, within its window (its companion)
  actions     retry a held stage, cancel a video
  playlist    a published video's refused playlist, and that step run again
  start       start a video's workflow once per recording; `supersede` the earlier content
  stats       how the videos of the last days went, from their memos
  errors      what it refuses, as data
This module is their face: callers import from here.
"""

from temporal.client.actions import cancel, retry, retry_held, retry_videos, runs_on
from temporal.client.changing import (
    ChangeFailedError,
    ChangeOffer,
    ChangeWaitingError,
    NotChangeableError,
    change_offer,
    change_thumbnail,
)
from temporal.client.choosing import (
    ChoiceCandidate,
    ChoiceRequest,
    answered_status,
    choice_request,
    choose,
)
from temporal.client.connection import DEFAULT_ADDRESS, connect, connect_config
from temporal.client.describe import (
    ChangesWindow,
    RetryingActivity,
    VideoDetail,
    VideoOutcome,
    all_done,
    describe_video,
    outcome,
    outcomes,
    retrying_activities,
)
from temporal.client.errors import (
    AmbiguousVideoError,
    ChoicePendingError,
    ChoiceRejectedError,
    NoMatchError,
    NoSuchNumberError,
    NoSuchVideoError,
    NotHeldError,
    NotWaitingError,
    NoWorkerError,
    OperatorError,
    PreviewsMissingError,
    VideoMatch,
    WorkflowEndedError,
    WorkflowNotFoundError,
    WorkflowUnansweredError,
)
from temporal.client.hosts import HostState, host_state, host_states
from temporal.client.ids import WORKFLOW_TYPE, earlier_workflow_id_for, workflow_id_for
from temporal.client.inbox import inbox_files, inbox_of, matching, send_inbox
from temporal.client.listing import (
    HeldVideo,
    Pending,
    WaitingVideo,
    closed_since,
    count_in_progress,
    list_held,
    list_waiting,
    numbered,
    pending,
)
from temporal.client.playlist import PlaylistState, playlist_state, retry_playlist
from temporal.client.queries import (
    NO_WORKER_CODES,
    Failure,
    get_preview,
    get_previews,
    get_status,
    query_status,
)
from temporal.client.recent import WorkflowSummary, branding_percent, recent_workflows
from temporal.client.recorded_choice import KeptChoice, keep_choice, request_from_history
from temporal.client.resolve import Wanted, resolve
from temporal.client.start import StartOutcome, start_video
from temporal.client.stats import Stats, video_stats

__all__ = [
    "DEFAULT_ADDRESS",
    "NO_WORKER_CODES",
    "WORKFLOW_TYPE",
    "AmbiguousVideoError",
    "ChangeFailedError",
    "ChangeOffer",
    "ChangeWaitingError",
    "ChangesWindow",
    "ChoiceCandidate",
    "ChoicePendingError",
    "ChoiceRejectedError",
    "ChoiceRequest",
    "Failure",
    "HeldVideo",
    "HostState",
    "KeptChoice",
    "NoMatchError",
    "NoSuchNumberError",
    "NoSuchVideoError",
    "NoWorkerError",
    "NotChangeableError",
    "NotHeldError",
    "NotWaitingError",
    "OperatorError",
    "Pending",
    "PlaylistState",
    "PreviewsMissingError",
    "RetryingActivity",
    "StartOutcome",
    "Stats",
    "VideoDetail",
    "VideoMatch",
    "VideoOutcome",
    "WaitingVideo",
    "Wanted",
    "WorkflowEndedError",
    "WorkflowNotFoundError",
    "WorkflowSummary",
    "WorkflowUnansweredError",
    "all_done",
    "answered_status",
    "branding_percent",
    "cancel",
    "change_offer",
    "change_thumbnail",
    "choice_request",
    "choose",
    "closed_since",
    "connect",
    "connect_config",
    "count_in_progress",
    "describe_video",
    "earlier_workflow_id_for",
    "get_preview",
    "get_previews",
    "get_status",
    "host_state",
    "host_states",
    "inbox_files",
    "inbox_of",
    "keep_choice",
    "list_held",
    "list_waiting",
    "matching",
    "numbered",
    "outcome",
    "outcomes",
    "pending",
    "playlist_state",
    "query_status",
    "recent_workflows",
    "request_from_history",
    "resolve",
    "retry",
    "retry_held",
    "retry_playlist",
    "retry_videos",
    "retrying_activities",
    "runs_on",
    "send_inbox",
    "start_video",
    "video_stats",
    "workflow_id_for",
]
