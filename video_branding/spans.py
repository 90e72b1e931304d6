"""Which keyframe intervals the titles touch, cut where a splice is sound.

A span is re-encoded whole and the packets around it are copied. It starts at an IDR frame
(nothing after it refers to a frame before) and ends just before the next IDR frame that is a
clean cut: no frame displayed before it comes after it in decode order (an open GOP's leading
B-frames would refer to frames the span replaced), and none decoded before it is displayed after
it. A span's frames are exactly its packets' (the same count and timestamps); the re-encoded
frames take the span's decode timestamps in order, which keeps them rising and continuous at
both splices whatever the source's B-frames.

Finding a span reads only the packets near it: the start of the file for the intro, a seek near
the end for the outro.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import av

from video_branding.h264 import Avcc, BitstreamError, is_idr
from video_branding.source import SourceVideo


@dataclass(frozen=True)
class Span:
    start_pts: int  # its first frame's, an IDR frame
    end_pts: int | None  # the first frame's after it; None: it runs to the end
    position: int  # its first packet's byte position in the file
    dts: tuple[int, ...]  # its packets' decode timestamps, in decode order
    frames: tuple[int, ...]  # its frames' presentation timestamps, in order
    durations: tuple[int, ...]  # each frame's duration, as `frames`
    reordered: bool  # some frame is decoded before one it is shown after (B-frames)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        return cls(
            data["start_pts"],
            data["end_pts"],
            data["position"],
            tuple(data["dts"]),
            tuple(data["frames"]),
            tuple(data["durations"]),
            data["reordered"],
        )


@dataclass(frozen=True)
class _Packet:
    pts: int
    dts: int | None  # Matroska stores none: FFmpeg guesses them, not for the first few
    position: int
    duration: int
    keyframe: bool
    idr: bool


class NoCleanCutError(Exception):
    """No sound place to splice within the allowed share of the video; says why."""


def _packets(container: av.container.InputContainer, avcc: Avcc) -> Iterator[_Packet]:
    stream = container.streams.video[0]
    for packet in container.demux(stream):
        if not packet.size:
            continue  # the demuxer's end-of-stream marker
        if packet.pts is None or packet.pos is None or packet.pos < 0:
            raise NoCleanCutError("its video packets lack timestamps or positions")
        idr = False
        if packet.is_keyframe:
            try:
                idr = is_idr(bytes(packet), avcc.length_size)
            except BitstreamError:
                idr = False
        yield _Packet(
            packet.pts, packet.dts, packet.pos, packet.duration or 0, packet.is_keyframe, idr
        )


def _span(packets: list[_Packet], end_pts: int | None) -> Span:
    ordered = sorted(packets, key=lambda packet: packet.pts)
    return Span(
        start_pts=ordered[0].pts,
        end_pts=end_pts,
        position=packets[0].position,
        dts=_decode_times(packets),
        frames=tuple(packet.pts for packet in ordered),
        durations=tuple(packet.duration for packet in ordered),
        reordered=any(later.pts < earlier.pts for earlier, later in itertools.pairwise(packets)),
    )


def _decode_times(packets: list[_Packet]) -> tuple[int, ...]:
    """The packets' decode timestamps; the first ones Matroska leaves unknown are counted back
    from the first known one, a frame's duration apart (at most the frames' own times: the
    packets that take them have no reordering)."""
    known = next((i for i, packet in enumerate(packets) if packet.dts is not None), None)
    if known is None:
        raise NoCleanCutError("its video packets lack decode timestamps")
    first = packets[known].dts or 0
    step = min((p.duration for p in packets if p.duration), default=1)
    lowest = min(packet.pts for packet in packets)
    guessed = [min(first - (known - i) * step, lowest - (known - i)) for i in range(known)]
    return (*guessed, *(packet.dts if packet.dts is not None else 0 for packet in packets[known:]))


class _Cuts:
    """Finds the clean cuts among packets in decode order; remembers whether a keyframe was
    refused for being an open GOP's (not IDR, or with leading pictures)."""

    def __init__(self) -> None:
        self.seen: list[_Packet] = []
        self.open_gop = False

    def __call__(self, packets: Iterable[_Packet]) -> Iterator[int]:
        """The cuts (indices into `seen`, which fills as it reads), each yielded once proven:
        at the next keyframe, or at the end. The first packet is never one: what was decoded
        before it is not known."""
        seen = self.seen
        previous_key: int | None = None
        pending: int | None = None
        for packet in packets:
            index = len(seen)
            seen.append(packet)
            if not packet.keyframe:
                if pending is not None and packet.pts < seen[pending].pts:
                    pending = None  # a leading picture: an open GOP
                    self.open_gop = True
                continue
            if pending is not None:
                yield pending
            pending = None
            if previous_key is not None:
                shown_before = all(earlier.pts < packet.pts for earlier in seen[previous_key:index])
                if packet.idr and shown_before:
                    pending = index
                else:
                    self.open_gop = True
            previous_key = index
        if pending is not None:
            yield pending


