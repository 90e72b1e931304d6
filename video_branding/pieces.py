"""The work folder: the plan and the finished pieces of one branded copy.

    plan.json           what is being made (the request's digest, full pass or spans, encoder)
    piece-0003.mp4      a finished piece: frames re-encoded by one encoder from an IDR frame
    piece-0003.json     written last, after the piece took its name: the piece is finished
    .piece-0004.mp4.partial   the piece being encoded (discarded by the next run)

A run finds the plan made for the same request and goes on after its last finished piece; a
plan for another request (another source, other texts or settings) is discarded with its
pieces. Each piece keeps its frames' timestamps relative to its first frame, in the source's
time base, so no edit list shifts them.
"""

from __future__ import annotations

import shutil
from contextlib import suppress
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from video_branding.encoders import Encoder
from video_branding.source import SourceVideo
from workspace import atomic_write_json, read_json

PLAN_FILE = "plan.json"


@dataclass(frozen=True)
class Piece:
    index: int
    start_pts: int  # the source's timestamp of its first frame
    end_pts: int | None  # of the frame after its last (the next piece's first); None: the end
    frames: int
    last: bool  # nothing comes after it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class WorkFolder:
    def __init__(self, folder: Path, digest: str):
        self.folder = Path(folder)
        self.digest = digest
        plan = self._read(self.folder / PLAN_FILE)
        if plan is not None and plan.get("digest") != digest:
            self.clear()
            plan = None
        self.plan: dict[str, Any] | None = plan
        for partial in self.folder.glob(".piece-*.partial"):
            partial.unlink()

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            data = read_json(path)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save_plan(self, plan: dict[str, Any]) -> None:
        self.plan = {**plan, "digest": self.digest}
        atomic_write_json(self.folder / PLAN_FILE, self.plan)

    def piece_path(self, index: int) -> Path:
        return self.folder / f"piece-{index:04d}.mp4"

    def pieces(self) -> list[Piece]:
        """The finished pieces, by index (pieces encoded side by side finish in any order)."""
        found = []
        for path in sorted(self.folder.glob("piece-*.json")):
            record = self._read(path)
            if record is None:
                continue
            piece = Piece(**record)
            if (
                path.name == f"piece-{piece.index:04d}.json"
                and self.piece_path(piece.index).is_file()
            ):
                found.append(piece)
        return found

    def record(self, piece: Piece) -> None:
        atomic_write_json(self.folder / f"piece-{piece.index:04d}.json", piece.to_dict())

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PieceWriter:
    """Encodes frames (source timestamps) into one piece of the work folder."""

    def __init__(self, work: WorkFolder, index: int, encoder: Encoder, source: SourceVideo):
        self._work = work
        self._index = index
        self._source = source
        self.start_pts: int | None = None
        self.frames = 0
        work.folder.mkdir(parents=True, exist_ok=True)
        self._partial = work.folder / f".piece-{index:04d}.mp4.partial"
        self._container = av.open(str(self._partial), mode="w", format="mp4")
        self._stream = self._container.add_stream(encoder.name, rate=source.frame_rate)
        encoder.open_for(self._stream.codec_context, source)
        self._stream.time_base = source.time_base

    def add(self, frame: av.VideoFrame, pts: int) -> None:
        if self.start_pts is None:
            self.start_pts = pts
        frame.pts = pts - self.start_pts
        frame.time_base = self._source.time_base
        frame.pict_type = av.video.frame.PictureType.NONE
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def finish(self, end_pts: int | None, last: bool) -> Piece:
        self._container.mux(self._stream.encode(None))
        self._container.close()
        self._partial.rename(self._work.piece_path(self._index))
        piece = Piece(self._index, self.start_pts or 0, end_pts, self.frames, last)
        self._work.record(piece)
        return piece

    def discard(self) -> None:
        # a full disk while closing: the partial goes anyway
        with suppress(av.error.FFmpegError, OSError):
            self._container.close()
        self._partial.unlink(missing_ok=True)


def read_piece(work: WorkFolder, piece: Piece) -> tuple[av.container.InputContainer, Fraction]:
    """The piece opened for reading, and its video stream's time base."""
    container = av.open(str(work.piece_path(piece.index)))
    return container, container.streams.video[0].time_base
