"""The operator's thumbnail chooser: one window with a video's ranked candidates.

`choose()` shows up to nine candidates in a grid beside a large preview of the focused one and
returns the chosen candidate's id, or None when the operator cancels. A candidate's picture is
a JPEG's path, the JPEG as bytes (previews that came from another machine), or a decoded image.
`pick_by_rank()` is the headless `--pick N`. `record_selection()` writes a choice into the
video's workspace (`selected.jpg` + `selection.json`, which keeps the candidate's players and
every template's crop: enhance frames the thumbnail as the chooser showed it); the batch CLI and
the Temporal select activity both call it.

The window itself (layout, input handling, drawing) is the `chooser_window` package; this
module is what callers import, but for a CLI that must start without OpenCV: it picks with
`chooser_window.ranks`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from chooser_window.candidate import Crop, RankedCandidate, SelectableCandidate
from chooser_window.display import NoDisplayError, check_opencv_libraries, require_display
from chooser_window.drawing import ACCENT, PANEL, Scene
from chooser_window.images import CandidateImageError, load_images, unreadable_file
from chooser_window.layout import MAX_CANDIDATES, Layout, canvas_size, layout
from chooser_window.ranks import RankOutOfRangeError, pick_by_rank
from chooser_window.window import run_window
from errors import PipelineError, Remedy
from workspace import (
    SELECTED_IMAGE,
    SELECTION_FILE,
    atomic_write_bytes,
    atomic_write_json,
    read_json,
    workspace_dir,
)

# besides the chooser's API: the window's geometry and colours, for tests and benches that look
# at the window on screen
__all__ = [
    "ACCENT",
    "MAX_CANDIDATES",
    "PANEL",
    "CandidateImageError",
    "Layout",
    "NoDisplayError",
    "RankOutOfRangeError",
    "SelectableCandidate",
    "Selection",
    "SelectionFileError",
    "UnknownCandidateError",
    "canvas_size",
    "choose",
    "layout",
    "load_selection",
    "pick_by_rank",
    "record_selection",
    "require_display",
]

log = logging.getLogger(__name__)


class UnknownCandidateError(PipelineError):
    """A chosen candidate id is not one of the video's candidates."""


class SelectionFileError(PipelineError):
    """selection.json exists but cannot be read."""


@dataclass
class Selection:
    candidate_id: str
    rank: int
    timestamp: float
    selected_at: str  # ISO 8601, UTC
    # the players' boxes (None: chosen from candidates ranked before people were found) and
    # each template's crop, as fractions of the frame
    players: list[Crop] | None = None
    crops: dict[str, Crop] = field(default_factory=dict)


# ------------------------------------------------------------------------------------ window


def choose(candidates: Sequence[SelectableCandidate], title: str) -> str | None:
    """Open the chooser window; returns the chosen candidate's id, or None when cancelled
    (Esc, q, or the window's close button). Raises NoDisplayError when no window can open,
    CandidateImageError when a candidate's picture is missing or does not decode."""
    if not 1 <= len(candidates) <= MAX_CANDIDATES:
        raise ValueError(
            f"the chooser shows 1 to {MAX_CANDIDATES} candidates, not {len(candidates)}"
        )
    called = time.perf_counter()
    screen = require_display()
    check_opencv_libraries()
    ordered = sorted(candidates, key=lambda c: c.rank)
    where = layout(len(ordered), canvas_size(screen, len(ordered)))
    scene = Scene(where, title, ordered, load_images(ordered, where.preview.width))
    state = run_window(scene, screen, called)
    if state.chosen is None:
        log.info("%s: nothing chosen", title)
        return None
    chosen = ordered[state.chosen]
    log.info("%s: chose %s (rank %d)", title, chosen.id, chosen.rank)
    return chosen.id


# ------------------------------------------------------------------------- recording a choice


def _candidate_for(
    video_path: Path, candidates: Sequence[RankedCandidate], candidate_id: str | None
) -> RankedCandidate:
    if not candidates:
        raise UnknownCandidateError(f"{video_path.name}: has no thumbnail candidates", Remedy.RANK)
    if candidate_id is None:
        return min(candidates, key=lambda c: c.rank)
    for candidate in candidates:
        if candidate.id == candidate_id:
            return candidate
    valid = ", ".join(c.id for c in candidates)
    raise UnknownCandidateError(
        f"{video_path.name}: {candidate_id!r} is not one of this video's candidates "
        f"({valid}): choose one of those"
    )


def load_selection(video_path: Path, workspace: Path | None = None) -> Selection | None:
    """The video's recorded choice (in `workspace` when it is not the video's own, e.g.
    archived), None when it has none yet."""
    path = (workspace or workspace_dir(video_path)) / SELECTION_FILE
    if not path.is_file():
        return None
    from thumbnail_ranking.pipeline import box_map, box_of  # late: ranking pulls in the decoders

    try:
        data = read_json(path)
        players = data.get("players")
        return Selection(
            candidate_id=str(data["candidate_id"]),
            rank=int(data["rank"]),
            timestamp=float(data["timestamp"]),
            selected_at=str(data["selected_at"]),
            players=None if players is None else [box_of(box) for box in players],
            crops=box_map(data.get("crops", {})),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SelectionFileError(
            f"{path}: not a valid selection ({type(error).__name__}: {error}): delete it and "
            "choose again",
            Remedy.SELECT,
        ) from None


def record_selection(
    video_path: Path, candidate_id: str | None, workspace: Path | None = None
) -> Selection:
    """Record `candidate_id` (None: the top-ranked) as the video's thumbnail choice, in
    `workspace` when it is not the video's own (an archived one, for a change after publishing).

    Copies the candidate's JPEG to the workspace's selected.jpg, then writes selection.json
    (so a selection.json always has its selected.jpg). Recording the same candidate again keeps
    the first record.
    """
    from thumbnail_ranking import load_candidates  # imported late: ranking pulls in the decoders

    video_path = Path(video_path)
    chosen = _candidate_for(video_path, load_candidates(video_path, workspace), candidate_id)
    directory = workspace or workspace_dir(video_path)
    previous = load_selection(video_path, workspace)
    if (
        previous is not None
        and previous.candidate_id == chosen.id
        and (directory / SELECTED_IMAGE).is_file()
    ):
        return previous
    source = Path(chosen.file)
    try:
        data = source.read_bytes()
    except OSError:
        raise unreadable_file(source) from None
    atomic_write_bytes(directory / SELECTED_IMAGE, data)
    selection = Selection(
        candidate_id=chosen.id,
        rank=chosen.rank,
        timestamp=chosen.timestamp,
        selected_at=datetime.now(UTC).isoformat(timespec="seconds"),
        players=chosen.players,
        crops=dict(chosen.crops),
    )
    atomic_write_json(directory / SELECTION_FILE, asdict(selection))
    log.info("%s: selected %s (rank %d)", video_path.name, chosen.id, chosen.rank)
    return selection
