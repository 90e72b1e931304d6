"""Cleanup: archive a published video and its workspace in COMPLETED_DIR, never losing either.

With `CLEANUP_MODE=move` (the default) a video whose upload.json shows it published (every step
done, or all but a playlist YouTube refused) goes to
`COMPLETED_DIR/<video file name>` and its workspace to
`COMPLETED_DIR/<video file name>.workspace/`. When either name is taken, both get the same suffix
(`<stem> (2)<ext>` and `<stem> (2)<ext>.workspace/`): nothing is ever overwritten.
`CLEANUP_MODE=keep` leaves both in place. Either way the video's branded copy (as large as the
video, and published) is removed first: the archive keeps the original.

On one filesystem a move is a rename. Across filesystems the copy goes to a hidden `.partial`
name, its size is checked and it is fsynced before it is renamed into place, and only then is the
source deleted; a copy that fails (a full disk) removes its `.partial`. The plan (both
destinations) is written into the workspace as `cleanup.json` before anything moves, and travels
with it: a rerun after a crash finds the plan in the workspace (not moved yet) or in the archived
one, and finishes the job instead of failing.
"""

from __future__ import annotations

import errno
import glob
import itertools
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from config import get_settings
from errors import NeedsAttentionError, PipelineError, Remedy, RetryLaterError
from uploader import load_upload_record
from video_branding import remove_branded_copy
from workspace import UPLOAD_FILE, atomic_write_json, fsync_path, read_json, workspace_dir

log = logging.getLogger(__name__)

CLEANUP_FILE = "cleanup.json"
WORKSPACE_SUFFIX = ".workspace"


class NotUploadedError(PipelineError):
    pass


class NothingToCleanUpError(PipelineError):
    pass


class ArchiveConflictError(NeedsAttentionError):
    """Something else took an archive's name during the move: a person moves it away."""


class CleanupPlanUnreadableError(NeedsAttentionError):
    """A person checks where the video is and deletes the damaged plan."""


class VideoMovedAwayError(NeedsAttentionError):
    """The video left its place during a cleanup, but not for the archive: a person puts it back."""


class CopyVerificationError(RetryLaterError):
    """A copy came out with another size than its source (a failing disk?); retried later."""

    redo = Remedy.CLEANUP


@dataclass
class CleanupResult:
    video_file: str
    mode: str
    archived_video: str | None = None
    archived_workspace: str | None = None
    already_done: bool = False

    def __str__(self) -> str:
        if self.mode == "keep":
            return "kept in place (CLEANUP_MODE=keep)"
        done = "already archived" if self.already_done else "archived"
        return f"{done} to {self.archived_video} (and its workspace beside it)"


@dataclass
class _Plan:
    source_video: str
    source_workspace: str
    archived_video: str
    archived_workspace: str
    planned_at: str
    completed_at: str | None = None

    def save(self, workspace: Path) -> None:
        atomic_write_json(workspace / CLEANUP_FILE, asdict(self))

    @classmethod
    def load(cls, workspace: Path) -> _Plan:
        path = workspace / CLEANUP_FILE
        try:
            return cls(**read_json(path))
        except (ValueError, TypeError) as error:
            raise CleanupPlanUnreadableError(
                f"{path}: damaged ({type(error).__name__}); the video is either still at its "
                "place or already in COMPLETED_DIR: check both, put it back in INPUT_DIR if it "
                "is in neither, then delete this file",
                Remedy.CLEANUP,
            ) from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def cleanup_single_video(video_path: Path) -> CleanupResult:
    """Archive the video and its workspace once published; a no-op success when already done."""
    video = Path(os.path.abspath(video_path))
    workspace = workspace_dir(video)
    if (workspace / CLEANUP_FILE).is_file():  # a cleanup began: finish it
        return _carry_out(_Plan.load(workspace))
    if not workspace.is_dir():
        return _already_archived(video)
    _require_published(video)
    remove_branded_copy(video)
    if get_settings().cleanup_mode == "keep":
        log.info("%s: published; kept in place (CLEANUP_MODE=keep)", video.name)
        return CleanupResult(video.name, "keep")
    if not video.is_file():
        raise NothingToCleanUpError(
            f"{video}: the video file is gone but its workspace {workspace} is still there; "
            "put the video back to archive both, or remove the workspace by hand."
        )
    plan = _plan(video, workspace)
    plan.save(workspace)
    return _carry_out(plan)


