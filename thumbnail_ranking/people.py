"""Where the people are in a video's examined frames, and which of them play this match.

The café's camera stands on a tripod off the side line at a corner of the near court, looking
along it: the near pair are large in the foreground, the far pair beyond the net, other courts'
players behind and to the sides, and passers-by walk right in front of the lens. Everything here
is learnt from the video's own frames; nothing is tuned to one court's pixels.

1. Foreground: each frame, at PEOPLE_LONG_SIDE (a far player is a few pixels wide), against the
   per-pixel median of its run of frames (the empty court: people move). A pixel that only got
   darker or lighter while keeping the floor's colour, by less than REFLECTION_MAX_DIFFERENCE,
   is a shadow or the glossy floor's reflection of a player, not a person: counted, a player's
   box reached down into his mirror image and his feet seemed much nearer the camera.
2. Regions: connected foreground, fragments joined by a closing taller than wide (a head over a
   dark collar, a body over legs the same grey as the wall).
3. Ground plane: on a flat floor a standing person's height in the picture grows linearly with
   how low the feet are (h = slope * foot + offset). Fitted per video with Theil-Sen (the median
   of pairwise slopes: robust to merged pairs, bodies half hidden by the net, raised rackets)
   on the upright regions that no frame edge cuts. Too few of them, or too little depth: one
   height for everyone.
4. Roles, in each frame:
   - in front of the camera: a region cut by the frame's edge that is far taller than anyone
     standing at its foot row could be (IN_FRONT_RATIO), or covers IN_FRONT_SHARE of the frame
     (a face, a shoulder). Such a frame is never a candidate.
   - close to the lens: a person cut by the bottom edge, feet out of the frame, and taller
     than anyone standing on the bottom row (CLOSE_RATIO): nearer than the court, so the near
     court is partly blocked.
   - players: the two nearest people of the near court (expected at least NEAR_BAND of the
     video's usual nearest height), and across the net (down to FAR_BAND of it) the two nearest
     the middle of the picture: the camera is aimed at the court it films, so other courts'
     people stand to the sides.
   - other: everyone else (other courts, spectators behind).
5. Measures, each 0..1:
   - activity: how many players are seen apart, against the video's usual number (partners
     gathered between rallies show as one).
   - play: the near players' stance against the same video's usual one, which holds on stills:
     lower (a bent-knee ready stance or a lunge is shorter than the same man standing; the
     ground plane gives each his standing height) and wider (legs apart, racket out), and the
     partners apart (gathered between rallies, or walking together, is a pause).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

PEOPLE_LONG_SIDE = 320
FOREGROUND_LEVEL = 25  # a pixel differs from the background by more than this in some channel
REFLECTION_MAX_DIFFERENCE = 70  # a stronger difference is a person even in the floor's colour
REFLECTION_MAX_CHROMA = 0.16  # colour change (relative) below which a difference is shading
REFLECTION_GAIN = (0.25, 1.3)  # brightness of a shadow or reflection relative to the floor
BACKGROUND_WINDOW = 31  # frames per background median: long enough that people move out
BACKGROUND_SAMPLES = 15  # frames of a run its median is taken over
MIN_BACKGROUND_FRAMES = 5  # fewer frames: a median would still show the people
SCENE_CHANGE_FRACTION = 0.5  # more than this differs: camera moved or lights changed
MIN_REGION_SHARE = 3.5e-4  # of the frame: about a far player's head and shoulders at 320x180
STACK_GAP = 0.3  # of the lower part's height: parts this close one above the other join
STACK_OVERLAP = 0.5  # of the narrower part's width, side by side
STACK_WIDER = 1.5  # an upper part wider than this times the lower one is not a head or torso
MAX_PERSON_ASPECT = 1.5  # width / height; wider regions are not a person (a burned-in title)
MIN_FIT_BOXES = 8
MIN_FIT_DEPTH = 0.1  # of the frame height: foot rows must spread this much to fit a slope
IN_FRONT_RATIO = 1.6  # times the height of a person standing at the same foot row
IN_FRONT_SHARE = 0.15  # of the frame, for a region cut by the frame's edge
CLOSE_RATIO = 1.1  # a person cut by the bottom edge this much taller than one standing there
PERSON_RATIO = (0.35, 1.6)  # height over the expected one: what can be a person on the floor
NEAR_BAND = 0.65  # of the video's usual nearest expected height: the near court
FAR_BAND = 0.3  # down to this: across the net (further back: other courts, spectators)
CROUCH_SCALE = 0.12  # this much lower than usual (of the standing height) is a full crouch
STANCE_SCALE = 0.15  # this much wider than usual (width / height) is a full stance
SPREAD_SCALE = 0.5  # partners this far apart (of their height) are spread over their half
# How a near player's pose counts (0.5 = his usual): lowness weighs most, since a racket held
# out widens a walker as much as legs apart widen a stance. Checked on the shared real frames,
# tuned on every other one and held out on the rest (and the other way round): play above
# pauses in 88-97% of pairs, within 0.04 for weights from 0.25 to 0.45 and 0.05 to 0.25.
CROUCH_WEIGHT = 0.35
STANCE_WEIGHT = 0.15

IN_FRONT = "in_front"
CLOSE = "close"
PLAYER = "player"
OTHER = "other"


@dataclass(frozen=True)
class Region:
    """A connected foreground region, in pixels of the people image."""

    x0: int
    y0: int
    x1: int
    y1: int
    pixels: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def centre_x(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True)
class Person:
    """Someone found in a frame: the box as fractions of the frame (x0, y0, x1, y1)."""

    box: tuple[float, float, float, float]
    role: str  # IN_FRONT, CLOSE, PLAYER or OTHER

    @property
    def player(self) -> bool:
        return self.role == PLAYER


@dataclass(frozen=True)
class FramePeople:
    people: tuple[Person, ...]
    in_front: bool  # someone stands in front of the camera: never a candidate
    blocked: bool  # someone close to the lens partly blocks the near court
    activity: float
    play: float


NOBODY = FramePeople((), in_front=False, blocked=False, activity=0.0, play=0.0)


@dataclass(frozen=True)
class GroundPlane:
    """The height in pixels of a person standing with the feet at row y: slope * y + offset."""

    slope: float
    offset: float
    floor: float  # never less than this

    def height_at(self, foot_row: float) -> float:
        return max(self.floor, self.slope * foot_row + self.offset)


@dataclass(frozen=True)
class _Found:
    """A region with what the ground plane says about it."""

    region: Region
    ratio: float  # its height over the height of a person standing at its foot row
    expected: float  # that height, in pixels: larger is nearer the camera
    cut_bottom: bool
    cut_side: bool  # partly outside the frame's left or right edge
    cut_edge: bool

    @property
    def partial(self) -> bool:
        """Cut by the side or the bottom: its shape is not all seen."""
        return self.cut_side or self.cut_bottom


def people_image(image: np.ndarray) -> np.ndarray:
    """The analysis image reduced to the people analysis' size."""
    height, width = image.shape[:2]
    factor = min(1.0, PEOPLE_LONG_SIDE / max(height, width))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def background_runs(usable: Sequence[bool], window: int) -> list[list[int]]:
    """Runs of up to `window` usable frame indexes in time order, each forming one background;
    a last run too short for a median joins the one before. Too few usable frames: none (a
    median of so few, or of black and smeared frames, is not the empty court)."""
    pool = [index for index, ok in enumerate(usable) if ok]
    if len(pool) < MIN_BACKGROUND_FRAMES:
        return []
    runs = [pool[start : start + window] for start in range(0, len(pool), window)]
    if len(runs) > 1 and len(runs[-1]) < window // 2:
        runs[-2:] = [runs[-2] + runs[-1]]
    return runs


