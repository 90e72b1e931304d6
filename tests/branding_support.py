"""Real clips for the branding tests, and how the tests look into what the engine wrote."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import av.logging
import numpy as np
from PIL import Image

from sample_clips import Segment, frames_for
from thumbnail_enhancement.layout import MatchText
from thumbnail_enhancement.renderer import load_logo
from video_branding import Branding

REPO = Path(__file__).resolve().parent.parent
SIZE = (640, 360)
FPS = 30
MATCH = MatchText.create(
    ["Nguyễn Văn Thành", "Phạm Thị Hồng Nhung"],
    ["Lê Hoàng Phúc", "Vy"],
    "Cafe Game",
    "Mixed Doubles",
    "2024-12-25T18:30:00+07:00",
)


def camera_clip(
    path: Path,
    seconds: float = 12,
    *,
    size: tuple[int, int] = SIZE,
    x264: str = "keyint=30:min-keyint=30:scenecut=0:bframes=3:b-pyramid=normal:ref=3",
    pix_fmt: str = "yuv420p",
    audio: bool = True,
    rotation: int = 0,
) -> Path:
    """A clip like a camera's: H.264 High profile with B-frames (reordered, DTS before PTS),
    a keyframe a second, and AAC audio."""
    container = av.open(str(path), mode="w")
    video = container.add_stream("libx264", rate=FPS)
    video.width, video.height = size
    video.pix_fmt = pix_fmt
    video.codec_context.options = {"preset": "veryfast", "x264-params": x264}
    if rotation:
        video.set_display_rotation(rotation)
    sound = container.add_stream("aac", rate=48000, layout="stereo") if audio else None
    samples = 0
    for index, image in enumerate(frames_for([Segment("rally", seconds)], FPS, size)):
        frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format=pix_fmt)
        frame.pts = index
        container.mux(video.encode(frame))
        while sound is not None and samples < (index + 1) / FPS * 48000:
            tone = np.sin(2 * np.pi * 440 * np.arange(samples, samples + 1024) / 48000)
            wave = (0.2 * tone).astype(np.float32)
            chunk = av.AudioFrame.from_ndarray(
                np.stack([wave, wave]), format="fltp", layout="stereo"
            )
            chunk.sample_rate, chunk.pts = 48000, samples
            container.mux(sound.encode(chunk))
            samples += 1024
    container.mux(video.encode(None))
    if sound is not None:
        container.mux(sound.encode(None))
    container.close()
    return path


def branding(
    seconds: float = 2.0, *, titles: bool = True, burn: bool = False, outro: str = "Thanks"
) -> Branding:
    return Branding(
        match=MATCH if titles else None,
        outro_text=outro if titles else None,
        title_seconds=seconds,
        burn_logo=burn,
        logo=load_logo(),
    )


@dataclass(frozen=True)
class Stored:
    pts: int
    dts: int | None  # as FFmpeg reads it (Matroska stores none: FFmpeg guesses them)
    keyframe: bool
    data: bytes

    @property
    def content(self) -> tuple[int, bool, bytes]:
        return self.pts, self.keyframe, self.data


def stored_packets(path: Path, kind: str = "video") -> list[Stored]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        return [
            Stored(packet.pts, packet.dts, packet.is_keyframe, bytes(packet))
            for packet in container.demux(stream)
            if packet.size
        ]


@dataclass(frozen=True)
class Decoded:
    frames: list[np.ndarray]  # grey, as coded
    times: list[float]
    rotation: int
    errors: list[str]  # FFmpeg's log lines at ERROR or worse while decoding


def decode_all(path: Path) -> Decoded:
    """Every frame decoded, with FFmpeg's error lines (a packet the decoder refuses is one
    more)."""
    frames, times, rotation, refused = [], [], 0, []
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.VERBOSE)
    try:
        with av.logging.Capture() as logs, av.open(str(path)) as container:
            stream = container.streams.video[0]
            for packet in container.demux(stream):  # its last one flushes the decoder
                try:
                    decoded = stream.decode(packet)
                except av.error.InvalidDataError as error:
                    refused.append(str(error))
                    continue
                for frame in decoded:
                    rotation = round(frame.rotation or 0) % 360
                    frames.append(frame.to_ndarray(format="gray").astype(np.int16))
                    times.append(float(frame.pts * stream.time_base))
    finally:
        av.logging.set_level(previous)
    errors = [message for level, _, message in logs if level <= av.logging.ERROR]
    return Decoded(frames, times, rotation, errors + refused)


def frame_at(decoded: Decoded, seconds: float) -> np.ndarray:
    index = min(range(len(decoded.times)), key=lambda i: abs(decoded.times[i] - seconds))
    return decoded.frames[index]


def displayed(frame: np.ndarray, rotation: int) -> np.ndarray:
    """The frame as a player shows it (its display matrix applied)."""
    return np.rot90(frame, k=rotation // 90)


def changed_share(first: np.ndarray, second: np.ndarray, threshold: int = 24) -> float:
    """The share of pixels that differ by more than `threshold` grey levels."""
    return float(np.mean(np.abs(first - second) > threshold))


def duration_of(path: Path) -> float:
    with av.open(str(path)) as container:
        return container.duration / av.time_base


def time_base_of(path: Path) -> Fraction:
    with av.open(str(path)) as container:
        return container.streams.video[0].time_base


def stream_codec(path: Path) -> tuple[str, str]:
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.name, context.pix_fmt


def span_ranges(packets: Sequence[Stored], source: Sequence[Stored]) -> list[tuple[int, int]]:
    """The decode-order index ranges where the branded packets differ from the source's."""
    ranges: list[tuple[int, int]] = []
    for index, (mine, theirs) in enumerate(zip(packets, source, strict=True)):
        if mine.content != theirs.content:
            if ranges and ranges[-1][1] == index:
                ranges[-1] = (ranges[-1][0], index + 1)
            else:
                ranges.append((index, index + 1))
    return ranges


