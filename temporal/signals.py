"""The human-in-the-loop signal: the operator's thumbnail choice for one video."""

from dataclasses import dataclass

THUMBNAIL_SELECTED_SIGNAL = "thumbnail_selected"


@dataclass
class ThumbnailSelectedSignal:
    """`selected_frame` is the chosen candidate id; None accepts the top-ranked candidate.

    `video_path` guards against a choice sent to the wrong workflow; empty (a signal typed in
    the Web UI as `{"selected_frame": "..."}`) means "this workflow's video".
    """

    video_path: str = ""
    selected_frame: str | None = None