def nearest_run(index: int, runs: list[list[int]]) -> int:
    return min(range(len(runs)), key=lambda r: max(runs[r][0] - index, index - runs[r][-1], 0))


def _spread_out(run: list[int]) -> list[int]:
    """At most BACKGROUND_SAMPLES of the run, evenly spread: the median costs in proportion to
    the frames, and a pixel shows a person in a minority of them all the same."""
    if len(run) <= BACKGROUND_SAMPLES:
        return run
    return [
        run[round(k * (len(run) - 1) / (BACKGROUND_SAMPLES - 1))] for k in range(BACKGROUND_SAMPLES)
    ]


def median_image(stack: np.ndarray) -> np.ndarray:
    """Per-pixel (lower) median over the first axis, staying uint8."""
    middle = (len(stack) - 1) // 2
    return np.partition(stack, middle, axis=0)[middle]


_CHANNEL_SUM = np.ones((1, 3), np.float32)


def foreground_mask(image: np.ndarray, background: np.ndarray) -> np.ndarray:
    """1 where a person (not a shadow or a reflection on the floor) differs from the court.

    A pixel's colour f against the court's c: the gain g = f.c / c.c is how much lighter or
    darker it is, and |f - g c| / |c| how much its colour changed; with the dot products, the
    second is sqrt(f.f c.c - (f.c)^2) / c.c (OpenCV per-channel sums: 2 ms a frame, not 17).
    """
    difference = cv2.absdiff(image, background)
    largest = cv2.max(cv2.max(difference[..., 0], difference[..., 1]), difference[..., 2])
    frame = image.astype(np.float32) + 1
    court = background.astype(np.float32) + 1
    ff = cv2.transform(cv2.multiply(frame, frame), _CHANNEL_SUM)
    fc = cv2.transform(cv2.multiply(frame, court), _CHANNEL_SUM)
    cc = cv2.transform(cv2.multiply(court, court), _CHANNEL_SUM)
    gain = fc / cc
    off_colour = ff * cc - fc * fc  # |f - g c|^2 |c|^2
    shading = (
        (off_colour < (REFLECTION_MAX_CHROMA**2) * cc * cc)
        & (largest < REFLECTION_MAX_DIFFERENCE)
        & (gain > REFLECTION_GAIN[0])
        & (gain < REFLECTION_GAIN[1])
    )
    return ((largest > FOREGROUND_LEVEL) & ~shading).astype(np.uint8)


