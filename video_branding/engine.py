"""The branding engine: a source video in, its branded copy out, made in resumable pieces.

With titles only, the keyframe intervals the titles touch are re-encoded (`spans`) and every
other packet of the source is copied as it is (`assemble.splice`), while the spans' pieces
(of SPAN_PIECE_SECONDS or more) encode on two threads: the copy runs behind them. Where that
cannot be done soundly (not H.264, an interlaced or open-GOP video, keyframes too far
apart...) one line says why and the titles take a full pass, as `burn` (the logo in every
frame) always does: every frame re-encoded by the fastest encoder here, in pieces of about
20 s (`render`).

The work folder keeps the plan and the finished pieces (`pieces`): run again after a crash or
a kill, the engine goes on after the last finished piece. The copy is written under a hidden
temporary name beside the target, then renamed; the source is only read. A record beside the
target (`<target>.json`) says what it was made from: asked again for the same, the engine
returns at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from thumbnail_enhancement.layout import MatchText
from thumbnail_enhancement.renderer import Logo
from video_branding.assemble import concatenate, splice
from video_branding.cards import intro_card, logo_card, outro_card
from video_branding.encoders import Encoder, full_pass_encoder, span_encoder
from video_branding.errors import disk_full, is_disk_full
from video_branding.h264 import Avcc, BitstreamError
from video_branding.overlay import Overlay, Showing
from video_branding.pieces import Piece, WorkFolder
from video_branding.render import Chunk, chunks_of, encode_chunk, encode_span
from video_branding.source import SourceVideo, probe
from video_branding.spans import NoCleanCutError, Span, intro_spans, outro_spans
from workspace import atomic_write_json, fsync_path, read_json

log = logging.getLogger(__name__)

ENGINE_VERSION = 1  # raise it when the output changes: older copies and plans are not reused
# A span is one piece: reaching further than this past its title's edge for a clean cut, it
# would no longer be a few seconds of work, nor resumable in parts; the full pass is.
MAX_SPAN_REACH_SECONDS = 60.0
# The titles' intervals are re-encoded in pieces of at least this (cut at clean keyframes):
# two threads encode them at once, and the copy goes on behind the first.
SPAN_PIECE_SECONDS = 4.0
COPIED_PER_UNIT = 50  # copying this many packets is reported like encoding one frame

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Branding:
    """What goes on the video."""

    match: MatchText | None  # the intro's words; None: no titles
    outro_text: str | None  # None: no outro
    title_seconds: float
    burn_logo: bool
    logo: Logo | None

    def describe(self) -> dict[str, Any]:
        return {
            "match": asdict(self.match) if self.match else None,
            "outro": self.outro_text,
            "seconds": self.title_seconds,
            "burn": self.burn_logo,
            "logo": self.logo.digest if self.logo else None,
        }


@dataclass(frozen=True)
class BrandingResult:
    path: Path
    method: str  # "spliced": only the titles' spans re-encoded; "full": every frame
    reason: str | None  # why titles took a full pass
    encoder: str
    reencoded_frames: int
    resumed_pieces: int  # pieces a run before this one had finished

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def brand_file(
    source_path: Path,
    target: Path,
    work_dir: Path,
    branding: Branding,
    progress: Progress | None = None,
) -> BrandingResult:
    """Write `target`, the branded copy of `source_path`, through pieces kept in `work_dir`."""
    source_path, target = Path(source_path), Path(target)
    try:
        return _brand(source_path, target, Path(work_dir), branding, progress or _quiet)
    except OSError as error:
        if is_disk_full(error):
            raise disk_full(error, target.parent) from None
        raise


def _quiet(done: int, total: int) -> None:
    """No one to tell."""


def _record_path(target: Path) -> Path:
    return target.with_name(f"{target.name}.json")


def _brand(
    source_path: Path, target: Path, work_dir: Path, branding: Branding, progress: Progress
) -> BrandingResult:
    source = probe(source_path)
    digest = _digest(source_path, target, branding)
    made = _already_made(target, digest)
    if made is not None:
        log.info("%s: branded copy already made: %s", source_path.name, target)
        return made
    work = WorkFolder(work_dir, digest)
    showings = _showings(source, branding)
    plan = work.plan or _plan(source, branding)
    work.save_plan(plan)
    encoder = Encoder(
        plan["encoder"]["name"],
        plan["encoder"]["pix_fmt"],
        tuple(tuple(pair) for pair in plan["encoder"]["settings"]),
        plan["encoder"]["bit_rate"],
    )
    partial = target.with_name(f".{target.name}.partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    resumed = len(work.pieces())
    try:
        if plan["method"] == "spliced":
            spans = [Span.from_dict(span) for span in plan["spans"]]
            reencoded = _spliced(source, spans, encoder, showings, work, partial, progress)
        else:
            chunks = [Chunk(*chunk) for chunk in plan["chunks"]]
            reencoded = _full(source, chunks, encoder, showings, work, partial, progress)
        os.replace(partial, target)
        fsync_path(target.parent)
    finally:
        partial.unlink(missing_ok=True)
    result = BrandingResult(
        target, plan["method"], plan["reason"], encoder.name, reencoded, resumed
    )
    atomic_write_json(_record_path(target), {"digest": digest, **result.to_dict()})
    work.clear()
    log.info(
        "%s: branded copy %s (%s, %d frames re-encoded with %s)",
        source_path.name,
        target,
        result.method,
        reencoded,
        encoder.name,
    )
    return result


def _digest(source_path: Path, target: Path, branding: Branding) -> str:
    """What the copy is made from: a source written again (its size or modification time
    changed) or other words make another copy, from new pieces."""
    facts = source_path.stat()
    made_from = {
        "version": ENGINE_VERSION,
        "source": [facts.st_size, facts.st_mtime_ns],
        "target": target.name,
        "branding": branding.describe(),
    }
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()


def _already_made(target: Path, digest: str) -> BrandingResult | None:
    try:
        record = read_json(_record_path(target))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("digest") != digest or not target.is_file():
        return None
    return BrandingResult(
        target,
        record["method"],
        record["reason"],
        record["encoder"],
        record["reencoded_frames"],
        record["resumed_pieces"],
    )


def _showings(source: SourceVideo, branding: Branding) -> list[Showing]:
    layout = source.layout
    width, height = layout.display_size
    seconds, duration = branding.title_seconds, source.duration
    fade = min(0.5, seconds / 4)
    showings = []
    if branding.match is not None:
        card = intro_card(branding.match, width, height, branding.logo)
        showings.append(Showing(Overlay(card, layout), 0.0, min(seconds, duration), fade))
    if branding.match is not None and branding.outro_text and duration > 2 * seconds:
        tournament = branding.match.tournament
        card = outro_card(branding.outro_text, tournament, width, height, branding.logo)
        showings.append(Showing(Overlay(card, layout), duration - seconds, duration, fade))
    if branding.burn_logo and branding.logo is not None:
        card = logo_card(branding.logo, width, height)
        showings.append(Showing(Overlay(card, layout), 0.0, math.inf, 0.0))
    return showings


def _plan(source: SourceVideo, branding: Branding) -> dict[str, Any]:
    if not branding.burn_logo:
        spliced = _spliced_plan(source, branding)
        if isinstance(spliced, dict):
            return spliced
        log.warning(
            "%s: the titles take a full re-encode (minutes, not seconds): %s",
            source.path.name,
            spliced,
        )
        reason: str | None = spliced
    else:
        reason = None
    encoder = full_pass_encoder(source.layout, source.bit_rate)
    chunks = [[chunk.seek, chunk.position] for chunk in chunks_of(source)]
    return {"method": "full", "reason": reason, "encoder": _encoder_dict(encoder), "chunks": chunks}


def _encoder_dict(encoder: Encoder) -> dict[str, Any]:
    return asdict(encoder)


def _spliced_plan(source: SourceVideo, branding: Branding) -> dict[str, Any] | str:
    """The spans to re-encode and their encoder, or why the source cannot be spliced."""
    if source.codec == "hevc":
        return (
            "it is HEVC (H.265): libx265 cannot number its parameter sets apart from the "
            "source's, so re-encoded frames cannot sit between the copied ones"
        )
    if source.codec != "h264":
        return f"it is {source.codec}: only H.264 video can be re-encoded in part"
    try:
        avcc = Avcc.parse(source.extradata or b"")
    except BitstreamError:
        return "its H.264 parameter sets are not stored in an avcC record"
    choice = span_encoder(source, avcc)
    if choice.encoder is None:
        return str(choice.reason)
    seconds = branding.title_seconds
    intro_end = source.pts_at(seconds)
    reach = source.pts_at(MAX_SPAN_REACH_SECONDS) - source.start_pts
    length = source.pts_at(SPAN_PIECE_SECONDS) - source.start_pts
    try:
        spans = intro_spans(source, avcc, intro_end, intro_end + reach, length)
        if branding.outro_text and source.duration > 2 * seconds:
            outro_start = source.pts_at(source.duration - seconds)
            outro = outro_spans(source, avcc, outro_start, outro_start - reach, length)
            if outro[0].start_pts < (spans[-1].end_pts or source.end_pts):
                return (
                    "its keyframes are too far apart for a video this short: the keyframe "
                    "intervals of the intro and the outro overlap"
                )
            spans += outro
    except NoCleanCutError as error:
        return str(error)
    if source.muxer == "matroska" and any(span.reordered for span in spans):
        return (
            "it is Matroska with B-frames: Matroska stores no decode timestamps, and players "
            "would guess them wrong after re-encoded frames without B-frames"
        )
    return {
        "method": "spliced",
        "reason": None,
        "encoder": _encoder_dict(choice.encoder),
        "spans": [span.to_dict() for span in spans],
    }


class _Reporter:
    """Progress from several threads, reported from the caller's (where it may raise)."""

    def __init__(self, progress: Progress, total: int):
        self._progress = progress
        self._lock = threading.Lock()
        self.total = max(1, total)
        self.done = 0

    def add(self, units: int) -> None:
        with self._lock:
            self.done = min(self.total, self.done + units)

    def report(self) -> None:
        self._progress(self.done, self.total)


