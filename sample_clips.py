"""Synthetic badminton match clips, encoded for real with PyAV.

Used by `make demo`, the tests and the benchmarks: the frames of `synthetic_frames` (the café's
court and segments of known quality, with what real footage has besides: a passer-by right in
front of the lens, a player at the frame's edge, a pause between rallies), encoded as a camera
would; and real camera frames played as a clip (`encode_stills`).

    python sample_clips.py DIR     # writes a few demo clips named by the café's convention
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from synthetic_frames import DEFAULT_SEGMENTS, Segment, frames_for

log = logging.getLogger(__name__)


def _grain_adder(size: tuple[int, int], sigma: float) -> Callable[[np.ndarray], np.ndarray]:
    """Adds Gaussian noise cheaply: a random window of one pre-drawn noise field per frame."""
    width, height = size
    margin = 64
    rng = np.random.default_rng(0)
    field = rng.normal(0, sigma, (height + margin, width + margin, 3))
    brighter = np.clip(field, 0, 255).astype(np.uint8)
    darker = np.clip(-field, 0, 255).astype(np.uint8)

    def add(image: np.ndarray) -> np.ndarray:
        x, y = rng.integers(0, margin, 2)
        window = np.s_[y : y + height, x : x + width]
        return cv2.subtract(cv2.add(image, brighter[window]), darker[window])

    return add


def encode_clip(
    path: Path,
    segments: Sequence[Segment] = DEFAULT_SEGMENTS,
    *,
    fps: int = 30,
    size: tuple[int, int] = (640, 360),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop_seconds: float = 2.0,
    rotation: int = 0,
    creation_time: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    variable_frame_rate: bool = False,
    preset: str = "ultrafast",
    grain: float = 0.0,
    bit_rate: int | None = None,
) -> Path:
    """Encode `segments` into a real video file; returns `path`.

    `rotation` stores a display-rotation flag (as phones do) without rotating the pixels;
    `tags` are written as the container's metadata, as cameras write theirs (e.g. Apple's
    `com.apple.quicktime.creationdate`, Matroska's `DATE`); `variable_frame_rate` spaces frame
    timestamps unevenly. `grain` adds sensor noise of that standard deviation (grey levels) and
    `bit_rate` (bits/s) replaces constant quality: together they give a camera's bitrate and
    decoding cost (clean drawings decode unrealistically fast).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # MP4 and MOV keep tags beyond the standard few only as QuickTime metadata keys
    quicktime = path.suffix.lower() in (".mov", ".mp4", ".m4v")
    muxer_options = {"movflags": "use_metadata_tags"} if tags and quicktime else {}
    container = av.open(str(path), mode="w", options=muxer_options)
    if creation_time is not None:
        container.metadata["creation_time"] = creation_time.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    container.metadata.update(tags or {})
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = pix_fmt
    stream.codec_context.gop_size = max(1, round(gop_seconds * fps))
    options = {"preset": preset}
    if codec == "libx264":
        options["x264-params"] = f"keyint={stream.codec_context.gop_size}:scenecut=0"
    elif codec == "libx265":
        options["x265-params"] = (
            f"keyint={stream.codec_context.gop_size}:scenecut=0:log-level=error"
        )
    stream.codec_context.options = options
    if bit_rate:
        stream.codec_context.bit_rate = bit_rate
    time_base = Fraction(1, fps * 100)
    stream.codec_context.time_base = time_base
    if rotation:
        stream.set_display_rotation(rotation)
    pts = 0
    add_grain = _grain_adder(size, grain) if grain else None
    for index, image in enumerate(frames_for(segments, fps, size)):
        if add_grain:
            image = add_grain(image)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = pts
        frame.time_base = time_base
        step = 100
        if variable_frame_rate:
            step = 60 if index % 3 else 180
        pts += step
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


# Each demo clip is a recording of its own: identical bytes under two names would be one video.
DEMO_CLIPS = {
    "md_NhozVinhvsKhanhzLeo.mp4": DEFAULT_SEGMENTS,
    "xd_KhanhzVyvsZezTram_Friendly Game.mp4": (*DEFAULT_SEGMENTS, Segment("empty", 1.0)),
    "ms_HuyvsViet_Tour Hà Nội 2024.mp4": (
        Segment("black", 1.0),
        Segment("pan_blur", 2.0),
        Segment("rally", 5.0),
        Segment("overexposed", 2.0),
        Segment("black", 1.0),
    ),
}


def encode_stills(path: Path, images: Sequence[np.ndarray], *, fps: int = 1) -> Path:
    """Encode pictures (BGR, one size) as a clip of `fps` frames a second, each a keyframe:
    real camera frames played as a video."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 1
        stream.codec_context.options = {"preset": "ultrafast", "x264-params": "keyint=1"}
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_demo_clips(directory: Path) -> list[Path]:
    """Write the demo clips into `directory`, keeping any that already exist."""
    written = []
    for name, segments in DEMO_CLIPS.items():
        path = Path(directory) / name
        if not path.exists():
            encode_clip(path, segments, size=(1280, 720))
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the demo match clips into a folder.")
    parser.add_argument("folder", type=Path, nargs="?", default=Path("demo/videos"))
    for clip in write_demo_clips(parser.parse_args().folder):
        print(clip)


if __name__ == "__main__":
    main()