def regions_in(mask: np.ndarray) -> list[Region]:
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    closing = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 7))
    joined = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, closing)
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined)
    return [
        Region(int(x), int(y), int(x + w), int(y + h), int(pixels))
        for x, y, w, h, pixels in stats[1:count]
    ]


def stacked(parts: list[Region], plane: GroundPlane) -> list[Region]:
    """Parts joined where one stands on another and together they look more like one person
    standing there than the lower one alone: a head or a shirt over the rest of a body, cut
    apart where it matched the wall behind (two players one behind the other stay apart)."""
    parts = sorted(parts, key=lambda part: part.y0)
    merged = True
    while merged:
        merged = False
        for upper, lower in itertools.permutations(parts, 2):
            if _stands_on(upper, lower) and _completes(upper, lower, plane):
                parts.remove(upper)
                parts.remove(lower)
                parts.append(
                    Region(
                        min(upper.x0, lower.x0),
                        upper.y0,
                        max(upper.x1, lower.x1),
                        lower.y1,
                        upper.pixels + lower.pixels,
                    )
                )
                merged = True
                break
    return parts


def _stands_on(upper: Region, lower: Region) -> bool:
    """`upper` is just above `lower` and mostly over it."""
    gap = lower.y0 - upper.y1
    overlap = min(upper.x1, lower.x1) - max(upper.x0, lower.x0)
    return (
        0 <= gap <= STACK_GAP * lower.height
        and overlap >= STACK_OVERLAP * min(upper.width, lower.width)
        and upper.width <= lower.width * STACK_WIDER
    )


def split_tall(region: Region, plane: GroundPlane, height: int, width: int) -> list[Region]:
    """A region inside the frame taller than anyone standing at its foot row could be, cut into
    the person in front (as tall as one standing there) and what shows above: two people one
    behind the other, touching in the picture."""
    expected = plane.height_at(region.y1)
    inside = region.x0 > 0 and region.y0 > 0 and region.x1 < width and region.y1 < height
    if not inside or region.height <= PERSON_RATIO[1] * expected:
        return [region]
    cut = round(region.y1 - expected)
    share = (region.y1 - cut) / region.height
    front = Region(region.x0, cut, region.x1, region.y1, round(region.pixels * share))
    behind = Region(region.x0, region.y0, region.x1, cut, region.pixels - front.pixels)
    return [*split_tall(behind, plane, height, width), front]


