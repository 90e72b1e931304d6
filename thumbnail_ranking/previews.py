"""Small JPEG previews of the candidates, for a chooser on a machine without the worker's disk.

Previews travel through Temporal, so each is at most PREVIEW_MAX_BYTES (nine of them stay under
the 400 KB a video's history may grow by); the full-size candidate stays on its host. Mind the
payload's encoding: Temporal's default converter stores a top-level `bytes` value as is, but
`bytes` inside a dataclass or a list as a JSON array of numbers (about 3.6 times the size), and
base64 text is 4/3 of it; `max_bytes` sets a smaller budget for such a carrier.

A preview's long side is 960 px (the chooser's large picture on a 1080p screen) when that fits
at quality 60 or better; otherwise 800 px, again from quality 90 down to 60; otherwise 640 px
(PREVIEW_MIN_LONG_SIDE) from quality 90 down to 20. A source smaller than a size is never
enlarged: it is used at its own size instead, the smallest step included. Only pixel-level
noise (no camera frame measured comes near) is still too big then: the 640 px image is smoothed,
ever more, until it fits. Clean 1080p frames keep 960 px at quality 90 (about 33 KB); frames
with heavy sensor grain drop to 800 or 640 px (see tests/test_previews.py).

The same input gives the same bytes (with the same OpenCV build): no randomness, no metadata.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from errors import PipelineError, Remedy

PREVIEW_MAX_BYTES = 40_000
SMALLEST_BUDGET = 20_000  # the worst images tried fit in it (see the end of preview_jpeg)
PREVIEW_MIN_LONG_SIDE = 640
LONG_SIDES = (960, 800, PREVIEW_MIN_LONG_SIDE)  # tried in turn, largest first
QUALITIES = range(90, 59, -5)  # at the larger sizes: below 60 a smaller image looks better
FLOOR_QUALITIES = range(90, 19, -5)  # at the smallest size
SMOOTHING_SIGMAS = (1, 2, 4, 8)  # at sigma 8 no 8x8 block keeps detail
SMOOTHED_QUALITY = 50
_REDUCED_READ = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


class CandidateImageUnreadableError(PipelineError):
    """A candidate's JPEG is missing or is not an image."""


def preview_jpeg(image: Path | str | np.ndarray, *, max_bytes: int = PREVIEW_MAX_BYTES) -> bytes:
    """A JPEG preview of a candidate: at most `max_bytes`, upright, long side at least
    PREVIEW_MIN_LONG_SIDE (or the source's own, when smaller).

    `image` is the candidate's full-size JPEG (its EXIF orientation is applied) or an upright
    BGR image. Raises CandidateImageUnreadableError when the file is missing or not an image.
    """
    if max_bytes < SMALLEST_BUDGET:
        raise ValueError(f"a preview needs a budget of at least {SMALLEST_BUDGET} bytes")
    frame = _as_bgr(image) if isinstance(image, np.ndarray) else _read(Path(image))
    for encoded in _encodings(frame):
        if len(encoded) <= max_bytes:
            return encoded
    # not met: smoothed with sigma 8, the worst 640x640 patterns tried (pixel noise, random flat
    # 8x8 blocks) are under 20 KB
    raise RuntimeError(f"no preview of a {frame.shape[1]}x{frame.shape[0]} image fits")


def _unreadable(path: Path) -> CandidateImageUnreadableError:
    return CandidateImageUnreadableError(
        f"{path}: candidate image is missing or unreadable; the candidates must be made again",
        Remedy.RANK,
    )


def _read(path: Path) -> np.ndarray:
    """The JPEG decoded upright, reduced in the decoder (fast) as far as its long side stays
    at least the largest preview's."""
    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as probe:
            long_side = max(probe.size)
        factor = max(f for f in _REDUCED_READ if f == 1 or long_side / f >= LONG_SIDES[0])
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED_READ[factor])
    except (OSError, cv2.error):
        raise _unreadable(path) from None
    if decoded is None:
        raise _unreadable(path)
    return decoded


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image


def _long_sides(source_long_side: int) -> list[int]:
    """The sizes to try, largest first; none larger than the source."""
    return list(dict.fromkeys(min(side, source_long_side) for side in LONG_SIDES))


def _scaled(frame: np.ndarray, long_side: int) -> np.ndarray:
    height, width = frame.shape[:2]
    if max(height, width) == long_side:
        return frame
    factor = long_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _encode(image: np.ndarray, quality: int) -> bytes:
    parameters = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
    ok, data = cv2.imencode(".jpg", image, parameters)
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return data.tobytes()


def _encodings(frame: np.ndarray) -> Iterator[bytes]:
    """Encodings from the best-looking down, each smaller in size or quality."""
    sides = _long_sides(max(frame.shape[:2]))
    for side in sides:
        qualities = FLOOR_QUALITIES if side == sides[-1] else QUALITIES
        scaled = _scaled(frame, side)
        for quality in qualities:
            yield _encode(scaled, quality)
    for sigma in SMOOTHING_SIGMAS:
        yield _encode(cv2.GaussianBlur(scaled, (0, 0), sigma), SMOOTHED_QUALITY)
