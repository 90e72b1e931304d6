"""Whether a chooser window can open here: a reachable display, and OpenCV's own libraries."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import cv2

from errors import PipelineError

NO_DISPLAY_HELP = (
    "run it from a desktop session, or choose without a window with --pick N (1 = top-ranked)"
)


class NoDisplayError(PipelineError):
    """There is no display to open the chooser window on."""


def require_display() -> tuple[int, int] | None:
    """Check that a window can open; returns the screen size when the platform tells it.

    Checked before any OpenCV window call, because Qt aborts the whole process when it cannot
    connect to a display.
    """
    if not sys.platform.startswith("linux"):
        return None
    display = os.environ.get("DISPLAY", "")
    if not display:
        # this OpenCV build draws through X11 only: a Wayland session provides it via XWayland
        raise NoDisplayError(
            f"No display for the thumbnail chooser (DISPLAY is not set): {NO_DISPLAY_HELP}."
        )
    try:
        xlib = ctypes.CDLL("libX11.so.6")
    except OSError:
        return None  # cannot ask; Qt will try the display itself
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for name in ("XDefaultScreen", "XCloseDisplay"):
        getattr(xlib, name).argtypes = [ctypes.c_void_p]
    for name in ("XDisplayWidth", "XDisplayHeight"):
        getattr(xlib, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
    handle = xlib.XOpenDisplay(None)
    if not handle:
        raise NoDisplayError(
            f"No display for the thumbnail chooser (cannot connect to DISPLAY={display}): "
            f"{NO_DISPLAY_HELP}."
        )
    try:
        screen = xlib.XDefaultScreen(handle)
        return xlib.XDisplayWidth(handle, screen), xlib.XDisplayHeight(handle, screen)
    finally:
        xlib.XCloseDisplay(handle)


def check_opencv_libraries() -> None:
    """Refuse to open a window that would never appear.

    The Linux wheels of OpenCV and PyAV bundle the same xcb extension libraries under the same
    file names, and the dynamic loader gives both packages the copies of whichever was imported
    first. PyAV's copies talk to PyAV's own libxcb, so Qt then hangs for good creating its
    first window: a process that opens the chooser must import cv2 (this module) before av.
    """
    own = Path(cv2.__file__).resolve().parent.parent / "opencv_python.libs"
    try:
        names = {path.name for path in own.glob("libxcb*")}
        maps = Path("/proc/self/maps").read_text()
    except OSError:  # no /proc: nothing to check
        return
    # each line ends with the mapped file's path, the only "/" on the line
    mapped = {line[line.index("/") :] for line in maps.splitlines() if "/" in line}
    for path in sorted(mapped):
        directory, _, name = path.rpartition("/")
        if name in names and directory != str(own):
            raise RuntimeError(
                f"cannot open the chooser window: OpenCV would use {path} instead of its own "
                "copy (a package bundling it was imported first); import thumbnail_selector "
                "(or cv2) before av"
            )
