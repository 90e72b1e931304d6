"""What the branding needs to know of a source video: its streams, timeline and pixels."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from prepare.probe import open_video
from video_branding.errors import UnsupportedVideoError
from video_branding.overlay import PLANAR_FORMATS, FrameLayout, layout_of

# file extension -> the muxer that writes the branded copy in the same container
MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


@dataclass(frozen=True)
class SourceVideo:
    path: Path
    muxer: str
    codec: str
    profile: str | None
    time_base: Fraction
    start_pts: int  # the first frame's
    end_pts: int  # just after the last frame
    frame_rate: Fraction
    layout: FrameLayout
    extradata: bytes | None
    bit_rate: int
    has_audio: bool
    interlaced: bool
    sample_aspect_ratio: Fraction | None

    def seconds(self, pts: int) -> float:
        """Where `pts` lies on the video's timeline (its first frame at 0)."""
        return float((pts - self.start_pts) * self.time_base)

    def pts_at(self, seconds: float) -> int:
        return self.start_pts + round(Fraction(seconds).limit_denominator(10**6) / self.time_base)

    @property
    def duration(self) -> float:
        return self.seconds(self.end_pts)


def probe(path: Path) -> SourceVideo:
    """The source's facts; a file that is not a usable video gets the prepare stage's errors."""
    with open_video(path) as container:
        stream = container.streams.video[0]
        try:
            first = next(container.decode(stream))
        except (av.error.FFmpegError, StopIteration):
            raise UnsupportedVideoError(
                f"{path}: its first frame cannot be decoded; re-export the recording"
            ) from None
        layout = layout_of(first)
        if layout.pix_fmt not in PLANAR_FORMATS:
            raise UnsupportedVideoError(
                f"{path}: its pixels are stored as {layout.pix_fmt}, which the branding cannot "
                "draw on; re-export it as 8- or 10-bit YUV (e.g. H.264 yuv420p), or set "
                "VIDEO_TITLES=off and VIDEO_WATERMARK=off to publish it unbranded"
            )
        time_base = stream.time_base
        start = stream.start_time if stream.start_time is not None else first.pts or 0
        end = _end_pts(container, stream, start)
        rate = stream.average_rate or stream.guessed_rate or Fraction(30)
        return SourceVideo(
            path=Path(path),
            muxer=MUXERS.get(Path(path).suffix.lower(), "mp4"),
            codec=stream.codec_context.name,
            profile=stream.codec_context.profile,
            time_base=time_base,
            start_pts=start,
            end_pts=end,
            frame_rate=Fraction(rate),
            layout=layout,
            extradata=stream.codec_context.extradata,
            bit_rate=stream.bit_rate or container.bit_rate or 0,
            has_audio=bool(container.streams.audio),
            interlaced=bool(first.interlaced_frame),
            sample_aspect_ratio=stream.codec_context.sample_aspect_ratio,
        )


def _end_pts(container: av.container.InputContainer, stream: av.VideoStream, start: int) -> int:
    if stream.duration:
        return start + stream.duration
    if container.duration:
        return start + round(Fraction(container.duration, av.time_base) / stream.time_base)
    raise UnsupportedVideoError(
        f"{container.name}: the file does not say how long it is; re-export it (remux it with "
        "ffmpeg -c copy) so that it does"
    )