class _Stopped(Exception):
    """The caller stopped (an error or a cancellation in its thread)."""


EncodeOne = Callable[[int, Callable[[int], None]], Piece]


def _in_pieces(
    count: int,
    encode: EncodeOne,
    finished: dict[int, Piece],
    workers: int,
    reporter: _Reporter,
    write: Callable[[Callable[[int], Piece]], None],
) -> None:
    """Encode the pieces not `finished` on `workers` threads, in order, while `write` (on the
    caller's thread) takes each piece as soon as it is done."""
    ready = {index: threading.Event() for index in range(count)}
    for index in finished:
        ready[index].set()
    waiting = [index for index in range(count) if index not in finished]
    lock = threading.Lock()
    failure: list[BaseException] = []
    stop = threading.Event()

    def encoded(frames: int) -> None:
        if stop.is_set():
            raise _Stopped
        reporter.add(frames)

    def work() -> None:
        while True:
            with lock:
                if not waiting or failure:
                    return
                index = waiting.pop(0)
            try:
                finished[index] = encode(index, encoded)
            except _Stopped:
                return
            except BaseException as error:  # handed to the caller's thread, which raises it
                failure.append(error)
                for event in ready.values():
                    event.set()
                return
            ready[index].set()

    def piece_of(index: int) -> Piece:
        while not ready[index].wait(0.5):
            reporter.report()
        if failure:
            raise failure[0]
        reporter.report()
        return finished[index]

    threads = [threading.Thread(target=work, name=f"branding-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    try:
        write(piece_of)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if failure:
        raise failure[0]


def _spliced(
    source: SourceVideo,
    spans: list[Span],
    encoder: Encoder,
    showings: list[Showing],
    work: WorkFolder,
    partial: Path,
    progress: Progress,
) -> int:
    finished = {piece.index: piece for piece in work.pieces()}
    to_encode = sum(len(span.frames) for index, span in enumerate(spans) if index not in finished)
    total_frames = round(source.duration * float(source.frame_rate))
    reporter = _Reporter(progress, to_encode + total_frames // COPIED_PER_UNIT)
    reporter.report()
    copied_packets = 0

    def copied(packets: int) -> None:
        nonlocal copied_packets
        before = copied_packets // COPIED_PER_UNIT
        copied_packets += packets
        reporter.add(copied_packets // COPIED_PER_UNIT - before)
        reporter.report()

    def encode(index: int, encoded: Callable[[int], None]) -> Piece:
        return encode_span(source, spans[index], index, encoder, showings, work, encoded)

    def write(piece_of: Callable[[int], Piece]) -> None:
        avcc = Avcc.parse(source.extradata or b"")
        splice(source, spans, piece_of, work, avcc, partial, copied)

    _in_pieces(len(spans), encode, finished, _workers(encoder), reporter, write)
    progress(reporter.total, reporter.total)
    return sum(len(span.frames) for span in spans)


def _full(
    source: SourceVideo,
    chunks: list[Chunk],
    encoder: Encoder,
    showings: list[Showing],
    work: WorkFolder,
    partial: Path,
    progress: Progress,
) -> int:
    finished = {piece.index: piece for piece in work.pieces()}
    total_frames = max(1, round(source.duration * float(source.frame_rate)))
    reporter = _Reporter(progress, total_frames)
    reporter.add(sum(piece.frames for piece in finished.values()))
    reporter.report()

    def encode(index: int, encoded: Callable[[int], None]) -> Piece:
        return encode_chunk(source, chunks, index, encoder, showings, work, encoded)

    def write(piece_of: Callable[[int], Piece]) -> None:
        concatenate(source, len(chunks), piece_of, work, partial)

    _in_pieces(len(chunks), encode, finished, _workers(encoder), reporter, write)
    progress(reporter.total, reporter.total)
    return sum(piece.frames for piece in finished.values())


def _workers(encoder: Encoder) -> int:
    """libx264 keeps about one and a half cores busy: two chunks at once use two fully.
    Hardware encoders take one chunk at a time."""
    if encoder.name != "libx264":
        return 1
    return 2 if (os.cpu_count() or 1) >= 2 else 1