def _require_published(video: Path) -> None:
    record = load_upload_record(video)
    if record is None:
        raise NotUploadedError(
            f"{video.name}: not uploaded yet (no {UPLOAD_FILE}); cleanup archives only "
            "published videos",
            Remedy.UPLOAD,
        )
    if not record.published:
        raise NotUploadedError(
            f"{video.name}: the upload is not finished (still to do: "
            f"{', '.join(record.steps_missing)})",
            Remedy.UPLOAD,
        )


def _plan(video: Path, workspace: Path) -> _Plan:
    """Destinations for the video and its workspace, suffixed together until both are free."""
    completed = Path(os.path.abspath(get_settings().completed_dir))
    for number in itertools.count(1):
        name = video.name if number == 1 else f"{video.stem} ({number}){video.suffix}"
        archived_video = completed / name
        archived_workspace = completed / (name + WORKSPACE_SUFFIX)
        if not archived_video.exists() and not archived_workspace.exists():
            return _Plan(
                str(video), str(workspace), str(archived_video), str(archived_workspace), _now()
            )
    raise AssertionError("unreachable")


def current_workspace(video_path: Path) -> Path | None:
    """Where the video's workspace is now: in place, or archived in COMPLETED_DIR (the latest
    of several); None when it is in neither."""
    return next(iter(workspaces_of(video_path)), None)


def _archived_plans(video: Path) -> list[_Plan]:
    """The plans of every archive cleanup made of a video at this path (a rematch under one name
    makes several), from COMPLETED_DIR."""
    completed = Path(get_settings().completed_dir)
    pattern = f"{glob.escape(video.stem)}*{glob.escape(video.suffix + WORKSPACE_SUFFIX)}"
    plans = []
    for plan_file in completed.glob(f"{pattern}/{CLEANUP_FILE}"):
        plan = _Plan.load(plan_file.parent)
        if plan.source_video == str(video):
            plans.append(plan)
    return plans


def workspaces_of(video_path: Path) -> list[Path]:
    """Where a published video's workspace may be now: in place (not archived yet, or
    CLEANUP_MODE=keep), then in each archive made of a video at this path, newest first."""
    video = Path(os.path.abspath(video_path))
    archived = sorted(_archived_plans(video), key=lambda plan: plan.planned_at, reverse=True)
    found = [workspace_dir(video)] if workspace_dir(video).is_dir() else []
    return found + [Path(plan.archived_workspace) for plan in archived]


def _already_archived(video: Path) -> CleanupResult:
    """A rerun after the workspace moved: find its plan in COMPLETED_DIR and finish it."""
    plans = _archived_plans(video)
    if not plans:
        if video.is_file():
            raise NotUploadedError(
                f"{video.name}: not prepared or uploaded yet (no workspace); cleanup archives "
                "only published videos",
                Remedy.UPLOAD,
            )
        raise NothingToCleanUpError(
            f"{video}: neither the video nor its workspace nor an archive of it was found; "
            "check the path."
        )
    return _carry_out(max(plans, key=lambda plan: plan.planned_at))


def _carry_out(plan: _Plan) -> CleanupResult:
    moved_video = _move_video(Path(plan.source_video), Path(plan.archived_video))
    moved_workspace = _move_workspace(Path(plan.source_workspace), Path(plan.archived_workspace))
    already_done = not (moved_video or moved_workspace) and plan.completed_at is not None
    if plan.completed_at is None:
        plan.completed_at = _now()
        plan.save(Path(plan.archived_workspace))
    name = Path(plan.source_video).name
    if not already_done:
        log.info("%s: archived to %s", name, plan.archived_video)
    return CleanupResult(
        name, "move", plan.archived_video, plan.archived_workspace, already_done=already_done
    )


