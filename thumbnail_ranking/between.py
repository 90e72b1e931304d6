"""Where keyframes are sparse: which frames between them to decode, within a fixed budget.

The middle 80% is cut into one slot per frame to examine (CANDIDATE_THUMBNAIL_NUM). A slot is
covered when it holds an examined keyframe. Each other slot wants the frame at its centre,
reached by decoding forward from the keyframe at or before it: that costs every frame from that
keyframe on, and frames decoded for an earlier slot of the same GOP cost nothing again. Slots
are visited coarse to fine (the middle one, then those at the quarters, the eighths...), so
what the budget affords is spread over the whole match rather than spent on its first minutes.
A slot whose centre the remaining budget cannot reach gets the furthest frame it can reach
inside the slot, or nothing.

The budget is BUDGET_1080P_FRAMES decoded frames of 1080p; a smaller picture gets
proportionally more frames, a larger one fewer (decoding time follows the pixel count).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

BUDGET_1080P_FRAMES = 900
FULL_HD_PIXELS = 1920 * 1080


def budget_frames(pixels: int) -> int:
    """Frames forward decoding may decode in a video whose frames have `pixels` pixels."""
    return max(1, round(BUDGET_1080P_FRAMES * FULL_HD_PIXELS / max(1, pixels)))


@dataclass(frozen=True)
class Keyframe:
    pts: int
    seconds: float


@dataclass(frozen=True)
class Run:
    """Decode forward from `anchor`, taking the first frame at or after each target."""

    anchor: Keyframe
    targets: tuple[float, ...]  # seconds, ascending
    frames: int  # frames the run is expected to decode, the anchor included


def coarse_to_fine(count: int) -> list[int]:
    """Slot indexes 0..count-1, the middle first, then the quarters, the eighths..."""
    order: list[int] = []
    seen: set[int] = set()
    parts = 2
    while len(order) < count:
        for numerator in range(1, parts, 2):
            index = numerator * count // parts
            if index not in seen:
                seen.add(index)
                order.append(index)
        parts *= 2
    return order


@dataclass(frozen=True)
class Plan:
    runs: list[Run]  # in time order
    short: bool  # the budget left a slot without its centre frame


def plan_runs(
    span: tuple[float, float],
    count: int,
    keyframes: Sequence[Keyframe],
    covered: Sequence[float],
    room: int,
    budget: int,
    frame_seconds: float,
) -> Plan:
    """At most `room` frames between `keyframes` for the slots of `span` that no time in
    `covered` falls in, expected to decode at most `budget` frames."""
    start, end = span
    if end <= start:  # the video does not say how long it is
        return Plan([], short=False)
    slot = (end - start) / count
    taken = {min(count - 1, int((t - start) / slot)) for t in covered if start <= t <= end}
    anchors = sorted(keyframes, key=lambda keyframe: keyframe.seconds)
    anchor_times = [anchor.seconds for anchor in anchors]
    decoded: dict[int, int] = {}  # anchor index -> frames its run decodes so far
    targets: dict[int, list[float]] = {}
    left = budget
    short = False

    def frames_to(anchor: int, seconds: float) -> int:
        """Frames decoded from `anchor` through the first frame at or after `seconds`."""
        return math.ceil((seconds - anchor_times[anchor]) / frame_seconds - 1e-9) + 1

    for index in coarse_to_fine(count):
        if room == 0:
            break
        if index in taken:
            continue
        low, centre = start + index * slot, start + (index + 0.5) * slot
        anchor = bisect_right(anchor_times, centre) - 1
        if anchor < 0:
            continue
        done = decoded.get(anchor, 0)
        frames = min(frames_to(anchor, centre), done + left)
        position = centre
        if frames < frames_to(anchor, centre):
            short = True
            # half a frame early: the last frame the budget reaches, not the one after it
            position = anchor_times[anchor] + (frames - 1.5) * frame_seconds
            if frames < 1 or position < low:
                continue
        left -= max(0, frames - done)
        decoded[anchor] = max(done, frames)
        targets.setdefault(anchor, []).append(position)
        room -= 1
    runs = [
        Run(anchors[anchor], tuple(sorted(times)), decoded[anchor])
        for anchor, times in sorted(targets.items())
    ]
    return Plan(runs, short)
