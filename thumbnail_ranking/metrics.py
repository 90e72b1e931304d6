"""Per-frame image measures (pure numpy/OpenCV on upright BGR frames), each mapped to 0..1.

sharpness, exposure, contrast and colourfulness depend on the frame alone; activity compares the
frame with the static background of the court, so it is computed over a video's frames at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

# Exposure: mean luma closest to this reads best; pixels beyond the clip levels carry no detail.
IDEAL_MEAN_LUMA = 0.45
DARK_CLIP_LEVEL = 8
BRIGHT_CLIP_LEVEL = 247
CONTRAST_FULL_STD = 64.0  # luma standard deviation of a well-contrasted photo
COLOURFULNESS_FULL = 100.0  # Hasler & Süsstrunk: about 100 is "extremely colourful"
BLUR_WINDOW = 9  # Crété-Roffet re-blur filter length
ACTIVITY_SIZE = (160, 90)  # the background comparison needs positions, not detail
FOREGROUND_LEVEL = 30  # a pixel differs from the background by more than this in some channel
BACKGROUND_WINDOW = 11  # frames per background median: short enough to follow daylight
SCENE_CHANGE_FRACTION = 0.5  # more than this differs: camera moved or lights changed, not players
HASH_GRID = (32, 18)  # cells across and down: fine enough to see players on a fixed court
HASH_DEAD_BAND = 4  # grey levels between neighbouring cells that count as "no edge"


@dataclass(frozen=True, eq=False)
class FrameMeasures:
    """Everything measured on one frame by itself."""

    sharpness: float
    exposure: float
    contrast: float
    colourfulness: float
    hash: int
    small: np.ndarray  # blurred ACTIVITY_SIZE copy for the background comparison


def sharpness(gray: np.ndarray) -> float:
    """1 - blur, with blur by Crété-Roffet et al. (2007): how little re-blurring changes the image.

    Measured along rows and columns and the blurrier direction taken, so the one-directional
    smear of a camera pan scores as blurred even though edges across it stay crisp. A frame
    with under one grey level of change per pixel in a direction has no detail: it scores 0.
    Sensor noise first goes through a 3x3 median: re-blurring removes noise too, so a noisy
    smeared frame would otherwise pass for sharp (measured on the sample clips with camera
    grain: a panning smear scored 0.82 against 0.90 for the sharp rally; after the median, 0
    against 0.93).
    """
    gray = cv2.medianBlur(gray, 3)
    blur = 0.0
    for kernel, step in (((1, BLUR_WINDOW), _row_steps), ((BLUR_WINDOW, 1), _column_steps)):
        detail = step(gray)
        total = float(cv2.sumElems(detail)[0])
        if total < gray.size:
            return 0.0
        # saturating uint8 subtraction: the detail re-blurring removed, never negative
        lost = float(cv2.sumElems(cv2.subtract(detail, step(cv2.blur(gray, kernel))))[0])
        blur = max(blur, (total - lost) / total)
    return 1.0 - blur


def _row_steps(gray: np.ndarray) -> np.ndarray:
    return cv2.absdiff(gray[1:], gray[:-1])


def _column_steps(gray: np.ndarray) -> np.ndarray:
    return cv2.absdiff(gray[:, 1:], gray[:, :-1])


def exposure(gray: np.ndarray) -> float:
    """1 for a mid-toned frame; falls to 0 as it darkens to black or brightens to white."""
    mean = float(gray.mean()) / 255
    level = max(0.0, 1 - ((mean - IDEAL_MEAN_LUMA) / IDEAL_MEAN_LUMA) ** 2)
    clipped = float(np.count_nonzero((gray <= DARK_CLIP_LEVEL) | (gray >= BRIGHT_CLIP_LEVEL)))
    return level * (1 - clipped / gray.size)


def contrast(gray: np.ndarray) -> float:
    """RMS contrast: the luma standard deviation against that of a well-contrasted photo."""
    return min(1.0, _mean_std(gray)[1] / CONTRAST_FULL_STD)


def colourfulness(image: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness on the opponent axes, scaled to 0..1.

    Computed at half the analysis size: these are whole-frame statistics.
    """
    half = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    blue, green, red = cv2.split(half.astype(np.float32))
    red_green_mean, red_green_std = _mean_std(red - green)
    yellow_blue_mean, yellow_blue_std = _mean_std((red + green) / 2 - blue)
    spread = np.hypot(red_green_std, yellow_blue_std)
    offset = np.hypot(red_green_mean, yellow_blue_mean)
    return min(1.0, float(spread + 0.3 * offset) / COLOURFULNESS_FULL)


