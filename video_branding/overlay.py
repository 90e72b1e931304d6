"""Cards blended straight into decoded YUV frames, in the video's own colours.

A card is converted once into the frame's layout: turned into the coded orientation of a
rotated phone video, into Y, Cb and Cr with the video's matrix (BT.601, 709 or 2020), range and
bit depth, its chroma averaged down like the picture's. Each frame then costs two vectorised
operations over the card's box per plane; the pixels around the card are not touched, and the
picture never goes through RGB and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import av
import cv2
import numpy as np

from video_branding.cards import Card

# av.VideoFrame.colorspace values (FFmpeg's AVColorSpace) -> (Kr, Kb)
_MATRICES = {1: (0.2126, 0.0722), 5: (0.299, 0.114), 6: (0.299, 0.114), 9: (0.2627, 0.0593)}
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG
# pixel format -> (bit depth, chroma subsampling as (horizontal, vertical), full range)
PLANAR_FORMATS = {
    "yuv420p": (8, (2, 2), False),
    "yuvj420p": (8, (2, 2), True),
    "yuv422p": (8, (2, 1), False),
    "yuvj422p": (8, (2, 1), True),
    "yuv444p": (8, (1, 1), False),
    "yuvj444p": (8, (1, 1), True),
    "yuv420p10le": (10, (2, 2), False),
    "yuv422p10le": (10, (2, 1), False),
    "yuv444p10le": (10, (1, 1), False),
}
FADE_SECONDS = 0.5
_FADE_STEPS = 64  # fade strengths are rounded to 1/64: each step's planes are made once


@dataclass(frozen=True)
class FrameLayout:
    """How the decoded frames store their pixels."""

    pix_fmt: str
    width: int  # coded
    height: int
    rotation: int  # counter-clockwise degrees the player turns the coded picture
    colorspace: int
    primaries: int
    transfer: int
    full_range: bool

    @property
    def display_size(self) -> tuple[int, int]:
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height

    @property
    def bit_depth(self) -> int:
        return PLANAR_FORMATS[self.pix_fmt][0]

    @property
    def subsampling(self) -> tuple[int, int]:
        return PLANAR_FORMATS[self.pix_fmt][1]

    @property
    def matrix(self) -> tuple[float, float]:
        if self.colorspace in _MATRICES:
            return _MATRICES[self.colorspace]
        # unspecified: what players assume, BT.601 for standard definition, else BT.709
        return _MATRICES[5] if self.height < 720 and self.width < 1280 else _MATRICES[1]


def layout_of(frame: av.VideoFrame) -> FrameLayout:
    name = frame.format.name
    full = PLANAR_FORMATS[name][2] if name in PLANAR_FORMATS else False
    return FrameLayout(
        pix_fmt=name,
        width=frame.width,
        height=frame.height,
        rotation=round(frame.rotation or 0) % 360,
        colorspace=int(frame.colorspace or 2),
        primaries=int(frame.color_primaries or 2),
        transfer=int(frame.color_trc or 2),
        full_range=full or int(frame.color_range or 0) == _FULL_RANGE,
    )


@dataclass
class _Patch:
    """One plane's part of a card: where it goes, its opacity and its colour."""

    top: int
    left: int
    alpha: np.ndarray  # float32, 0..1
    value: np.ndarray  # float32, in the plane's code values
    peak: int  # the largest code value (255, 1023)
    dtype: type

    def weights(self, strength: float) -> tuple[np.ndarray, np.ndarray]:
        """(what is kept of the frame, in 1/peak-ths; what the card adds), for this strength."""
        shown = self.alpha * strength
        keep = np.round((1.0 - shown) * self.scale).astype(self.dtype)
        add = np.round(self.value * shown).astype(self.dtype)
        return keep, add

    @cached_property
    def scale(self) -> int:
        return np.iinfo(self.dtype).max


class Overlay:
    """A card ready to blend into frames of one layout."""

    def __init__(self, card: Card, layout: FrameLayout):
        self.layout = layout
        self._patches = _patches(card, layout)
        self._weights: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def apply(self, frame: av.VideoFrame, strength: float) -> None:
        """Blend the card into `frame` (made writable first) at `strength` (0..1)."""
        step = round(min(1.0, max(0.0, strength)) * _FADE_STEPS)
        if step == 0:
            return
        weights = self._weights.get(step)
        if weights is None:
            weights = [patch.weights(step / _FADE_STEPS) for patch in self._patches]
            self._weights[step] = weights
        for index, (patch, (keep, add)) in enumerate(zip(self._patches, weights, strict=True)):
            region = plane_array(frame, index)[
                patch.top : patch.top + keep.shape[0], patch.left : patch.left + keep.shape[1]
            ]
            cv2.multiply(region, keep, dst=region, scale=1 / patch.scale)
            cv2.add(region, add, dst=region)


