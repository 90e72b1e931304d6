"""Decoding the candidates' pictures, from a path, from JPEG bytes, or already decoded."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from chooser_window.candidate import SelectableCandidate
from errors import PipelineError, Remedy

_REDUCED_READ = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


class CandidateImageError(PipelineError):
    """A candidate's JPEG is missing or unreadable."""


def unreadable_file(path: Path) -> CandidateImageError:
    return CandidateImageError(
        f"{path}: candidate image is missing or unreadable; the candidates must be made again",
        Remedy.RANK,
    )


def _undecodable_bytes(candidate: SelectableCandidate) -> CandidateImageError:
    return CandidateImageError(
        f"candidate {candidate.id} (rank {candidate.rank}): its image is not a readable JPEG; "
        "the candidates must be made again",
        Remedy.RANK,
    )


def _decode_jpeg(data: bytes, wanted_width: int) -> np.ndarray | None:
    """The JPEG decoded at a reduced size when it stays at least `wanted_width` wide (much
    faster for 1080p and larger frames); None when `data` is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            full_width = probe.width
        factor = max(f for f in _REDUCED_READ if f == 1 or full_width / f >= wanted_width)
        return cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED_READ[factor])
    except (OSError, cv2.error):
        return None


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image


def decode(candidate: SelectableCandidate, wanted_width: int) -> np.ndarray:
    """The candidate's picture as a BGR image, at least `wanted_width` wide when the source is.

    Raises CandidateImageError when a file is missing or its bytes (from a file or carried by
    the candidate) are not an image."""
    image = candidate.image
    if isinstance(image, np.ndarray):
        return _as_bgr(image)
    if isinstance(image, bytes):
        decoded = _decode_jpeg(image, wanted_width)
        if decoded is None:
            raise _undecodable_bytes(candidate)
        return decoded
    path = Path(image)
    try:
        data = path.read_bytes()
    except OSError:
        raise unreadable_file(path) from None
    decoded = _decode_jpeg(data, wanted_width)
    if decoded is None:
        raise unreadable_file(path)
    return decoded


def load_images(candidates: Sequence[SelectableCandidate], wanted_width: int) -> list[np.ndarray]:
    workers = min(len(candidates), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # cv2 decodes without the GIL
        return list(pool.map(lambda c: decode(c, wanted_width), candidates))
