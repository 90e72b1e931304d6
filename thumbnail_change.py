"""Changing a published video's thumbnail, for a while after it was published.

A change takes another of the video's ranked candidates: it is recorded as the video's choice,
rendered into its thumbnail with the video's template, and put on its target (`thumbnails.set`
on YouTube, 50 quota units; or the file in its PUBLISH_DIR folder). It works on the video's
workspace wherever it is now: in place, or archived by cleanup in COMPLETED_DIR (the one made
for this recording, by its fingerprint).

The workspace's `thumbnail_changes.json` records each change done and what is live, so a change
run again (a retry after a crash or a lost answer) is not set a second time, and the quota units
the changes spent. A crash in the instant between YouTube taking the thumbnail and this record
being written sets the same bytes once more when the change runs again.

When the window for changes closes, `retire_sources` removes the candidates' images, which only
a change needed; the rest of the workspace (the choice, the thumbnail, the records) stays.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cleanup
import thumbnail_enhancement
import thumbnail_selector
import uploader
from errors import PipelineError
from workspace import (
    CANDIDATES_DIR,
    atomic_write_json,
    read_json,
    recorded_fingerprint,
)
from youtube.common import utc_now_iso
from youtube.quota import added_units

log = logging.getLogger(__name__)

CHANGES_FILE = "thumbnail_changes.json"


class WorkspaceGoneError(PipelineError):
    """The published video's workspace is neither in WORKSPACE_DIR nor archived."""


class ChangesRecordUnreadableError(PipelineError):
    """thumbnail_changes.json exists but cannot be read."""


@dataclass
class ChangeDone:
    number: int  # the change's number in the video's window, from 1
    candidate_id: str
    rank: int
    done_at: str  # ISO, UTC
    thumbnail_sha256: str  # of the thumbnail put on the target


@dataclass
class ChangesRecord:
    """A published video's changes (the workspace's thumbnail_changes.json)."""

    done: list[ChangeDone] = field(default_factory=list)
    quota_units: dict[str, int] = field(default_factory=dict)  # by quota day (Pacific)
    retired_at: str | None = None  # the window closed: the candidates' images were removed

    def find(self, number: int) -> ChangeDone | None:
        return next((change for change in self.done if change.number == number), None)


@dataclass
class ChangeResult:
    change: ChangeDone
    target: str  # where it was put: youtube or local
    quota_units: dict[str, int]  # every change's of this video, by quota day
    already_done: bool = False  # asked again: found done, not set a second time


def locate_workspace(video_path: Path, fingerprint: str) -> Path:
    """The workspace made for this recording (`fingerprint`; empty: the newest), in place or
    archived."""
    video = Path(video_path)
    places = cleanup.workspaces_of(video)
    for place in places:
        if not fingerprint or recorded_fingerprint(video, place) == fingerprint:
            return place
    looked = ", ".join(str(place) for place in places) or "WORKSPACE_DIR and COMPLETED_DIR"
    raise WorkspaceGoneError(
        f"{video.name}: the workspace of this recording is gone (looked in {looked}); its "
        "thumbnail can no longer be changed from here"
    )


def load_changes(workspace: Path) -> ChangesRecord:
    path = workspace / CHANGES_FILE
    if not path.is_file():
        return ChangesRecord()
    try:
        data = read_json(path)
        return ChangesRecord(
            done=[ChangeDone(**entry) for entry in data.get("done", [])],
            quota_units={str(day): int(units) for day, units in data["quota_units"].items()},
            retired_at=data.get("retired_at"),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ChangesRecordUnreadableError(
            f"{path}: damaged ({type(error).__name__}); check the thumbnail on the target, then "
            "delete this file"
        ) from None


def _save(workspace: Path, record: ChangesRecord) -> None:
    atomic_write_json(workspace / CHANGES_FILE, asdict(record))


def change_thumbnail(
    video_path: Path, fingerprint: str, number: int, candidate_id: str, template_name: str
) -> ChangeResult:
    """Make `candidate_id` the published video's thumbnail as its change `number`; a change
    already done is answered from the record, not set again."""
    video = Path(video_path)
    workspace = locate_workspace(video, fingerprint)
    record = load_changes(workspace)
    if record.retired_at is not None:
        raise PipelineError(
            f"{video.name}: its window for changes closed at {record.retired_at}; the "
            "candidates' images are gone"
        )
    if (done := record.find(number)) is not None:
        published = uploader.load_upload_record(video, workspace)
        target = published.target if published else ""
        return ChangeResult(done, target, record.quota_units, already_done=True)
    selection = thumbnail_selector.record_selection(video, candidate_id, workspace)
    thumbnail = thumbnail_enhancement.render_thumbnail(video, template_name, workspace)

    def spent(units: dict[str, int]) -> None:
        record.quota_units = added_units(record.quota_units, units)
        _save(workspace, record)

    published = uploader.replace_thumbnail(video, workspace, spent)
    done = ChangeDone(
        number,
        selection.candidate_id,
        selection.rank,
        utc_now_iso(),
        hashlib.sha256(thumbnail.read_bytes()).hexdigest(),
    )
    record.done.append(done)
    _save(workspace, record)
    log.info("%s: thumbnail changed to %s (rank %d)", video.name, done.candidate_id, done.rank)
    return ChangeResult(done, published.target, record.quota_units)


def retire_sources(video_path: Path, fingerprint: str) -> ChangesRecord:
    """The window closed: remove the candidates' images of the video's workspace (kept for
    changes until now); returns the record of its changes. Nothing to do when the workspace is
    gone."""
    video = Path(video_path)
    try:
        workspace = locate_workspace(video, fingerprint)
    except WorkspaceGoneError as error:
        log.info("%s", error)
        return ChangesRecord()
    record = load_changes(workspace)
    shutil.rmtree(workspace / CANDIDATES_DIR, ignore_errors=True)
    if record.retired_at is None:
        record.retired_at = utc_now_iso()
        _save(workspace, record)
        log.info("%s: window for changes closed; the candidates' images removed", video.name)
    return record