def plane_array(frame: av.VideoFrame, index: int) -> np.ndarray:
    """A writable view of one plane's pixels (frame.make_writable() must come first)."""
    plane = frame.planes[index]
    dtype = np.uint16 if PLANAR_FORMATS[frame.format.name][0] > 8 else np.uint8
    item = np.dtype(dtype).itemsize
    rows = np.frombuffer(plane, dtype).reshape(plane.height, plane.line_size // item)
    return rows[:, : plane.width]


def _patches(card: Card, layout: FrameLayout) -> list[_Patch]:
    rgba, top, left = _coded(card, layout)
    colour = rgba[..., :3].astype(np.float32) / 255.0
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    kr, kb = layout.matrix
    luma = kr * colour[..., 0] + (1 - kr - kb) * colour[..., 1] + kb * colour[..., 2]
    cb = (colour[..., 2] - luma) / (2 * (1 - kb))
    cr = (colour[..., 0] - luma) / (2 * (1 - kr))
    shift = 1 << (layout.bit_depth - 8)
    peak = (256 << (layout.bit_depth - 8)) - 1
    if layout.full_range:
        planes = (luma * peak, cb * peak + 128 * shift, cr * peak + 128 * shift)
    else:
        planes = (
            16 * shift + luma * 219 * shift,
            (128 + cb * 224) * shift,
            (128 + cr * 224) * shift,
        )
    dtype = np.uint16 if layout.bit_depth > 8 else np.uint8
    across, down = layout.subsampling
    patches = [_Patch(top, left, alpha, np.clip(planes[0], 0, peak), peak, dtype)]
    small_alpha = _averaged(alpha, across, down)
    for plane in planes[1:]:
        premultiplied = _averaged(plane * alpha, across, down)
        value = np.divide(
            premultiplied, small_alpha, out=np.zeros_like(premultiplied), where=small_alpha > 0
        )
        patches.append(
            _Patch(top // down, left // across, small_alpha, np.clip(value, 0, peak), peak, dtype)
        )
    return patches


def _averaged(values: np.ndarray, across: int, down: int) -> np.ndarray:
    height, width = values.shape
    blocks = values[: height // down * down, : width // across * across]
    return blocks.reshape(height // down, down, width // across, across).mean(axis=(1, 3))


def _coded(card: Card, layout: FrameLayout) -> tuple[np.ndarray, int, int]:
    """The card as RGBA pixels in the coded picture's orientation, and its top-left corner
    there (even, so that chroma samples line up)."""
    display_width, display_height = layout.display_size
    canvas = np.zeros((display_height, display_width, 4), np.uint8)
    image = np.asarray(card.image)
    bottom = min(display_height, card.y + image.shape[0])
    right = min(display_width, card.x + image.shape[1])
    canvas[card.y : bottom, card.x : right] = image[: bottom - card.y, : right - card.x]
    coded = np.rot90(canvas, k=-(layout.rotation // 90))
    rows = np.flatnonzero(coded[..., 3].any(axis=1))
    columns = np.flatnonzero(coded[..., 3].any(axis=0))
    if not len(rows):
        return np.zeros((2, 2, 4), np.uint8), 0, 0
    top, left = rows[0] // 2 * 2, columns[0] // 2 * 2
    bottom = min(coded.shape[0], (rows[-1] + 2) // 2 * 2)
    right = min(coded.shape[1], (columns[-1] + 2) // 2 * 2)
    return np.ascontiguousarray(coded[top:bottom, left:right]), int(top), int(left)


@dataclass(frozen=True)
class Showing:
    """An overlay on screen from `start` to `end` (seconds on the video's timeline), faded in
    and out; a logo burned into every frame has no end and no fade."""

    overlay: Overlay
    start: float
    end: float
    fade: float = FADE_SECONDS

    def strength(self, seconds: float) -> float:
        if not self.start <= seconds < self.end:
            return 0.0
        if not self.fade:
            return 1.0
        ramp = min(seconds - self.start, self.end - seconds, self.fade) / self.fade
        return ramp * ramp * (3 - 2 * ramp)  # smoothstep: no visible jolt at either end


def apply_all(frame: av.VideoFrame, showings: Sequence[Showing], seconds: float) -> av.VideoFrame:
    """`frame` with every overlay shown at `seconds` blended in; the frame itself when none
    is (the decoder's own frame is never written to: it may still be a reference picture)."""
    shown = [(showing, showing.strength(seconds)) for showing in showings]
    shown = [(showing, strength) for showing, strength in shown if strength > 0]
    if not shown:
        return frame
    frame.make_writable()
    for showing, strength in shown:
        showing.overlay.apply(frame, strength)
    return frame
