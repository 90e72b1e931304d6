"""Which part of a frame a template's photo panel shows: chosen from where the players are.

`frame_crop(players, frame_size, panel_size, clear)` is a pure function: the players' boxes (as
fractions of the frame), the frame's size in pixels, the photo panel's size on the thumbnail,
and the part of the panel that the template's bars and badges leave clear (fractions of the
panel). It returns the crop as fractions of the frame, of the panel's shape.

The two players nearest the camera (the tallest boxes, then the lowest) are kept whole with a
little room around them, and every player when they all fit; the crop zooms in on them as far
as the source allows without enlarging it more than MAX_UPSCALE, and puts them in the clear
part of the panel when they fit there (else anywhere in the panel), with what room is left more
below them than above: the floor they play on, not an empty ceiling. When even the nearest two
cannot both be whole, the nearest one is, in the widest crop, as near the pair's middle as that
allows. Portrait footage, and a frame without players, get the centre crop.
"""

from __future__ import annotations

from collections.abc import Sequence

from thumbnail_enhancement.layout import Box  # in frame pixels here

BoxTuple = tuple[float, float, float, float]  # x0, y0, x1, y1

MAX_UPSCALE = 1.5
ROOM_SIDE = 0.12  # of the nearest player's height, on each side of the players
ROOM_ABOVE = 0.12
ROOM_BELOW = 0.06
ABOVE_SHARE = 1 / 3  # of the vertical room the players leave, the part above them
WHOLE_PANEL: BoxTuple = (0.0, 0.0, 1.0, 1.0)


def centre_crop(frame_size: tuple[int, int], panel_size: tuple[float, float]) -> BoxTuple:
    """The largest centred part of the frame with the panel's shape."""
    width, height = frame_size
    crop_w, crop_h = _largest(frame_size, panel_size)
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    return _fractions(Box(left, top, left + crop_w, top + crop_h), frame_size)


def frame_crop(
    players: Sequence[BoxTuple],
    frame_size: tuple[int, int],
    panel_size: tuple[float, float],
    clear: BoxTuple = WHOLE_PANEL,
) -> BoxTuple:
    """The crop of the frame for the panel (see the module's docstring)."""
    width, height = frame_size
    if not players or height > width:
        return centre_crop(frame_size, panel_size)
    boxes = sorted(
        (Box(x0 * width, y0 * height, x1 * width, y1 * height) for x0, y0, x1, y1 in players),
        key=lambda box: (-round(box.height), -box.y1),  # nearest first: tallest, lowest
    )
    room = boxes[0].height
    near = _padded(_union(boxes[:2]), room, frame_size)
    wanted = [
        (_padded(_union(boxes), room, frame_size), clear),
        (near, clear),
        (near, WHOLE_PANEL),
    ]
    for target, area in wanted:
        crop = _fitting(target, area, frame_size, panel_size)
        if crop is not None:
            return _fractions(crop, frame_size)
    return _fractions(
        _widest_around(_padded(boxes[0], room, frame_size), near, frame_size, panel_size),
        frame_size,
    )


def _widest_around(
    nearest: Box, near: Box, frame_size: tuple[int, int], panel_size: tuple[float, float]
) -> Box:
    """The largest crop, as near the middle of the near pair as keeps the nearest whole."""
    crop_w, crop_h = _largest(frame_size, panel_size)
    width, height = frame_size
    left = (near.x0 + near.x1) / 2 - crop_w / 2
    left = min(max(left, nearest.x1 - crop_w, 0.0), nearest.x0, width - crop_w)
    top = min(
        max(0.0, nearest.y0 - ABOVE_SHARE * max(0.0, crop_h - nearest.height)), height - crop_h
    )
    return Box(left, top, left + crop_w, top + crop_h)


def _largest(frame_size: tuple[int, int], panel_size: tuple[float, float]) -> tuple[float, float]:
    width, height = frame_size
    aspect = panel_size[0] / panel_size[1]
    if width / height > aspect:
        return height * aspect, float(height)
    return float(width), width / aspect


def _union(boxes: Sequence[Box]) -> Box:
    return Box(
        min(b.x0 for b in boxes),
        min(b.y0 for b in boxes),
        max(b.x1 for b in boxes),
        max(b.y1 for b in boxes),
    )


def _padded(box: Box, room: float, frame_size: tuple[int, int]) -> Box:
    width, height = frame_size
    return Box(
        max(0.0, box.x0 - ROOM_SIDE * room),
        max(0.0, box.y0 - ROOM_ABOVE * room),
        min(float(width), box.x1 + ROOM_SIDE * room),
        min(float(height), box.y1 + ROOM_BELOW * room),
    )


def _fitting(
    target: Box,
    clear: BoxTuple,
    frame_size: tuple[int, int],
    panel_size: tuple[float, float],
) -> Box | None:
    """The smallest crop (no smaller than the upscale limit allows) that shows `target` inside
    the `clear` part of the panel; None when it would not fit in the frame."""
    aspect = panel_size[0] / panel_size[1]
    largest_w = _largest(frame_size, panel_size)[0]
    clear_w, clear_h = clear[2] - clear[0], clear[3] - clear[1]
    crop_w = max(
        target.width / clear_w,
        target.height / clear_h * aspect,
        min(largest_w, panel_size[0] / MAX_UPSCALE),
    )
    if crop_w > largest_w + 1e-6:
        return None
    crop = _placed(target, clear, (crop_w, crop_w / aspect), frame_size)
    inside = _shown(crop, clear)
    fits = (
        inside.x0 <= target.x0 + 1e-6
        and inside.y0 <= target.y0 + 1e-6
        and target.x1 <= inside.x1 + 1e-6
        and target.y1 <= inside.y1 + 1e-6
    )
    return crop if fits else None


def _placed(
    target: Box, clear: BoxTuple, size: tuple[float, float], frame_size: tuple[int, int]
) -> Box:
    """A crop of `size` with `target` centred across the clear part and a third of the spare
    height above it, moved back inside the frame."""
    crop_w, crop_h = size
    clear_w, clear_h = clear[2] - clear[0], clear[3] - clear[1]
    centre_x = (target.x0 + target.x1) / 2
    left = centre_x - (clear[0] + clear_w / 2) * crop_w
    spare = max(0.0, clear_h * crop_h - target.height)
    top = target.y0 - ABOVE_SHARE * spare - clear[1] * crop_h
    width, height = frame_size
    left = min(max(0.0, left), width - crop_w)
    top = min(max(0.0, top), height - crop_h)
    return Box(left, top, left + crop_w, top + crop_h)


def _shown(crop: Box, clear: BoxTuple) -> Box:
    """The part of the frame that lands in the clear part of the panel."""
    return Box(
        crop.x0 + clear[0] * crop.width,
        crop.y0 + clear[1] * crop.height,
        crop.x0 + clear[2] * crop.width,
        crop.y0 + clear[3] * crop.height,
    )


def _fractions(crop: Box, frame_size: tuple[int, int]) -> BoxTuple:
    width, height = frame_size
    return (
        round(crop.x0 / width, 4),
        round(crop.y0 / height, 4),
        round(crop.x1 / width, 4),
        round(crop.y1 / height, 4),
    )
