"""The encoders: libx264 matched to the source for the titles' spans, and the fastest encoder
this machine has for a full pass.

Splicing needs parameter sets of its own numbering next to the source's, which only libx264
offers (its `sps-id`: its PPS takes the same id). Its output is held to the source's profile
and level (and the level's bitrate), its colours, range and pixel format, and has no B-frames,
so that it takes the source's decode timestamps whatever the source's reordering.

The full pass tries, in order, VideoToolbox (macOS), NVENC (an NVIDIA GPU), then libx264, by
opening each and encoding a few frames: present in FFmpeg is not the same as working here.
VAAPI is not offered: its encoders take frames in GPU memory, which PyAV cannot hand them.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import av
import numpy as np

from video_branding.h264 import Avcc, free_parameter_set_id
from video_branding.overlay import FrameLayout
from video_branding.source import SourceVideo

log = logging.getLogger(__name__)

# The café's own command: libx264 ultrafast at its default quality. The titles' spans use a
# better quality (they are a few seconds); the full pass the same quality with CABAC, which
# ultrafast leaves out: the same pictures in smaller files at about the same speed.
SPAN_CRF = "23"
FULL_PASS_CRF = "23"
PRESET = "ultrafast"

_X264_PROFILES = {
    "Constrained Baseline": "baseline",
    "Baseline": "baseline",
    "Main": "main",
    "High": "high",
    "Constrained High": "high",
    "Progressive High": "high",
    "High 10": "high10",
    "High 10 Intra": "high10",
    "High 4:2:2": "high422",
    "High 4:2:2 Intra": "high422",
    "High 4:4:4 Predictive": "high444",
    "High 4:4:4 Intra": "high444",
}
# H.264's MaxBR (kbit/s) by level for Baseline/Main (Annex A, table A-1), and how much more the
# High profiles allow (table A-2)
_MAX_BITRATE = {
    10: 64, 11: 192, 12: 384, 13: 768, 20: 2000, 21: 4000, 22: 4000, 30: 10000, 31: 14000,
    32: 20000, 40: 20000, 41: 50000, 42: 50000, 50: 135000, 51: 240000, 52: 240000,
    60: 240000, 61: 480000, 62: 800000,
}  # fmt: skip
_HIGH_FACTOR = {"baseline": 1.0, "main": 1.0, "high": 1.25, "high10": 3.0}
_DEFAULT_HIGH_FACTOR = 4.0  # the 4:2:2 and 4:4:4 profiles


@dataclass(frozen=True)
class Encoder:
    name: str
    pix_fmt: str
    settings: tuple[tuple[str, str], ...] = ()  # FFmpeg's options for it
    bit_rate: int = 0

    @property
    def options(self) -> dict[str, str]:
        return dict(self.settings)

    def open_for(self, context: av.VideoCodecContext, source: SourceVideo) -> None:
        """Set `context` (not yet open) to encode the source's frames."""
        context.pix_fmt = self.pix_fmt
        context.width = source.layout.width
        context.height = source.layout.height
        context.time_base = source.time_base
        context.framerate = source.frame_rate
        context.max_b_frames = 0
        if source.sample_aspect_ratio:
            context.sample_aspect_ratio = source.sample_aspect_ratio
        context.colorspace = source.layout.colorspace
        context.color_primaries = source.layout.primaries
        context.color_trc = source.layout.transfer
        context.color_range = 2 if source.layout.full_range else 1
        if self.bit_rate:
            context.bit_rate = self.bit_rate
        context.options = self.options


@dataclass(frozen=True)
class SpanEncoderChoice:
    encoder: Encoder | None
    reason: str | None  # why the source's settings cannot be matched


def span_encoder(source: SourceVideo, avcc: Avcc) -> SpanEncoderChoice:
    """libx264 set up to produce frames that can sit between the source's."""
    profile = _X264_PROFILES.get(source.profile or "")
    if profile is None:
        return SpanEncoderChoice(None, f"libx264 cannot encode its H.264 profile {source.profile}")
    if source.layout.pix_fmt not in _x264_formats():
        return SpanEncoderChoice(
            None, f"libx264 cannot encode its pixel format {source.layout.pix_fmt}"
        )
    if source.interlaced:
        return SpanEncoderChoice(None, "it is interlaced")
    if avcc.length_size < 3:
        return SpanEncoderChoice(None, f"it stores NAL lengths in {avcc.length_size} bytes")
    free = free_parameter_set_id(avcc)
    if free is None:
        return SpanEncoderChoice(None, "its avcC record uses every parameter set id")
    params = [f"sps-id={free}", "bframes=0"]
    if avcc.level in _MAX_BITRATE:
        params.append(f"level={avcc.level / 10:g}")
        rate = round(_MAX_BITRATE[avcc.level] * _HIGH_FACTOR.get(profile, _DEFAULT_HIGH_FACTOR))
        params += [f"vbv-maxrate={rate}", f"vbv-bufsize={rate}"]
    settings = (
        ("preset", PRESET),
        ("crf", SPAN_CRF),
        ("profile", profile),
        ("x264-params", ":".join(params)),
    )
    return SpanEncoderChoice(Encoder("libx264", source.layout.pix_fmt, settings), None)


@cache
def _x264_formats() -> frozenset[str]:
    return frozenset(f.name for f in av.codec.Codec("libx264", "w").video_formats)


def _full_pass_candidates(layout: FrameLayout, bit_rate: int) -> list[Encoder]:
    """What to try for a full pass, fastest first."""
    deep = layout.bit_depth > 8
    hardware_format = "p010le" if deep else "nv12"
    rate = bit_rate or 8_000_000
    candidates = []
    if sys.platform == "darwin":
        name = "hevc_videotoolbox" if deep else "h264_videotoolbox"
        candidates.append(Encoder(name, hardware_format, (("realtime", "0"),), rate))
    name = "hevc_nvenc" if deep else "h264_nvenc"
    candidates.append(Encoder(name, hardware_format, (("preset", "p1"), ("rc", "vbr")), rate))
    x264_format = layout.pix_fmt if layout.pix_fmt in _x264_formats() else "yuv420p"
    settings = (("preset", PRESET), ("crf", FULL_PASS_CRF), ("x264-params", "cabac=1:bframes=0"))
    candidates.append(Encoder("libx264", x264_format, settings))
    return candidates


def full_pass_encoder(layout: FrameLayout, bit_rate: int) -> Encoder:
    """The first encoder of the candidates that works on this machine."""
    for encoder in _full_pass_candidates(layout, bit_rate):
        if _works(encoder):
            return encoder
    raise RuntimeError("libx264 does not work: the PyAV installation is broken")


@cache
def _works(encoder: Encoder) -> bool:
    if encoder.name not in av.codecs_available:
        return False
    try:
        context = av.CodecContext.create(encoder.name, "w")
        context.width, context.height = 256, 144
        context.pix_fmt = encoder.pix_fmt
        context.time_base = Fraction(1, 30)
        context.framerate = Fraction(30)
        context.max_b_frames = 0
        if encoder.bit_rate:
            context.bit_rate = encoder.bit_rate
        context.options = encoder.options
        packets = []
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(
                np.full((144, 256, 3), 40 * index, np.uint8), format="rgb24"
            ).reformat(format=encoder.pix_fmt)
            frame.pts = index
            packets += context.encode(frame)
        packets += context.encode(None)
    except (av.error.FFmpegError, ValueError, OSError) as error:
        log.debug("encoder %s does not work here: %s", encoder.name, error)
        return False
    return bool(packets)
