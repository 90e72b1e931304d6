"""How fast the thumbnail chooser opens: 9 candidates from 1080p frames. Target: 500 ms.

Each run starts a fresh process (so Qt initialises from scratch, as in `main.py select`) and
times from the call to the moment its picture is on the X server's screen, read back through
Xlib at one pixel (a fraction of a millisecond a read, same monotonic clock as the child):
  - chooser: `thumbnail_selector.choose()` on the 9 JPEGs; painted once the first tile's label
    band shows the highlight colour, which only the chooser's own frame has;
  - chooser, previews: the same with the candidates' previews as bytes
    (`thumbnail_ranking.preview_jpeg`, what a chooser on another machine gets through Temporal);
  - baseline: the least an OpenCV window costs: `cv2.imread` of one of the JPEGs and
    `cv2.imshow` of it; painted once a pixel of the window shows that frame's pixel.
"mapped" is when the window is first visible (xdotool search --onlyvisible). The pixel is read
from then on, so a paint before it counts as then: "painted" is an upper bound.
Without a window manager Qt now and then misses the MapNotify of its first window and never
paints it (see tests/selector_support.ensure_painted); such runs are mapped again, counted and
left out of the figures. Uses $DISPLAY, or starts its own Xvfb when DISPLAY is unset.

    python bench/bench_selector.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, and its tests/

import cv2

from tests.selector_support import (
    Chooser,
    Display,
    candidate_spec,
    missing_gui_tools,
    preview_spec,
    python_path,
    screen_pixel,
    write_candidate_frames,
    x_connection,
    xvfb,
)
from thumbnail_ranking import preview_jpeg
from thumbnail_selector import ACCENT, layout

TARGET_MS = 500
TITLE = "bench_selector.mp4"
BASELINE_TITLE = "bench_baseline"
BASELINE_PROBE = (400, 300)  # a pixel of the frame that is on screen with the window at (0, 0)
MISSED_MAP_AFTER_S = 3.0
# imports first, like the chooser's child; then the clock starts and the window is opened
BASELINE_CHILD = f"""
import json, sys, time
import cv2
print(json.dumps({{"called_at": time.monotonic()}}), flush=True)
frame = cv2.imread(sys.argv[1])
cv2.namedWindow("{BASELINE_TITLE}", cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
cv2.moveWindow("{BASELINE_TITLE}", 0, 0)
cv2.imshow("{BASELINE_TITLE}", frame)
while cv2.waitKey(30) != 27:
    pass
"""

Geometry = tuple[int, int, int, int]  # x, y, width, height on the screen
Probe = Callable[[Geometry], tuple[tuple[int, int], tuple[int, int, int]]]


def find_window(display: Display, title: str, alive: Callable[[], bool]) -> tuple[float, str]:
    """(time.monotonic() at which a window titled `title` is first visible, its id)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and alive():
        found = display.xdotool("search", "--onlyvisible", "--name", title).split()
        if found:
            return time.monotonic(), found[0]
    raise RuntimeError(f"no window titled {title!r} appeared")


def geometry(display: Display, window_id: str) -> Geometry:
    shell = display.xdotool("getwindowgeometry", "--shell", window_id)
    values = dict(line.split("=", 1) for line in shell.split())
    return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])


def time_painted(
    display: Display, connection: int, window_id: str, point: tuple[int, int], colour
) -> float | None:
    """time.monotonic() at which the screen shows `colour` at `point`; None when Qt missed the
    MapNotify (the window is then mapped again so the run can end normally)."""
    deadline = time.monotonic() + MISSED_MAP_AFTER_S
    while time.monotonic() < deadline:
        if screen_pixel(connection, *point) == colour:
            return time.monotonic()
        time.sleep(0.001)
    display.xdotool("windowunmap", "--sync", window_id)
    display.xdotool("windowmap", "--sync", window_id)
    return None


def chooser_probe(window: Geometry) -> tuple[tuple[int, int], tuple[int, int, int]]:
    x, y, width, height = window
    band = layout(9, (width, height)).labels[0]
    return (x + band.x + 2, y + band.y + 2), tuple(reversed(ACCENT))


def baseline_probe(frame: Path) -> Probe:
    expected = tuple(int(v) for v in reversed(cv2.imread(str(frame))[BASELINE_PROBE[::-1]]))

    def probe(window: Geometry) -> tuple[tuple[int, int], tuple[int, int, int]]:
        return (window[0] + BASELINE_PROBE[0], window[1] + BASELINE_PROBE[1]), expected

    return probe


