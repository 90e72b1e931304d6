"""Test data and a real chooser window under Xvfb, for the selector's tests and
bench/bench_selector.py.

Run as a script, it is the child process that opens the window:
`python tests/selector_support.py SPEC.json` calls `thumbnail_selector.choose()` on the
candidates of SPEC (each with an image path, or JPEG bytes in base64) and prints one JSON object
a line: `{"called_at": <time.monotonic()>}` before the call, `{"shown_ms": ...}` once the window
is painted, `{"chosen": <id or null>}` at the end.
Qt wants the main thread, hence a process of its own.
"""

from __future__ import annotations

import base64
import ctypes
import json
import logging
import os
import select
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from sample_clips import Segment, encode_clip, frames_for
from workspace import CANDIDATES_DIR, CANDIDATES_FILE, atomic_write_json, workspace_dir

REPO = Path(__file__).resolve().parents[1]
SCREEN = (1600, 1000)
GUI_TOOLS = ("Xvfb", "xdotool", "xwd")


def python_path() -> str:
    """PYTHONPATH for a child process that imports the project's modules."""
    return os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


def missing_gui_tools() -> list[str]:
    return [tool for tool in GUI_TOOLS if shutil.which(tool) is None]


# The marks of a module of tests in a real window (CI installs the tools; elsewhere they say why).
GUI_TESTS = [
    pytest.mark.gui,
    pytest.mark.skipif(
        bool(missing_gui_tools()),
        reason=f"needs {', '.join(missing_gui_tools())} (apt-get install xvfb xdotool x11-apps)",
    ),
]


@dataclass
class Display:
    name: str  # e.g. ":93"

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.name}

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env(), capture_output=True, text=True, timeout=10
        )
        return done.stdout


@contextmanager
def xvfb(screen: tuple[int, int] = SCREEN) -> Iterator[Display]:
    """A private Xvfb server; it picks a free display number and reports it when ready."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{screen[0]}x{screen[1]}x24",
            "-nolisten",
            "tcp",
            "-noreset",  # else the server resets, refusing clients, each time the last one leaves
        ],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as ready:
            number = ready.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield Display(f":{number}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def write_candidate_frames(directory: Path, count: int, size=(1920, 1080)) -> list[Path]:
    """`count` distinct match frames (the synthetic court of sample_clips) as JPEGs."""
    directory.mkdir(parents=True, exist_ok=True)
    kinds = ("rally", "walking", "rally", "empty", "rally", "overexposed", "rally", "pan_blur")
    segments = [Segment(kinds[index % len(kinds)], 1.0) for index in range(count)]
    paths = []
    for index, frame in enumerate(frames_for(segments, fps=1, size=size)):
        path = directory / f"frame_{index + 1}.jpg"
        cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    return paths


def candidate_spec(frames: list[Path]) -> list[dict]:
    return [
        {
            "id": f"cand-{index + 1}",
            "rank": index + 1,
            "score": round(0.94 - 0.06 * index, 3),
            "timestamp": 7.5 + 83.3 * index,
            "image": str(path),
        }
        for index, path in enumerate(frames)
    ]


def preview_spec(previews: list[bytes]) -> list[dict]:
    """Candidates carrying only their JPEG bytes, as previews that came through Temporal."""
    return [
        {
            "id": f"cand-{index + 1}",
            "rank": index + 1,
            "score": round(0.94 - 0.06 * index, 3),
            "timestamp": 7.5 + 83.3 * index,
            "jpeg_base64": base64.b64encode(preview).decode(),
        }
        for index, preview in enumerate(previews)
    ]


def ranked_video(input_dir: Path, name: str, count: int = 6) -> Path:
    """A real clip in INPUT_DIR whose workspace holds `count` candidates, as `rank` leaves them
    (candidates/ + candidates.json in the shared contract's format)."""
    video = encode_clip(input_dir / name, [Segment("rally", 1.0)], size=(320, 180))
    directory = workspace_dir(video)
    frames = write_candidate_frames(directory / CANDIDATES_DIR, count, size=(640, 360))
    entries = []
    for rank, frame in enumerate(frames, 1):
        timestamp = 12.5 * rank
        renamed = frame.with_name(f"{rank:02d}_{int(timestamp * 1000)}ms.jpg")
        frame.rename(renamed)
        entries.append(
            {
                "id": f"{video.stem}-{rank:02d}",
                "rank": rank,
                "score": round(1 - rank / 10, 2),
                "metrics": {"sharpness": 0.5, "brightness": 0.5},
                "timestamp": timestamp,
                "file": f"{CANDIDATES_DIR}/{renamed.name}",
            }
        )
    atomic_write_json(
        directory / CANDIDATES_FILE, {"video_file": video.name, "candidates": entries}
    )
    return video


class Chooser:
    """A child process running `choose()` on `candidates`, reporting on its stdout; `env`
    adds to or replaces its environment variables."""

    def __init__(
        self,
        display: Display,
        title: str,
        candidates: list[dict],
        spec_path: Path,
        env: dict[str, str] | None = None,
    ):
        spec_path.write_text(json.dumps({"title": title, "candidates": candidates}))
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(spec_path)],
            env={**display.env(), "PYTHONPATH": python_path(), **(env or {})},
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.reports: dict = {}
        self._pending = b""

    def _read_until(self, key: str, timeout: float) -> None:
        # raw reads: a buffered readline() could hold a second line that select() never sees
        stdout = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while key not in self.reports:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([stdout], [], [], remaining)[0]:
                raise TimeoutError(f"the chooser did not report {key!r} within {timeout} s")
            chunk = os.read(stdout, 65536)
            if not chunk:
                self.process.wait()
                raise RuntimeError(f"the chooser exited early: {self.stderr()}")
            self._pending += chunk
            *lines, self._pending = self._pending.split(b"\n")
            for line in lines:
                self.reports.update(json.loads(line))

    def wait_until_shown(self, timeout: float = 15) -> dict:
        """Blocks until the window has been painted and reads input (keys typed before that
        can be merged by Qt, which keeps only the last key of a batch)."""
        self._read_until("shown_ms", timeout)
        return self.reports

    def result(self, timeout: float = 10) -> tuple[str | None, str]:
        """(chosen id or None, stderr) once the child has exited (exit status 0 required)."""
        try:
            self._read_until("chosen", timeout)
            self.process.wait(timeout=timeout)
        finally:
            self.stop()
        stderr = self.stderr()
        if self.process.returncode != 0:
            raise RuntimeError(f"the chooser exited {self.process.returncode}: {stderr}")
        return self.reports["chosen"], stderr

    def stderr(self) -> str:
        return self.process.stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class Window:
    id: str
    x: int
    y: int
    width: int
    height: int

    def screen_point(self, canvas_size: tuple[int, int], point: tuple[int, int]) -> tuple[int, int]:
        """Where a canvas pixel is on the screen (the window may be scaled)."""
        return (
            self.x + round(point[0] * self.width / canvas_size[0]),
            self.y + round(point[1] * self.height / canvas_size[1]),
        )


