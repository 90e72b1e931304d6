"""Which files in INPUT_DIR may start, and which video content each one holds.

A file starts once it has settled: its size and modification time unchanged for INGEST_SETTLE
seconds, so a recording still being copied is never started half-way. Before anything starts,
its name must follow the café's convention and it must be a readable video. A video's identity
is its content, not its name: the fingerprint is the size plus a hash of the first and the last
MiB (cheap for a 4 GB file, and cached by path, size and modification time), so a renamed file
is the same video and a rematch recorded under yesterday's name is a new one.

`FolderTracker` remembers what each scan saw: a rescan of a large folder is one `stat` per file,
and each file is reported (started, still being copied, refused) once per content, not at every
scan.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from errors import NeedsAttentionError, PipelineError, RetryLaterError
from prepare.file_names import SUPPORTED_EXTENSIONS, ParsedName, parse_file_name
from prepare.match_text import matchup
from prepare.probe import probe_video
from workspace import recorded_fingerprint, workspace_dir

log = logging.getLogger(__name__)

MIB = 1024 * 1024
FINGERPRINT_HEX = 32


class SourceReplacedError(NeedsAttentionError):
    """The file at the video's path holds other content than the one its workflow started with."""


class SourceMissingError(NeedsAttentionError):
    """The video's file is no longer at its path (moved or renamed away)."""


class ChangedWhileReadError(RetryLaterError):
    """The file changed while its fingerprint was read: it is still being written."""


# -- identity -----------------------------------------------------------------------------------

_fingerprints: dict[tuple[str, int, int], str] = {}
_fingerprints_lock = threading.Lock()


def fingerprint(video: Path) -> str:
    """Size plus a hash of the first and last MiB (the whole file when it is smaller).

    A file that changed while it was read (still being written) has no fingerprint yet:
    `ChangedWhileReadError`, never a hash of bytes it held at no one moment."""
    path = os.path.abspath(video)
    before = os.stat(path)
    key = (path, before.st_size, before.st_mtime_ns)
    with _fingerprints_lock:
        known = _fingerprints.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256(str(before.st_size).encode() + b"\0")
    with open(path, "rb") as handle:
        digest.update(handle.read(MIB))
        if before.st_size > 2 * MIB:
            handle.seek(before.st_size - MIB)
        digest.update(handle.read())
    if _version(os.stat(path)) != _version(before):
        raise ChangedWhileReadError(f"{video}: it changed while it was read")
    value = digest.hexdigest()[:FINGERPRINT_HEX]
    with _fingerprints_lock:
        _fingerprints[key] = value
    return value


