"""Where each video's intermediate files live, and crash-safe file writes.

A video's workspace is `WORKSPACE_DIR/<file name with extension>/`, so `a.mov` and `a.mp4` never
share one. It holds `metadata.json`, `candidates/` and `candidates.json`, `selected.jpg` and
`selection.json`, `thumbnail.jpg`, `upload.json` (and the private `upload_session.json`),
`source.json`: the fingerprint of the content it was made for (`claim_workspace`), and the
branded copy of the video (`branded.<ext>` with its record `branded.<ext>.json`, made in
pieces in `branding/`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from config import get_settings

log = logging.getLogger(__name__)

METADATA_FILE = "metadata.json"
CANDIDATES_DIR = "candidates"
CANDIDATES_FILE = "candidates.json"
SELECTED_IMAGE = "selected.jpg"
SELECTION_FILE = "selection.json"
THUMBNAIL_FILE = "thumbnail.jpg"
UPLOAD_FILE = "upload.json"
UPLOAD_SESSION_FILE = "upload_session.json"
SOURCE_FILE = "source.json"
BRANDED_VIDEO_STEM = "branded"
BRANDING_WORK_DIR = "branding"


def workspace_dir(video_path: Path) -> Path:
    """The video's workspace directory (not created)."""
    return get_settings().workspace_dir / Path(video_path).name


def ensure_workspace(video_path: Path) -> Path:
    directory = workspace_dir(video_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def recorded_fingerprint(video_path: Path, workspace: Path | None = None) -> str | None:
    """The fingerprint of the content the workspace (`workspace` when it is not the video's
    own, e.g. archived) was made for; None when none is recorded (a workspace of the batch CLI,
    or of an earlier version)."""
    path = (workspace or workspace_dir(video_path)) / SOURCE_FILE
    try:
        return str(read_json(path)["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def claim_workspace(video_path: Path, fingerprint: str) -> Path:
    """The video's workspace, for the content `fingerprint`.

    A workspace of other content under the same file name (yesterday's match, or one whose
    content is unknown but that recorded an upload) is set aside as
    `<name>.replaced-<its fingerprint>`, never deleted: it may record a published video, and its
    files must not pass for this content's.
    """
    directory = workspace_dir(video_path)
    recorded = recorded_fingerprint(video_path)
    if recorded == fingerprint:
        return directory
    if directory.is_dir() and (recorded is not None or (directory / UPLOAD_FILE).exists()):
        aside = _free_name(directory, f".replaced-{(recorded or 'unknown')[:6]}")
        os.rename(directory, aside)
        log.warning("%s: the workspace of other content was set aside as %s", directory, aside)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_json(directory / SOURCE_FILE, {"fingerprint": fingerprint})
    return directory


def _free_name(directory: Path, suffix: str) -> Path:
    for number in itertools.count(1):
        candidate = directory.with_name(
            directory.name + suffix + ("" if number == 1 else f"-{number}")
        )
        if not candidate.exists():
            return candidate
    raise AssertionError("unreachable")


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write to a temporary file beside `path`, fsync, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def fsync_path(path: Path) -> None:
    """Flush a file's data, or a directory's entries, to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write_text(path: Path, text: str, mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def atomic_write_json(path: Path, data: Any, mode: int | None = None) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", mode=mode)


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