def _mean_std(channel: np.ndarray) -> tuple[float, float]:
    mean, std = cv2.meanStdDev(channel)
    return mean.item(), std.item()


def difference_hash(gray: np.ndarray) -> int:
    """Perceptual difference hash (dHash) with a dead band, as an int of 2 x 32 x 18 bits.

    The frame is averaged down to a HASH_GRID of cells; for each cell and its right-hand
    neighbour, one bit says "clearly brighter" and one "clearly darker" (by more than
    HASH_DEAD_BAND grey levels). Plain dHash keeps only the sign, which on a flat court floor is
    decided by sensor noise: measured on noisy encodes of one empty court, plain 16x16 dHash put
    it 0-24 of 256 bits from itself, as far as from a rally (9-39). With the dead band the same
    scene stays within 0-5 bits, a rally is 24-50 from the empty court and two rally moments
    50-82 apart; one person walking a few steps moves 3-15.
    """
    width, height = HASH_GRID
    # averaged down in two steps: OpenCV's area resize is 5x faster at a whole-number ratio
    quarter = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    cells = cv2.resize(quarter, (width + 1, height), interpolation=cv2.INTER_AREA)
    step = np.diff(cells.astype(np.int16), axis=1)
    bits = np.concatenate([(step > HASH_DEAD_BAND).ravel(), (step < -HASH_DEAD_BAND).ravel()])
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def hash_distance(first: int, second: int) -> int:
    return (first ^ second).bit_count()


def measure_frame(image: np.ndarray) -> FrameMeasures:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(image, ACTIVITY_SIZE, interpolation=cv2.INTER_AREA)
    return FrameMeasures(
        sharpness=sharpness(gray),
        exposure=exposure(gray),
        contrast=contrast(gray),
        colourfulness=colourfulness(image),
        hash=difference_hash(gray),
        small=cv2.GaussianBlur(small, (3, 3), 0),
    )


def foreground_fractions(smalls: Sequence[np.ndarray], usable: Sequence[bool]) -> list[float]:
    """For each frame, the fraction of it that differs from the court's static background.

    The camera stands on a tripod, so the per-pixel median of a run of frames is the empty court
    (players move, so each pixel shows them in a minority of frames). Only `usable` frames (not
    black, blown-out or smeared) form backgrounds: one per run of BACKGROUND_WINDOW of them in
    time order, so slow lighting changes over a long match are followed, and each frame is
    compared with the background of the nearest run. A frame differing almost everywhere is a
    camera move or a lighting change, not players: it gets 0.
    """
    pool = [index for index, ok in enumerate(usable) if ok] or list(range(len(smalls)))
    runs = [
        pool[start : start + BACKGROUND_WINDOW] for start in range(0, len(pool), BACKGROUND_WINDOW)
    ]
    if len(runs) > 1 and len(runs[-1]) < BACKGROUND_WINDOW // 2:  # too few for a median
        runs[-2:] = [runs[-2] + runs[-1]]
    backgrounds = [_median(np.stack([smalls[index] for index in run])) for run in runs]
    fractions = []
    for index, small in enumerate(smalls):
        nearest = min(range(len(runs)), key=lambda r: _distance(index, runs[r]))
        difference = cv2.absdiff(small, backgrounds[nearest]).max(axis=2)
        mask = (difference > FOREGROUND_LEVEL).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        fraction = float(mask.mean())
        fractions.append(0.0 if fraction > SCENE_CHANGE_FRACTION else fraction)
    return fractions


def _median(stack: np.ndarray) -> np.ndarray:
    """Per-pixel (lower) median over the first axis, staying uint8."""
    middle = (len(stack) - 1) // 2
    return np.partition(stack, middle, axis=0)[middle]


def _distance(index: int, run: list[int]) -> int:
    """How many frames `index` lies outside the span of `run` (0 inside it)."""
    return max(run[0] - index, index - run[-1], 0)