def _within(
    packets: Iterable[_Packet], limit_pts: int, why: Callable[[], str]
) -> Iterator[_Packet]:
    """The packets up to the first keyframe past `limit_pts` (which proves a cut before it)."""
    for packet in packets:
        yield packet
        if packet.pts > limit_pts and packet.keyframe:
            raise NoCleanCutError(why())


def _split(
    seen: list[_Packet], cuts: Iterable[int], end: int, end_pts: int | None, length: int
) -> list[Span]:
    """`seen[:end]` (from its first packet) as spans cut at clean `cuts`, each at least
    `length` long but the last: pieces that several threads encode at once, and a resumed run
    takes as they are."""
    spans, begin = [], 0
    for cut in cuts:
        if 0 < cut < end and seen[cut].pts - seen[begin].pts >= length:
            spans.append(_span(seen[begin:cut], seen[cut].pts))
            begin = cut
    spans.append(_span(seen[begin:end], end_pts))
    return spans


def intro_spans(
    source: SourceVideo, avcc: Avcc, until_pts: int, limit_pts: int, length: int
) -> list[Span]:
    """The spans from the first frame to the first clean cut at or after `until_pts`, or to
    the end, each at least `length` long; a keyframe past `limit_pts` before that cut is too
    far."""
    cuts = _Cuts()
    seen = cuts.seen
    found: list[int] = []
    with av.open(str(source.path)) as container:
        packets = _within(_packets(container, avcc), limit_pts, lambda: _too_far(cuts))
        for cut in cuts(packets):
            if not seen[0].idr:
                break
            if seen[cut].pts >= until_pts:
                return _split(seen, found, cut, seen[cut].pts, length)
            found.append(cut)
    if not seen:
        raise NoCleanCutError("it has no video packets")
    if not seen[0].idr:
        raise NoCleanCutError("its first frame is not an IDR frame")
    return _split(seen, found, len(seen), None, length)


def outro_spans(
    source: SourceVideo, avcc: Avcc, from_pts: int, limit_pts: int, length: int
) -> list[Span]:
    """The spans from the last clean cut at or before `from_pts` to the end, each at least
    `length` long; a cut before `limit_pts` is not looked for."""
    step = max(source.pts_at(10) - source.start_pts, 1)
    while True:
        seek_to = max(source.start_pts, from_pts - step)
        cuts = _Cuts()
        seen = cuts.seen
        with av.open(str(source.path)) as container:
            stream = container.streams.video[0]
            container.seek(seek_to, stream=stream, backward=True, any_frame=False)
            found = list(cuts(_packets(container, avcc)))
        before = [cut for cut in found if seen[cut].pts <= from_pts]
        if before:
            first = before[-1]
            after = [cut - first for cut in found if cut > first]
            return _split(seen[first:], after, len(seen) - first, None, length)
        if seek_to <= source.start_pts or seek_to < limit_pts:
            raise NoCleanCutError(_too_far(cuts))
        step *= 4


def _too_far(cuts: _Cuts) -> str:
    if cuts.open_gop:
        return (
            "its keyframes are not IDR frames (open GOPs): the frames after a splice would "
            "refer to re-encoded ones"
        )
    return (
        "its keyframes are too far apart: no clean cut within a minute of where a title "
        "begins or ends"
    )