def _move_video(source: Path, target: Path) -> bool:
    """Move the file unless that already happened; True when this call moved something."""
    if not source.exists():
        if target.is_file():
            return False
        raise VideoMovedAwayError(
            f"{source}: the video is neither there nor at {target}, where cleanup was moving "
            "it; was it moved by hand? Put it at one of the two places",
            Remedy.CLEANUP,
        )
    return _rename_or_copy(source, target, _FILE)


def _move_workspace(source: Path, target: Path) -> bool:
    """Move the folder unless that already happened; True when this call moved something."""
    deleting = source.with_name(f".{source.name}.deleting")
    if deleting.exists():
        shutil.rmtree(deleting)
    if not source.exists():
        return False
    return _rename_or_copy(source, target, _TREE)


@dataclass(frozen=True)
class _Kind:
    """How to compare, copy and delete one kind of thing (a file, a folder) being archived."""

    same: Callable[[Path, Path], bool]
    copy: Callable[[Path, Path], None]
    delete: Callable[[Path], None]
    differs: str  # says that an unexpected target is something else


def _rename_or_copy(source: Path, target: Path, kind: _Kind) -> bool:
    """Rename `source` to `target`; across filesystems copy, verify, sync, then delete. A
    `target` that is already the copy (a crash came before the delete) only needs the delete."""
    if target.exists():
        if not kind.same(source, target):
            raise ArchiveConflictError(
                f"{target} appeared while {source.name} was being archived and {kind.differs}; "
                "move it away",
                Remedy.CLEANUP,
            )
        kind.delete(source)
        return True
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        kind.copy(source, target)
        kind.delete(source)
    fsync_path(target.parent)
    return True


def _same_file_contents(first: Path, second: Path) -> bool:
    """Size and modification time: an archive copy keeps both (copy2), another file hardly."""
    a, b = first.stat(), second.stat()
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def _copy_file_verified(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    try:
        shutil.copy2(source, partial)
        _verify_and_sync(source, partial)
    except BaseException:  # a full disk, say: no hidden half copy is left taking its space
        partial.unlink(missing_ok=True)
        raise
    os.rename(partial, target)


def _verify_and_sync(source: Path, copy: Path) -> None:
    copied, expected = copy.stat().st_size, source.stat().st_size
    if copied != expected:
        copy.unlink()
        raise CopyVerificationError(
            f"copying {source} to {copy.parent} gave {copied} bytes instead of {expected} (a "
            "failing disk?); the source is kept"
        )
    fsync_path(copy)


def _copy_tree_verified(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    try:
        _copy_tree(source, partial)
        for copied in sorted(partial.rglob("*")):
            if copied.is_file():
                _verify_and_sync(source / copied.relative_to(partial), copied)
            else:
                fsync_path(copied)
        fsync_path(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.rename(partial, target)


def _copy_tree(source: Path, target: Path) -> None:
    """Like `shutil.copytree`, but the first error is raised as it is: a full disk stays an
    OSError with its errno (copytree gathers them into one `shutil.Error` without it)."""
    target.mkdir()
    for item in sorted(source.rglob("*")):  # a folder sorts before what it holds
        copy = target / item.relative_to(source)
        if item.is_dir():
            copy.mkdir()
        else:
            shutil.copy2(item, copy)


def _tree_sizes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): path.stat().st_size
        for path in root.rglob("*")
        if path.is_file()
    }


def _delete_source_file(source: Path) -> None:
    source.unlink()
    fsync_path(source.parent)


def _delete_source_tree(source: Path) -> None:
    # Renamed first, in one step: a crash during the deletion leaves no half workspace behind
    # under the real name.
    deleting = source.with_name(f".{source.name}.deleting")
    os.rename(source, deleting)
    shutil.rmtree(deleting)


_FILE = _Kind(_same_file_contents, _copy_file_verified, _delete_source_file, "is another file")
_TREE = _Kind(
    lambda first, second: _tree_sizes(first) == _tree_sizes(second),
    _copy_tree_verified,
    _delete_source_tree,
    "holds other files",
)