# -- a real browser playing a copy -------------------------------------------------------------

PLAYER_PAGE = """<!doctype html><body><video id=v muted playsinline></video><canvas id=c></canvas>
<script>
window.played = {times: [], errors: [], ended: false, ready: false};
async function load(name) {
  played.ready = false;
  const video = document.getElementById("v");
  video.onerror = () => played.errors.push(video.error ? video.error.message || "error" : "?");
  video.onended = () => { played.ended = true; };
  const seen = (now, frame) => {
    played.times.push(frame.mediaTime);
    video.requestVideoFrameCallback(seen);
  };
  video.requestVideoFrameCallback(seen);
  // a blob: the whole file in memory, so that seeking needs no range requests
  video.src = URL.createObjectURL(await (await fetch(name)).blob());
  await new Promise(done => { video.onloadeddata = done; });
  played.ready = true;
}
async function picture(seconds) {
  const video = document.getElementById("v");
  video.currentTime = seconds;
  await new Promise(done => { video.onseeked = done; });
  const canvas = document.getElementById("c");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return canvas.toDataURL("image/png");
}
</script>"""


@contextmanager
def served_folder(folder: Path) -> Iterator[str]:
    """`folder` served over HTTP on a free local port, with the player page; yields its URL."""
    (folder / "player.html").write_text(PLAYER_PAGE, encoding="utf-8")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Not on the test's output."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/player.html"
    finally:
        server.shutdown()
        thread.join()


def grey_picture(data_url: str) -> np.ndarray:
    """A canvas's PNG (as toDataURL gives it) as grey levels."""
    png = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("L")).astype(np.int16)


# -- a real process running the engine, killed mid-encode -----------------------------------------

CHILD = """
import os, signal, sys
from pathlib import Path
from tests.branding_support import branding
from video_branding import brand_file

source, target, work = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
burn, seconds = sys.argv[4] == "burn", float(sys.argv[5])

def progress(done, total):
    # stop this whole process (every thread at once) as soon as one piece is finished and
    # others are still being encoded: the test then kills it
    finished = list(work.glob("piece-*.json"))
    if finished and not target.exists():
        os.kill(os.getpid(), signal.SIGSTOP)

brand_file(source, target, work, branding(seconds, burn=burn), progress)
"""


def kill_once_a_piece_is_finished(
    source: Path, target: Path, work: Path, burn: bool, seconds: float
) -> None:
    """Run the engine (titles of `seconds`) in a real process and SIGKILL it mid-encode, once
    a piece is finished."""
    arguments = [str(source), str(target), str(work), "burn" * burn, str(seconds)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *arguments],
        cwd=REPO,
    )
    try:
        _, status = os.waitpid(child.pid, os.WUNTRACED)  # returns once it stopped itself
        assert os.WIFSTOPPED(status), f"the engine ended before a piece was finished: {status}"
        child.kill()
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
