"""Synthetic frames of a badminton match on the café's court: a court with lines, a wall of
coloured banners, and segments of known quality (black intro, blurred pan, empty court, people
walking, a rally of four players, an overexposed stretch) and what real footage has besides (a
passer-by right in front of the lens, a player at the frame's edge, a pause between rallies).

Drawn with OpenCV, encoded by nothing: `sample_clips` encodes them into real clips for the demo,
the tests and the benchmarks, and the thumbnail contact sheet shows a rally frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

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