def _completes(upper: Region, lower: Region, plane: GroundPlane) -> bool:
    expected = plane.height_at(lower.y1)
    joined = lower.y1 - upper.y0
    return abs(joined / expected - 1) < abs(lower.height / expected - 1)


def fit_ground_plane(regions: Sequence[Region], frame_height: int, frame_width: int) -> GroundPlane:
    """Theil-Sen line of height against foot row over the upright regions inside the frame."""
    upright = [
        r
        for r in regions
        if r.x0 > 0
        and r.y0 > 0
        and r.x1 < frame_width
        and r.y1 < frame_height
        and r.height >= r.width
        and r.height >= 0.04 * frame_height
    ]
    if not upright:
        return GroundPlane(0.0, 0.25 * frame_height, 0.02 * frame_height)
    feet = np.array([r.y1 for r in upright], float)
    heights = np.array([r.height for r in upright], float)
    typical = float(np.median(heights))
    floor = 0.1 * typical
    first, second = np.triu_indices(len(feet), 1)
    depth = feet[second] - feet[first]
    spread = np.abs(depth) >= MIN_FIT_DEPTH * frame_height
    if len(upright) < MIN_FIT_BOXES or not spread.any():
        return GroundPlane(0.0, typical, floor)
    slope = float(np.median((heights[second] - heights[first])[spread] / depth[spread]))
    if slope <= 0:  # taller people further away: no perspective to learn from this video
        return GroundPlane(0.0, typical, floor)
    return GroundPlane(slope, float(np.median(heights - slope * feet)), floor)


def _found(region: Region, plane: GroundPlane, height: int, width: int) -> _Found:
    cut_bottom = region.y1 >= height
    cut_side = region.x0 <= 0 or region.x1 >= width
    expected = plane.height_at(region.y1)
    cut_edge = cut_bottom or cut_side or region.y0 <= 0
    return _Found(region, region.height / expected, expected, cut_bottom, cut_side, cut_edge)


def _in_front(found: _Found, frame_pixels: int) -> bool:
    if not found.cut_edge:
        return False
    covered = found.region.width * found.region.height / frame_pixels
    return found.ratio >= IN_FRONT_RATIO or covered >= IN_FRONT_SHARE


def _is_person(found: _Found) -> bool:
    region = found.region
    return (
        PERSON_RATIO[0] <= found.ratio <= PERSON_RATIO[1]
        and region.width <= MAX_PERSON_ASPECT * region.height
    )


@dataclass(frozen=True)
class _Frame:
    """One frame's regions sorted into roles, before the video-wide measures."""

    found: list[_Found]
    roles: list[str]
    near: list[_Found]  # the near pair, nearest first
    in_front: bool
    blocked: bool


def _frame_roles(found: list[_Found], near_height: float, frame_pixels: int, width: int) -> _Frame:
    roles = [OTHER] * len(found)
    in_front = False
    blocked = False
    people = []
    for index, item in enumerate(found):
        if _in_front(item, frame_pixels):
            roles[index] = IN_FRONT
            in_front = True
        elif _is_person(item) and item.cut_bottom and item.ratio >= CLOSE_RATIO:
            roles[index] = CLOSE
            blocked = True
        elif _is_person(item):
            people.append(index)
    by_nearness = sorted(people, key=lambda i: (-found[i].expected, -found[i].region.y1))
    near = [i for i in by_nearness if found[i].expected >= NEAR_BAND * near_height][:2]
    across = [
        i for i in by_nearness if i not in near and found[i].expected >= FAR_BAND * near_height
    ]
    across = sorted(across, key=lambda i: abs(found[i].region.centre_x - width / 2))[:2]
    for index in (*near, *across):
        roles[index] = PLAYER
    return _Frame(found, roles, [found[i] for i in near], in_front, blocked)