def one_run(
    display: Display,
    connection: int,
    start: Callable[[], subprocess.Popen],
    title: str,
    probe: Probe,
) -> tuple[float, float | None]:
    """(mapped ms, painted ms or None) after the call."""
    process = start()
    try:
        called_at = json.loads(process.stdout.readline())["called_at"]
        mapped_at, window_id = find_window(display, title, lambda: process.poll() is None)
        point, colour = probe(geometry(display, window_id))
        painted_at = time_painted(display, connection, window_id, point, colour)
        display.xdotool("windowfocus", "--sync", window_id)
        display.xdotool("key", "Escape")
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    mapped = (mapped_at - called_at) * 1000
    return mapped, None if painted_at is None else (painted_at - called_at) * 1000


def summary(label: str, values: list[float]) -> float:
    median = statistics.median(values)
    print(f"  {label}: median {median:.0f} ms (min {min(values):.0f}, max {max(values):.0f})")
    return median


def measure(display: Display, runs: int) -> None:
    with tempfile.TemporaryDirectory() as scratch, x_connection(display) as connection:
        workdir = Path(scratch)
        frames = write_candidate_frames(workdir / "frames", 9, size=(1920, 1080))
        spec = candidate_spec(frames)
        previews = [preview_jpeg(frame) for frame in frames]
        print(
            f"9 candidates, 1920x1080 JPEGs (previews: {min(map(len, previews)) / 1000:.1f}-"
            f"{max(map(len, previews)) / 1000:.1f} KB), display {display.name}, "
            f"{os.cpu_count()} cores"
        )

        def chooser() -> subprocess.Popen:
            return Chooser(display, TITLE, spec, workdir / "spec.json").process

        def chooser_previews() -> subprocess.Popen:
            return Chooser(display, TITLE, preview_spec(previews), workdir / "spec.json").process

        def baseline() -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-c", BASELINE_CHILD, str(frames[0])],
                env={**display.env(), "PYTHONPATH": python_path()},
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )

        kinds = {
            "chooser": (chooser, TITLE, chooser_probe),
            "chooser, previews": (chooser_previews, TITLE, chooser_probe),
            "baseline": (baseline, BASELINE_TITLE, baseline_probe(frames[0])),
        }
        for kind in kinds.values():  # warm the disk cache and Python's bytecode
            one_run(display, connection, *kind)
        results: dict[str, dict[str, list[float]]] = {
            name: {"mapped": [], "painted": []} for name in kinds
        }
        missed = {name: 0 for name in kinds}
        for run in range(1, runs + 1):
            line = f"  run {run}:"
            for name, kind in kinds.items():  # side by side, alternating
                mapped, painted = one_run(display, connection, *kind)
                results[name]["mapped"].append(mapped)
                if painted is None:
                    missed[name] += 1
                    line += f"   {name} mapped {mapped:6.1f} ms, never painted (missed MapNotify)"
                else:
                    results[name]["painted"].append(painted)
                    line += f"   {name} mapped {mapped:6.1f} ms painted {painted:6.1f} ms"
            print(line)

    medians = {}
    for name in kinds:
        print(f"{name} (runs without a missed MapNotify: {runs - missed[name]} of {runs}):")
        summary("call -> mapped", results[name]["mapped"])
        if results[name]["painted"]:
            medians[name] = summary("call -> painted", results[name]["painted"])
    if "baseline" not in medians:
        return
    for name, ours in medians.items():
        if name == "baseline":
            continue
        verdict = "PASS" if ours <= TARGET_MS else "MISS"
        print(
            f"{name} / baseline (painted, medians): {ours / medians['baseline']:.2f} x; "
            f"{name} = {ours / TARGET_MS:.2f} x the {TARGET_MS} ms target: {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    existing = os.environ.get("DISPLAY")
    needed = ["xdotool"] if existing else ["Xvfb", "xdotool"]
    missing = [tool for tool in needed if tool in missing_gui_tools()]
    if missing:
        sys.exit(f"needs {', '.join(missing)}: apt-get install xvfb xdotool")
    with nullcontext(Display(existing)) if existing else xvfb() as display:
        measure(display, args.runs)


if __name__ == "__main__":
    main()
