"""Decoding the source, laying the cards over it, encoding the result into pieces."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import av

from video_branding.encoders import Encoder
from video_branding.errors import DamagedVideoError
from video_branding.overlay import Showing, apply_all, plane_array
from video_branding.pieces import Piece, PieceWriter, WorkFolder
from video_branding.source import SourceVideo
from video_branding.spans import Span

log = logging.getLogger(__name__)

CHUNK_SECONDS = 20.0  # a full pass's pieces: cut at the first keyframe this long after the last

Encoded = Callable[[int], None]  # told of each frame encoded; may raise to stop the work


def _opened(source: SourceVideo) -> tuple[av.container.InputContainer, av.VideoStream]:
    container = av.open(str(source.path))
    stream = container.streams.video[0]
    stream.codec_context.thread_type = "AUTO"
    return container, stream


def _prepared(
    frame: av.VideoFrame, seconds: float, showings: Sequence[Showing], encoder: Encoder
) -> av.VideoFrame:
    frame = apply_all(frame, showings, seconds)
    if frame.format.name != encoder.pix_fmt:
        frame = frame.reformat(format=encoder.pix_fmt)
    return frame


def _copy(frame: av.VideoFrame) -> av.VideoFrame:
    copy = av.VideoFrame(frame.width, frame.height, frame.format.name)
    for index in range(len(frame.planes)):
        plane_array(copy, index)[:] = plane_array(frame, index)
    return copy


def encode_span(
    source: SourceVideo,
    span: Span,
    index: int,
    encoder: Encoder,
    showings: Sequence[Showing],
    work: WorkFolder,
    encoded: Encoded,
) -> Piece:
    """Re-encode the span's frames, cards laid over them, into piece `index`."""
    writer = PieceWriter(work, index, encoder, source)
    container, stream = _opened(source)
    try:
        container.seek(span.start_pts, stream=stream, backward=True, any_frame=False)
        decoded = _decoded(container, stream, span.position, len(span.dts))
        for pts, frame in _exactly(decoded, span, source):
            writer.add(_prepared(frame, source.seconds(pts), showings, encoder), pts)
            encoded(1)
        return writer.finish(span.end_pts, last=False)
    except BaseException:
        writer.discard()
        raise
    finally:
        container.close()


def _decoded(
    container: av.container.InputContainer, stream: av.VideoStream, position: int, count: int
) -> Iterator[av.VideoFrame]:
    """The frames of the `count` packets from the one at byte `position`, in display order;
    a packet the decoder refuses gives none."""
    taken = 0
    for packet in container.demux(stream):
        if not packet.size or (taken == 0 and packet.pos != position):
            continue
        yield from _decoded_packet(stream, packet)
        taken += 1
        if taken == count:
            break
    yield from _decoded_packet(stream, None)


def _exactly(
    frames: Iterator[av.VideoFrame], span: Span, source: SourceVideo
) -> Iterator[tuple[int, av.VideoFrame]]:
    """One frame for each of the span's timestamps, in order: a frame the damaged source
    cannot give is the next good one (the last good one at the end). A frame is handed out
    only once the next has come, so that the last can still be copied before it is drawn on."""
    expected = span.frames
    at = 0
    filled = 0
    held: tuple[int, av.VideoFrame] | None = None
    for frame in frames:
        if frame.pts is None or at >= len(expected) or frame.pts < expected[at]:
            continue
        while at < len(expected) and expected[at] < frame.pts:
            if held is not None:
                yield held
                held = None
            yield expected[at], _copy(frame)
            filled += 1
            at += 1
        if at < len(expected) and expected[at] == frame.pts:
            if held is not None:
                yield held
            held = (frame.pts, frame)
            at += 1
    if held is None:
        raise DamagedVideoError(
            f"{source.path}: the frames from {source.seconds(span.start_pts):.1f} s on cannot be "
            "decoded (the file is damaged there); copy the recording again from the camera, or "
            "set VIDEO_TITLES=off and VIDEO_WATERMARK=off to publish it as it is"
        )
    tail = [(pts, _copy(held[1])) for pts in expected[at:]]
    filled += len(tail)
    yield held
    yield from tail
    if filled:
        log.warning(
            "%s: %d frames between %.1f s and %.1f s cannot be decoded (the file is damaged "
            "there): the branded copy shows the nearest good frame in their place",
            source.path.name,
            filled,
            source.seconds(expected[0]),
            source.seconds(expected[-1]),
        )