def wait_for_window(
    display: Display, title: str, size: tuple[int, int], timeout: float = 15
) -> Window:
    """The chooser's window once it is visible, titled and at its final size."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for window_id in display.xdotool("search", "--onlyvisible", "--name", title).split():
            shell = display.xdotool("getwindowgeometry", "--shell", window_id)
            geometry = dict(line.split("=", 1) for line in shell.split())
            window = Window(
                window_id,
                int(geometry["X"]),
                int(geometry["Y"]),
                int(geometry["WIDTH"]),
                int(geometry["HEIGHT"]),
            )
            if (window.width, window.height) == size:
                return window
        time.sleep(0.02)
    raise TimeoutError(f"no visible window titled {title!r} of size {size} within {timeout} s")


def grab(display: Display, window_id: str) -> Image.Image:
    """The window as the X server shows it."""
    dump = subprocess.run(
        ["xwd", "-silent", "-id", window_id],
        env=display.env(),
        capture_output=True,
        check=True,
        timeout=10,
    ).stdout
    return xwd_to_image(dump)


def ensure_painted(display: Display, window_id: str, timeout: float = 10) -> None:
    """Map the window again, as a window manager would, and wait until it shows something.

    Without a window manager, Qt 5 misses the MapNotify of its first window in about one run
    in five and never paints it (xwininfo says viewable; Qt's event log has no MapNotify; input
    still works). Under a window manager (twm) that never happened in 50 runs, so an operator
    does not meet it; mapping the window again gives Qt the MapNotify.
    """
    display.xdotool("windowunmap", "--sync", window_id)
    display.xdotool("windowmap", "--sync", window_id)
    deadline = time.monotonic() + timeout
    while np.asarray(grab(display, window_id)).max() == 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"window {window_id} stays black")
        time.sleep(0.02)


@cache
def _xlib() -> ctypes.CDLL:
    xlib = ctypes.CDLL("libX11.so.6")
    pointer, ulong, c_int = ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int
    xlib.XOpenDisplay.restype = pointer
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [pointer]
    xlib.XFlush.argtypes = [pointer]
    xlib.XInternAtom.restype = ulong
    xlib.XInternAtom.argtypes = [pointer, ctypes.c_char_p, c_int]
    xlib.XSendEvent.argtypes = [pointer, ulong, c_int, ctypes.c_long, pointer]
    xlib.XDefaultRootWindow.restype = ulong
    xlib.XDefaultRootWindow.argtypes = [pointer]
    xlib.XGetImage.restype = pointer
    xlib.XGetImage.argtypes = [
        pointer,
        ulong,
        c_int,
        c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ulong,
        c_int,
    ]
    xlib.XGetPixel.restype = ulong
    xlib.XGetPixel.argtypes = [pointer, c_int, c_int]
    xlib.XDestroyImage.argtypes = [pointer]
    return xlib


@contextmanager
def x_connection(display: Display) -> Iterator[int]:
    """An Xlib connection of our own to `display` (its Display* as an int)."""
    handle = _xlib().XOpenDisplay(display.name.encode())
    if not handle:
        raise RuntimeError(f"cannot open display {display.name}")
    try:
        yield handle
    finally:
        _xlib().XCloseDisplay(handle)


def screen_pixel(connection: int, x: int, y: int) -> tuple[int, int, int]:
    """The RGB colour on the screen at (x, y), read from the X server (a fraction of a ms)."""
    xlib = _xlib()
    all_planes, z_pixmap = ctypes.c_ulong(-1).value, 2
    root = xlib.XDefaultRootWindow(connection)
    image = xlib.XGetImage(connection, root, x, y, 1, 1, all_planes, z_pixmap)
    try:
        value = xlib.XGetPixel(image, 0, 0)  # 0xRRGGBB on a 24-bit TrueColor screen
    finally:
        xlib.XDestroyImage(image)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def request_close(display: Display, window_id: str) -> None:
    """What a window manager sends when the close button is clicked: a WM_DELETE_WINDOW
    client message (xdotool's windowclose destroys the window instead, which Qt ignores)."""

    class ClientMessage(ctypes.Structure):
        _fields_ = [
            ("type", ctypes.c_int),
            ("serial", ctypes.c_ulong),
            ("send_event", ctypes.c_int),
            ("display", ctypes.c_void_p),
            ("window", ctypes.c_ulong),
            ("message_type", ctypes.c_ulong),
            ("format", ctypes.c_int),
            ("data", ctypes.c_long * 5),
        ]

    class Event(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    xlib = _xlib()
    with x_connection(display) as handle:
        event = Event()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = int(window_id)
        event.xclient.message_type = xlib.XInternAtom(handle, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = xlib.XInternAtom(handle, b"WM_DELETE_WINDOW", 0)
        xlib.XSendEvent(handle, int(window_id), 0, 0, ctypes.byref(event))
        xlib.XFlush(handle)


def xwd_to_image(data: bytes) -> Image.Image:
    """Decode an `xwd` dump of a 24/32-bit TrueColor screen (what Xvfb -screen ...x24 gives)."""
    header = struct.unpack(">25I", data[:100])
    header_size, _version, _format, depth, width, height = header[:6]
    byte_order, bits_per_pixel, bytes_per_line = header[7], header[11], header[12]
    red_mask, green_mask, blue_mask = header[14:17]
    colours = header[19]
    if bits_per_pixel != 32 or depth < 24:
        raise ValueError(f"unsupported xwd: depth {depth}, {bits_per_pixel} bits a pixel")
    start = header_size + 12 * colours
    pixels = np.frombuffer(data, dtype="<u4" if byte_order == 0 else ">u4", offset=start)
    pixels = pixels[: height * bytes_per_line // 4].reshape(height, bytes_per_line // 4)[:, :width]

    def channel(mask: int) -> np.ndarray:
        shift = (mask & -mask).bit_length() - 1
        return ((pixels & mask) >> shift).astype(np.uint8)

    rgb = np.dstack([channel(red_mask), channel(green_mask), channel(blue_mask)])
    return Image.fromarray(rgb, "RGB")


def screenshot(display: Display, window_id: str, path: Path) -> Path:
    """A PNG of the window as the X server shows it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    grab(display, window_id).save(path)
    return path


class _ReportShown(logging.Handler):
    """Prints the chooser's own "shown" timing (logged right after the first paint)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("chooser shown"):
            print(json.dumps({"shown_ms": record.args[0]}), flush=True)


def _image(candidate: dict) -> Path | bytes:
    if "jpeg_base64" in candidate:
        return base64.b64decode(candidate["jpeg_base64"])
    return Path(candidate["image"])


def _child(spec_path: Path) -> None:
    from thumbnail_selector import SelectableCandidate, choose

    selector_log = logging.getLogger("chooser_window")
    selector_log.setLevel(logging.DEBUG)
    selector_log.addHandler(_ReportShown())
    spec = json.loads(spec_path.read_text())
    candidates = [
        SelectableCandidate(c["id"], c["rank"], c["score"], c["timestamp"], _image(c))
        for c in spec["candidates"]
    ]
    print(json.dumps({"called_at": time.monotonic()}), flush=True)
    chosen = choose(candidates, spec["title"])
    print(json.dumps({"chosen": chosen}), flush=True)


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