def _stance(frames: list[_Frame]) -> list[float]:
    """Each frame's play measure: its near players against the video's usual stance."""
    near = [item for frame in frames for item in frame.near if not item.partial]
    if not near:
        return [0.0] * len(frames)
    usual_ratio = float(np.median([item.ratio for item in near]))
    usual_aspect = float(np.median([item.region.width / item.region.height for item in near]))
    plays = []
    for frame in frames:
        if not frame.near:
            plays.append(0.0)
            continue
        poses = []
        for item in frame.near:
            if item.partial:  # partly out of the picture: his stance is not seen
                poses.append(0.5)
                continue
            crouch = (usual_ratio - item.ratio) / CROUCH_SCALE
            wide = (item.region.width / item.region.height - usual_aspect) / STANCE_SCALE
            poses.append(_unit(0.5 + CROUCH_WEIGHT * crouch + STANCE_WEIGHT * wide))
        plays.append(float(np.mean(poses)) * (0.5 + 0.5 * _spread(frame.near)))
    return plays


def _spread(near: list[_Found]) -> float:
    """0 for partners together, 1 for partners spread over their half; a lone near player is
    neither."""
    if len(near) < 2:  # one near region: partners seen as one, or one off the court
        return 0.0
    first, second = (item.region for item in near)
    gap = max(first.x0, second.x0) - min(first.x1, second.x1)
    return _unit(gap / (SPREAD_SCALE * max(first.height, second.height)))


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))


def _person(item: _Found, role: str, width: int, height: int) -> Person:
    r = item.region
    box = (r.x0 / width, r.y0 / height, r.x1 / width, r.y1 / height)
    return Person(tuple(round(v, 4) for v in box), role)  # type: ignore[arg-type]


def analyse_people(images: Sequence[np.ndarray], usable: Sequence[bool]) -> list[FramePeople]:
    """The people of each frame (people images of one video, in time order). Only `usable`
    frames (not black, blown out or smeared) form the backgrounds."""
    if not images:
        return []
    height, width = images[0].shape[:2]
    runs = background_runs(usable, BACKGROUND_WINDOW)
    if not runs:
        return [NOBODY] * len(images)
    backgrounds = [median_image(np.stack([images[i] for i in _spread_out(run)])) for run in runs]
    regions: list[list[Region] | None] = []
    shares = []
    for index, image in enumerate(images):
        mask = foreground_mask(image, backgrounds[nearest_run(index, runs)])
        share = float(mask.mean())
        changed = share > SCENE_CHANGE_FRACTION
        shares.append(0.0 if changed else share)
        regions.append(None if changed else regions_in(mask))
    smallest = MIN_REGION_SHARE * height * width
    plane = fit_ground_plane(
        [r for frame in regions if frame for r in frame if r.pixels >= smallest], height, width
    )
    regions = [
        None
        if frame is None
        else [
            part
            for r in stacked(frame, plane)
            for part in split_tall(r, plane, height, width)
            if part.pixels >= smallest
        ]
        for frame in regions
    ]
    found = [
        [_found(r, plane, height, width) for r in frame] if frame is not None else None
        for frame in regions
    ]
    nearest = [
        max((f.expected for f in frame if _is_person(f) and not f.cut_bottom), default=0.0)
        for frame in found
        if frame
    ]
    near_height = float(np.median([n for n in nearest if n > 0])) if any(nearest) else 0.0
    frames = [
        _frame_roles(frame, near_height, height * width, width) if frame is not None else None
        for frame in found
    ]
    known = [frame for frame in frames if frame is not None]
    plays = iter(_stance(known))
    counts = [frame.roles.count(PLAYER) for frame in known]
    usual = float(np.percentile(counts, 90)) if counts else 0.0
    busiest = max((share for share, ok in zip(shares, usable, strict=True) if ok), default=0.0)
    result = []
    for frame, share in zip(frames, shares, strict=True):
        if frame is None:
            result.append(NOBODY)
            continue
        people = tuple(
            _person(item, role, width, height)
            for item, role in zip(frame.found, frame.roles, strict=True)
            if role != OTHER or _is_person(item)
        )
        play = next(plays)
        result.append(
            FramePeople(
                people,
                frame.in_front,
                frame.blocked,
                # no one standing on a floor in the whole video (a sideways picture): what
                # differs from the court, against the busiest frame, says where things happen
                activity=_unit(frame.roles.count(PLAYER) / usual)
                if near_height and usual
                else _unit(share / (busiest or 1)),
                play=0.0 if frame.in_front else round(play, 4),
            )
        )
    return result
