"""Open and probe a match video: each bad input raises its own error naming the file, what is
wrong and how to fix it (so ranking, which decodes the same file, gives the same messages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av

from errors import PipelineError
from prepare.file_names import SUPPORTED_EXTENSIONS

# Containers whose header we recognise: such a file that FFmpeg cannot open was cut off.
_CONTAINER_SIGNATURES = (
    (4, b"ftyp"),
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"wide"),
    (0, b"\x1aE\xdf\xa3"),
)


class VideoError(PipelineError):
    """A video file that cannot be used as it is."""


class EmptyVideoError(VideoError):
    pass


class NotAVideoError(VideoError):
    pass


class TruncatedVideoError(VideoError):
    pass


class NoVideoStreamError(VideoError):
    pass


class UnreadableVideoError(VideoError):
    pass


class UnsupportedExtensionError(VideoError):
    pass


def find_videos(directory: Path) -> list[Path]:
    """The match videos directly in `directory`, by name; hidden files are ignored."""
    return sorted(
        path
        for path in Path(directory).iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() in SUPPORTED_EXTENSIONS
    )


@dataclass(frozen=True)
class VideoInfo:
    duration_seconds: float
    fps: float
    width: int
    height: int
    display_width: int
    display_height: int
    rotation: int
    codec: str
    pix_fmt: str
    bit_depth: int
    creation_time: str | None  # ISO; without an offset for a bare date (the café's day)


def _looks_like_a_container(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(16)
    return any(head[offset : offset + len(sig)] == sig for offset, sig in _CONTAINER_SIGNATURES)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise NotAVideoError(f"{path}: the file does not exist; check the path.")
    try:
        with path.open("rb"):
            pass
    except PermissionError:
        raise UnreadableVideoError(
            f"{path}: permission denied; let this user read it (e.g. chmod a+r).",
        ) from None
    if path.stat().st_size == 0:
        raise EmptyVideoError(
            f"{path}: the file is empty (0 bytes); copy the recording again from the camera."
        )


def _truncated(path: Path) -> TruncatedVideoError:
    return TruncatedVideoError(
        f"{path}: the recording looks cut off (missing index); "
        "re-export it or copy it again from the camera."
    )


def open_video(video_path: Path) -> av.container.InputContainer:
    """Open `video_path` after checking it is a readable video with a video stream; the caller
    closes it. Each bad input raises its own error with the file, the problem and the fix."""
    path = Path(video_path)
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise UnsupportedExtensionError(
            f"{path}: {path.suffix or 'no extension'} is not supported; use one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)} (e.g. re-export as .mp4)."
        )
    _check_readable(path)
    try:
        container = av.open(str(path))
    except av.error.PermissionError:
        raise UnreadableVideoError(
            f"{path}: permission denied; let this user read it (e.g. chmod a+r)."
        ) from None
    except (av.error.FFmpegError, UnicodeDecodeError):
        if _looks_like_a_container(path):
            raise _truncated(path) from None
        raise NotAVideoError(
            f"{path}: not a video file FFmpeg can read; check it is the camera's recording."
        ) from None
    if container.format.name.endswith("_pipe"):  # FFmpeg's still-image readers: png_pipe, ...
        container.close()
        raise NotAVideoError(
            f"{path}: is a still image, not a video; use the camera's recording instead."
        )
    if not container.streams.video:
        container.close()
        raise NoVideoStreamError(
            f"{path}: has no video stream (audio only?); export the recording with its video."
        )
    return container


def probe_video(video_path: Path) -> VideoInfo:
    """Validate that `video_path` is a readable, decodable video and read its properties."""
    with open_video(video_path) as container:
        stream = container.streams.video[0]
        try:
            first = next(container.decode(stream))
        except (av.error.FFmpegError, StopIteration):
            raise _truncated(Path(video_path)) from None
        return _video_info(container, stream, first)


def duration_seconds(container: av.container.InputContainer) -> float:
    """The video's length as the container (else its video stream) states it; 0 if unknown."""
    stream = container.streams.video[0]
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _video_info(container: Any, stream: Any, first: av.VideoFrame) -> VideoInfo:
    duration = duration_seconds(container)
    rotation = round(first.rotation or 0) % 360
    width, height = stream.codec_context.width, stream.codec_context.height
    display = (height, width) if rotation in (90, 270) else (width, height)
    pix_fmt = stream.codec_context.pix_fmt or ""
    depth = 10 if "10" in pix_fmt else 12 if "12" in pix_fmt else 8
    rate = stream.average_rate or stream.guessed_rate
    recorded = _recording_time(container.metadata, stream.metadata)
    return VideoInfo(
        duration_seconds=round(duration, 3),
        fps=round(float(rate), 3) if rate else 0.0,
        width=width,
        height=height,
        display_width=display[0],
        display_height=display[1],
        rotation=rotation,
        codec=stream.codec_context.name,
        pix_fmt=pix_fmt,
        bit_depth=depth,
        creation_time=recorded.isoformat() if recorded else None,
    )


# Where containers keep the recording's time, most telling first: Apple's tag carries the
# phone's own time zone; MP4/MOV `creation_time` (the file's, else the video track's) and
# Matroska's DATE tag are UTC.
_RECORDING_TIME_TAGS = ("com.apple.quicktime.creationdate", "creation_time", "DATE")


def _recording_time(*tag_sets: dict[str, str]) -> datetime | None:
    """The recording's time from container and stream tags, or None when none holds a time."""
    for name in _RECORDING_TIME_TAGS:
        for tags in tag_sets:
            stamp = _tag_time(tags.get(name, ""))
            if stamp is not None:
                return stamp
    return None


def _tag_time(text: str) -> datetime | None:
    """A tag's date and time; without a zone it is UTC, and a bare date has no zone: it is the
    café's day, placed in the café's time zone by whoever reads `VideoInfo.creation_time`."""
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if stamp.tzinfo is not None or len(text.strip()) == len("2024-12-25"):
        return stamp
    return stamp.replace(tzinfo=UTC)