@dataclass(frozen=True)
class Chunk:
    """A full pass's piece of work: from a keyframe to the next chunk's keyframe."""

    seek: int | None  # the keyframe's presentation timestamp; None: the file's start
    position: int | None  # the keyframe packet's byte position; None: the file's start


def chunks_of(source: SourceVideo) -> list[Chunk]:
    """The full pass's chunks: cut at the first keyframe CHUNK_SECONDS or more after the last
    cut (reading the packets, not decoding them)."""
    step = source.pts_at(CHUNK_SECONDS) - source.start_pts
    chunks = [Chunk(None, None)]
    last = None
    with av.open(str(source.path)) as container:
        for packet in container.demux(container.streams.video[0]):
            if not packet.size or not packet.is_keyframe or packet.pts is None:
                continue
            if last is None:
                last = packet.pts
            elif packet.pts - last >= step and packet.pos is not None and packet.pos >= 0:
                chunks.append(Chunk(packet.pts, packet.pos))
                last = packet.pts
    return chunks


def encode_chunk(
    source: SourceVideo,
    chunks: Sequence[Chunk],
    index: int,
    encoder: Encoder,
    showings: Sequence[Showing],
    work: WorkFolder,
    encoded: Encoded,
) -> Piece:
    """Every frame of chunk `index` re-encoded with the cards and the logo, into its piece."""
    chunk = chunks[index]
    following = chunks[index + 1].position if index + 1 < len(chunks) else None
    writer = PieceWriter(work, index, encoder, source)
    container, stream = _opened(source)
    try:
        if chunk.seek is not None:
            container.seek(chunk.seek, stream=stream, backward=True, any_frame=False)
        frames = _ChunkFrames(container, stream, chunk.position, following)
        for frame in frames:
            pts = frame.pts
            writer.add(_prepared(frame, source.seconds(pts), showings, encoder), pts)
            encoded(1)
        if not writer.frames:
            raise DamagedVideoError(
                f"{source.path}: the frames of its part {index + 1} cannot be decoded (the file "
                "is damaged there); copy the recording again from the camera"
            )
        return writer.finish(frames.stop_pts, last=following is None)
    except BaseException:
        writer.discard()
        raise
    finally:
        container.close()


class _ChunkFrames:
    """The chunk's frames in display order: from the keyframe at byte `start` (the file's
    first frame when None) to the frame before the keyframe at byte `following`, an open GOP's
    leading frames included. `stop_pts`: the first timestamp after the chunk, once read."""

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        start: int | None,
        following: int | None,
    ):
        self._container, self._stream = container, stream
        self._start, self._following = start, following
        self._first_pts: int | None = None
        self.stop_pts: int | None = None

    def __iter__(self) -> Iterator[av.VideoFrame]:
        for packet in self._container.demux(self._stream):
            if not packet.size:
                break
            if self._first_pts is None and self._start is not None:
                if packet.pos != self._start:
                    continue  # the seek landed before the chunk's keyframe
                self._first_pts = packet.pts
            if self._following is not None and packet.pos == self._following:
                self.stop_pts = packet.pts
            for frame in _decoded_packet(self._stream, packet):
                if self._past(frame):
                    return
                if self._within(frame):
                    yield frame
        for frame in _decoded_packet(self._stream, None):
            if self._past(frame):
                return
            if self._within(frame):
                yield frame

    def _past(self, frame: av.VideoFrame) -> bool:
        return self.stop_pts is not None and frame.pts is not None and frame.pts >= self.stop_pts

    def _within(self, frame: av.VideoFrame) -> bool:
        return frame.pts is not None and (self._first_pts is None or frame.pts >= self._first_pts)


def _decoded_packet(stream: av.VideoStream, packet: av.Packet | None) -> list[av.VideoFrame]:
    try:
        return stream.decode(packet)
    except av.error.InvalidDataError:
        return []