def _version(info: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is written to or replaced (ctime too: a write that keeps the size
    within the modification time's granularity)."""
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def require_same_source(
    video: Path, expected: str, *, gone_ok: bool = False, workspace: bool = True
) -> None:
    """Refuse to use `video` or (with `workspace`) its workspace unless they still belong to the
    content its workflow started with (`expected`, a fingerprint). `gone_ok`: a missing file is
    fine (a cleanup that already archived it). An empty `expected` (a workflow started before
    fingerprints existed) checks nothing."""
    if not expected:
        return
    if not video.is_file():
        if gone_ok:
            return
        raise SourceMissingError(
            f"{video}: the video is no longer there (moved or renamed?); put the same file back "
            "at that path, or cancel this video"
        )
    try:
        actual = fingerprint(video)
    except ChangedWhileReadError:
        raise SourceReplacedError(
            f"{video}: the file is being written to (it changed while it was read); nothing of "
            "it was used or published. Put the original recording back at that path, or cancel "
            "this video (the new file is a video of its own)"
        ) from None
    if actual != expected:
        raise SourceReplacedError(
            f"{video}: the file now holds another recording (content {actual[:6]}, this "
            f"video's is {expected[:6]}); nothing of it was used or published. Put the original "
            "recording back at that path, or cancel this video (the new file is a video of its "
            "own)"
        )
    recorded = recorded_fingerprint(video) if workspace else None
    if recorded is not None and recorded != expected:
        raise SourceReplacedError(
            f"{workspace_dir(video)}: the workspace now belongs to another recording named "
            f"{video.name} (content {recorded[:6]}); this video's files were set aside beside it. "
            "Cancel this video, or start it again once the other one is done"
        )


def summary_of(parsed: ParsedName) -> str:
    """`Nho/Vinh vs Khanh/Leo · Cafe Game`, what a person reads in the Web UI's list."""
    return f"{matchup(parsed.team1, parsed.team2)} · {parsed.tournament}"


@dataclass(frozen=True)
class IncomingVideo:
    """A file checked and ready to start: its content's fingerprint and a readable summary."""

    path: Path
    fingerprint: str
    summary: str


def examine(video: Path) -> IncomingVideo:
    """Check the file name, then that the file is a readable video; a `PipelineError` says
    what is wrong and how to fix it. The name comes first: it costs nothing."""
    parsed = parse_file_name(video.name)
    probe_video(video)
    return IncomingVideo(video, fingerprint(video), summary_of(parsed))


def refusal(video: Path, error: PipelineError) -> str:
    """The error's message without the leading path or name it repeats."""
    message = str(error)
    for prefix in (f"{video}: ", f"{video.name}: "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


# -- settling -----------------------------------------------------------------------------------


def is_video_name(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(SUPPORTED_EXTENSIONS)


def last_change(info: os.stat_result, now: float) -> float:
    """When the file last changed, by this machine's clock: its modification time, unless that
    lies in the future (a camera's clock set ahead, kept by the copy), then the time its inode
    last changed (`st_ctime`), which a copy cannot set."""
    return info.st_mtime if info.st_mtime <= now else info.st_ctime


def settle_left(changed: float, now: float, settle_seconds: float, seen_at: float = 0.0) -> float:
    """Seconds until a file last changed at `changed` (and seen changing at `seen_at`) has been
    left alone for `settle_seconds`; 0 when it has."""
    return max(0.0, settle_seconds - (now - max(changed, seen_at)))


def still_copying(settle_seconds: float, left: float | None) -> str:
    """Why a file waits; `left` None: it changed while it was being read."""
    when = "while it was read" if left is None else f"{settle_seconds - left:.0f} s ago"
    return (
        f"still being copied (it changed {when}; it starts once unchanged for "
        f"{settle_seconds:g} s, INGEST_SETTLE)"
    )


@dataclass
class Skipped:
    """A file that did not start: `refused` for bad input, else not ready yet."""

    path: Path
    reason: str
    refused: bool


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    changed_at: float = 0.0  # when a scan saw it change; 0 before any change was seen
    reported: bool = False  # its "still being copied" was reported
    handled: bool = False  # started, refused or found already known, for this content


@dataclass
class Scan:
    ready: list[Path] = field(default_factory=list)  # settled and not handled yet
    settling: list[Path] = field(default_factory=list)  # still changing
    newly_settling: list[Skipped] = field(default_factory=list)  # first seen still changing


class FolderTracker:
    """What the previous scans of one folder saw, file by file."""

    def __init__(self, settle_seconds: float, clock: Callable[[], float] = time.time):
        self.settle_seconds = settle_seconds
        self._clock = clock
        self._seen: dict[str, _Seen] = {}

    def scan(self, folder: Path) -> Scan:
        """One pass over `folder`: a `stat` per video file, no reading."""
        now = self._clock()
        result = Scan()
        present = set()
        with os.scandir(folder) as entries:
            for entry in entries:
                if not is_video_name(entry.name):
                    continue
                try:
                    info = entry.stat()
                except OSError:  # gone between the listing and the stat
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                present.add(entry.name)
                seen = self._observe(entry.name, info, now)
                if seen.handled:
                    continue
                path = folder / entry.name
                changed = last_change(info, now)
                left = settle_left(changed, now, self.settle_seconds, seen.changed_at)
                if left <= 0:
                    result.ready.append(path)
                    continue
                result.settling.append(path)
                if not seen.reported:
                    seen.reported = True
                    reason = still_copying(self.settle_seconds, left)
                    result.newly_settling.append(Skipped(path, reason, refused=False))
        for gone in self._seen.keys() - present:
            del self._seen[gone]
        result.ready.sort()
        return result

    def _observe(self, name: str, info: os.stat_result, now: float) -> _Seen:
        seen = self._seen.get(name)
        if seen is None:
            seen = self._seen[name] = _Seen(info.st_size, info.st_mtime_ns)
        elif (seen.size, seen.mtime_ns) != (info.st_size, info.st_mtime_ns):
            # a copy still going on was reported already; new content after a handled one is
            # reported anew
            reported = seen.reported and not seen.handled
            seen = _Seen(info.st_size, info.st_mtime_ns, changed_at=now, reported=reported)
            self._seen[name] = seen
        return seen

    def mark_handled(self, paths: Iterable[Path]) -> None:
        """These files are dealt with for their current content: a later scan skips them
        until they change."""
        for path in paths:
            seen = self._seen.get(path.name)
            if seen is not None:
                seen.handled = True


def still_being_copied(video: Path, settle_seconds: float) -> str | None:
    """For a one-off `start`: why `video` must wait (modified less than `settle_seconds` ago),
    or None when it may start."""
    now = time.time()
    left = settle_left(last_change(video.stat(), now), now, settle_seconds)
    return still_copying(settle_seconds, left) if left > 0 else None
