"""Synthetic badminton match clips, encoded for real with PyAV.

Used by `make demo`, the tests and the benchmarks: a court with lines, a wall of coloured
banners, and segments of known quality (black intro, blurred pan, empty court, people walking,
a rally of four players, an overexposed stretch), and what real footage has besides: a
passer-by walking right in front of the lens during a rally, a rally with a player at the
frame's right edge, a pause between rallies (partners standing together).

    python sample_clips.py DIR     # writes a few demo clips named by the café's convention
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

log = logging.getLogger(__name__)

SEGMENT_KINDS = (
    "black",
    "pan_blur",
    "empty",
    "walking",
    "rally",
    "overexposed",
    "passer_by",
    "rally_edge",
    "pause",
)
EDGE_PLAYER_X = 0.985  # where rally_edge's player stands: half of him out of the picture


@dataclass(frozen=True)
class Segment:
    kind: str
    seconds: float


DEFAULT_SEGMENTS = (
    Segment("black", 1.0),
    Segment("empty", 2.0),
    Segment("rally", 4.0),
    Segment("walking", 2.0),
    Segment("rally", 3.0),
    Segment("black", 1.0),
)


def _court(width: int, height: int) -> np.ndarray:
    """Background: banner wall on top, green floor with white court lines below."""
    image = np.zeros((height, width, 3), np.uint8)
    wall = int(height * 0.35)
    image[:wall] = (70, 60, 55)
    banner_colours = [(40, 40, 200), (200, 120, 30), (30, 180, 230), (160, 60, 160), (50, 160, 60)]
    banner_w = max(1, width // 8)
    for i, x in enumerate(range(0, width, banner_w)):
        top, bottom = int(wall * 0.35), int(wall * 0.75)
        cv2.rectangle(image, (x + 4, top), (x + banner_w - 4, bottom), banner_colours[i % 5], -1)
    image[wall:] = (60, 120, 40)
    line = max(2, width // 320)
    white = (235, 235, 235)
    left, right = int(width * 0.1), int(width * 0.9)
    top, bottom = wall + int(height * 0.05), height - int(height * 0.05)
    cv2.rectangle(image, (left, top), (right, bottom), white, line)
    cv2.line(image, (width // 2, top), (width // 2, bottom), white, line)
    for fraction in (0.3, 0.7):
        x = int(left + (right - left) * fraction)
        cv2.line(image, (x, top), (x, bottom), white, line)
    cv2.line(image, (width // 2, wall - int(height * 0.12)), (width // 2, top), (20, 20, 20), line)
    cv2.line(image, (left, (top + bottom) // 2), (right, (top + bottom) // 2), white, line)
    return image


def _draw_player(image: np.ndarray, x: float, y: float, colour: tuple[int, int, int]) -> None:
    height, width = image.shape[:2]
    scale = height / 720
    body_w, body_h = int(34 * scale), int(90 * scale)
    cx, cy = int(x * width), int(y * height)
    cv2.rectangle(image, (cx - body_w // 2, cy - body_h), (cx + body_w // 2, cy), colour, -1)
    cv2.circle(image, (cx, cy - body_h - int(14 * scale)), int(14 * scale), (140, 170, 210), -1)
    cv2.line(
        image,
        (cx, cy),
        (cx - body_w // 2, cy + int(40 * scale)),
        (30, 30, 30),
        max(2, int(8 * scale)),
    )
    cv2.line(
        image,
        (cx, cy),
        (cx + body_w // 2, cy + int(40 * scale)),
        (30, 30, 30),
        max(2, int(8 * scale)),
    )
    racket_end = (cx + int(40 * scale), cy - body_h - int(30 * scale))
    cv2.line(
        image,
        (cx + body_w // 2, cy - body_h // 2),
        racket_end,
        (20, 20, 20),
        max(1, int(3 * scale)),
    )
    cv2.circle(image, racket_end, int(12 * scale), (230, 230, 230), max(1, int(2 * scale)))


_RALLY_SHIRTS = ((30, 30, 220), (220, 140, 20), (20, 200, 240), (200, 40, 200))


def _rally(base: np.ndarray, t: float) -> np.ndarray:
    image = base.copy()
    for i, colour in enumerate(_RALLY_SHIRTS):
        side = -1 if i < 2 else 1
        x = 0.5 + side * (0.12 + 0.1 * (i % 2)) + 0.06 * np.sin(2.3 * t + i * 1.7)
        y = 0.62 + 0.22 * (i % 2) + 0.05 * np.cos(3.1 * t + i)
        _draw_player(image, x, y, colour)
    height, width = image.shape[:2]
    shuttle_x = int(width * (0.5 + 0.3 * np.sin(1.9 * t)))
    shuttle_y = int(height * (0.35 + 0.15 * abs(np.cos(1.9 * t))))
    cv2.circle(image, (shuttle_x, shuttle_y), max(2, height // 120), (255, 255, 255), -1)
    return image


def _passer_by(base: np.ndarray, t: float) -> np.ndarray:
    """The rally behind someone walking past right in front of the lens: a shoulder and a head
    taller than the picture, crossing it in about three seconds."""
    image = _rally(base, t)
    height, width = image.shape[:2]
    cx = int(width * (1.1 - 0.4 * (t % 3)))
    body_w = width // 4
    cv2.rectangle(
        image, (cx - body_w // 2, height // 3), (cx + body_w // 2, height), (200, 200, 205), -1
    )
    cv2.circle(image, (cx, height // 6), height // 5, (120, 150, 190), -1)
    return image


def _rally_edge(base: np.ndarray, t: float) -> np.ndarray:
    """A rally with a player at the right edge of the picture, half of him out of it."""
    image = _rally(base, t)
    _draw_player(image, EDGE_PLAYER_X, 0.86 + 0.03 * np.sin(2.0 * t), (40, 160, 40))
    return image


def _pause(base: np.ndarray, t: float) -> np.ndarray:
    """Between rallies: each pair stands together, side by side, talking."""
    image = base.copy()
    for i, colour in enumerate(_RALLY_SHIRTS):
        side = -1 if i < 2 else 1
        x = 0.5 + side * 0.2 + 0.025 * (i % 2) + 0.005 * np.sin(t + i)
        _draw_player(image, x, 0.75, colour)
    return image


def _walking(base: np.ndarray, t: float) -> np.ndarray:
    image = base.copy()
    _draw_player(image, 0.15 + 0.03 * t, 0.9, (90, 90, 90))
    return image


def _pan_blur(base: np.ndarray, t: float) -> np.ndarray:
    shift = int((t * 0.4 % 1.0) * base.shape[1])
    image = np.roll(_rally(base, t), shift, axis=1)
    kernel_w = max(9, base.shape[1] // 25)
    return cv2.blur(image, (kernel_w, 3))


def _overexposed(base: np.ndarray, t: float) -> np.ndarray:
    return cv2.convertScaleAbs(_rally(base, t), alpha=2.6, beta=140)


def render_frame(kind: str, base: np.ndarray, t: float) -> np.ndarray:
    """One BGR frame of a segment kind, `t` seconds into the clip."""
    if kind == "black":
        return np.full_like(base, 6)
    if kind == "empty":
        return base.copy()
    renderers = {
        "walking": _walking,
        "rally": _rally,
        "pan_blur": _pan_blur,
        "overexposed": _overexposed,
        "passer_by": _passer_by,
        "rally_edge": _rally_edge,
        "pause": _pause,
    }
    if kind not in renderers:
        raise ValueError(f"unknown segment kind {kind!r}; expected one of {SEGMENT_KINDS}")
    return renderers[kind](base, t)


def frames_for(
    segments: Sequence[Segment], fps: float, size: tuple[int, int]
) -> Iterator[np.ndarray]:
    base = _court(*size)
    frame_index = 0
    for segment in segments:
        for _ in range(round(segment.seconds * fps)):
            yield render_frame(segment.kind, base, frame_index / fps)
            frame_index += 1


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
