"""Writing the branded copy from the source's packets and the finished pieces.

`splice`: every packet of the source is copied as it is (bytes, timestamps, flags), except the
spans' video packets, each replaced by the piece's frame of the same presentation time, which
takes the replaced packet's decode timestamp. The track's avcC lists the source's parameter
sets and then the pieces' (their own ids).

`concatenate`: the pieces' video one after the other, the source's audio copied beside it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av

from video_branding.h264 import Avcc, join_length_prefixed, split_length_prefixed
from video_branding.pieces import Piece, WorkFolder
from video_branding.source import SourceVideo
from video_branding.spans import Span

PIECE_LENGTH_SIZE = 4  # the mp4 muxer stores the pieces' NAL units behind 4-byte lengths


class SpliceError(RuntimeError):
    """A piece does not fit its span: a bug, never a problem with the video."""


def _exact(value: Fraction, what: str) -> int:
    if value.denominator != 1:
        raise SpliceError(f"{what} falls between two ticks of the source's time base")
    return int(value)


def _piece_packets(
    work: WorkFolder, piece: Piece, time_base: Fraction
) -> Iterator[tuple[av.Packet, int, int]]:
    """The piece's video packets with their presentation and decode timestamps on the source's
    timeline, in `time_base`."""
    with av.open(str(work.piece_path(piece.index))) as container:
        stream = container.streams.video[0]
        scale = stream.time_base / time_base
        for packet in container.demux(stream):
            if packet.dts is None or packet.pts is None:
                continue
            pts = piece.start_pts + _exact(packet.pts * scale, "a piece's frame")
            dts = piece.start_pts + _exact(packet.dts * scale, "a piece's frame")
            packet.duration = round(packet.duration * scale)
            yield packet, pts, dts


def _parameter_sets(work: WorkFolder, piece: Piece) -> Avcc:
    with av.open(str(work.piece_path(piece.index))) as container:
        return Avcc.parse(container.streams.video[0].codec_context.extradata or b"")


def _output(path: Path, source: SourceVideo) -> av.container.OutputContainer:
    return av.open(str(path), mode="w", format=source.muxer)


def splice(
    source: SourceVideo,
    spans: Sequence[Span],
    piece_of: Callable[[int], Piece],
    work: WorkFolder,
    avcc: Avcc,
    target: Path,
    copied: Callable[[int], None],
) -> None:
    """Write `target`: the source with each span's packets replaced by its piece's.
    `piece_of(i)` returns span i's finished piece (waiting for it if need be); `copied(n)` is
    told of every n video packets copied."""
    # The header (with the avcC) is written at the first packet: the first piece's parameter
    # sets must be known before; the others' are the same (one encoder, the same settings).
    parameter_sets = _parameter_sets(work, piece_of(0))
    with av.open(str(source.path)) as reader, _output(target, source) as writer:
        writer.metadata.update(reader.metadata)
        video_in = reader.streams.video[0]
        video_out = writer.add_stream_from_template(video_in)
        video_out.codec_context.extradata = avcc.with_parameter_sets(parameter_sets).to_bytes()
        outputs = {video_in.index: video_out}
        for audio in reader.streams.audio:
            outputs[audio.index] = writer.add_stream_from_template(audio)
        next_span = 0
        replacing: _Replacement | None = None
        since_report = 0
        for packet in reader.demux([video_in, *reader.streams.audio]):
            if not packet.size:
                continue  # the demuxer's end-of-stream marker
            if packet.stream_index != video_in.index:
                packet.stream = outputs[packet.stream_index]
                writer.mux(packet)
                continue
            if next_span < len(spans) and packet.pos == spans[next_span].position:
                piece = piece_of(next_span)
                if _parameter_sets(work, piece) != parameter_sets:
                    raise SpliceError("the pieces were encoded with different parameter sets")
                replacing = _Replacement(
                    spans[next_span], _piece_packets(work, piece, source.time_base)
                )
                next_span += 1
            if replacing is not None:
                writer.mux(replacing.next_for(packet, video_out, source.time_base, avcc))
                if replacing.done:
                    replacing.finish()
                    replacing = None
                continue
            packet.stream = video_out
            writer.mux(packet)
            since_report += 1
            if since_report == 250:
                copied(since_report)
                since_report = 0
        if replacing is not None or next_span < len(spans):
            raise SpliceError("the source ended inside a span")
        copied(since_report)


class _Replacement:
    """Hands out a span's re-encoded packets, one for each of the span's source packets."""

    def __init__(self, span: Span, packets: Iterator[tuple[av.Packet, int, int]]):
        self.span = span
        self._packets = packets
        self._frames = set(span.frames)
        self._durations = dict(zip(span.frames, span.durations, strict=True))
        self._given = 0

    @property
    def done(self) -> bool:
        return self._given == len(self.span.dts)

    def next_for(
        self, replaced: av.Packet, stream: av.VideoStream, time_base: Fraction, avcc: Avcc
    ) -> av.Packet:
        packet, pts, _ = next(self._packets, (None, 0, 0))
        if packet is None or pts not in self._frames:
            raise SpliceError("a piece does not hold its span's frames")
        if avcc.length_size != PIECE_LENGTH_SIZE:
            units = split_length_prefixed(bytes(packet), PIECE_LENGTH_SIZE)
            keyframe = packet.is_keyframe
            packet = av.Packet(join_length_prefixed(units, avcc.length_size))
            packet.is_keyframe = keyframe
        packet.stream = stream
        packet.time_base = time_base
        packet.pts = pts
        packet.dts = self.span.dts[self._given]
        packet.duration = self._durations[pts] or replaced.duration
        self._given += 1
        return packet

    def finish(self) -> None:
        if next(self._packets, None) is not None:
            raise SpliceError("a piece holds more frames than its span")


def concatenate(
    source: SourceVideo,
    count: int,
    piece_of: Callable[[int], Piece],
    work: WorkFolder,
    target: Path,
) -> None:
    """Write `target`: the `count` pieces' video in order (`piece_of(i)` waits for piece i),
    and the source's audio as it is."""
    with av.open(str(work.piece_path(piece_of(0).index))) as first:
        template = first.streams.video[0]
        with av.open(str(source.path)) as reader, _output(target, source) as writer:
            writer.metadata.update(reader.metadata)
            video_out = writer.add_stream_from_template(template)
            if source.layout.rotation:
                video_out.set_display_rotation(source.layout.rotation)
            outputs = {
                audio.index: writer.add_stream_from_template(audio)
                for audio in reader.streams.audio
            }
            time_base = source.time_base

            def video() -> Iterator[tuple[Fraction, int, av.Packet]]:
                expected: int | None = None
                for number in range(count):
                    piece = piece_of(number)
                    if expected is not None and piece.start_pts != expected:
                        raise SpliceError("the pieces of the full pass do not follow each other")
                    for packet, pts, dts in _piece_packets(work, piece, time_base):
                        packet.time_base = time_base
                        packet.pts, packet.dts = pts, dts
                        packet.stream = video_out
                        yield dts * time_base, 0, packet
                    expected = piece.end_pts

            def audio() -> Iterator[tuple[Fraction, int, av.Packet]]:
                if not outputs:
                    return
                for packet in reader.demux(list(reader.streams.audio)):
                    if not packet.size or packet.dts is None:
                        continue
                    stamp = packet.dts * packet.time_base
                    packet.stream = outputs[packet.stream_index]
                    yield stamp, 1, packet

            for _, _, packet in heapq.merge(video(), audio(), key=lambda item: item[:2]):
                writer.mux(packet)
