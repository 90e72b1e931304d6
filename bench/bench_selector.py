"""How fast the thumbnail chooser opens: 9 candidates from 1080p frames. Target: 500 ms.

Each run starts a fresh process (so Qt initialises from scratch, as in `main.py select`) that
calls `thumbnail_selector.choose()`, and measures from the call to
  - painted: the chooser's own log line after the first frame is shown and input is read;
  - mapped: the window visible on the X server, as `xdotool search --onlyvisible` sees it
    (same monotonic clock as the child).
Then Escape closes the window. Uses $DISPLAY, or starts its own Xvfb when DISPLAY is unset.

    python bench/bench_selector.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, and its tests/

from tests.selector_support import (
    Chooser,
    Display,
    candidate_spec,
    missing_gui_tools,
    write_candidate_frames,
    xvfb,
)

TARGET_MS = 500
TITLE = "bench_selector.mp4"


def wait_mapped(display: Display, chooser: Chooser, timeout: float = 20) -> float:
    """time.monotonic() at which the chooser's window is first visible."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and chooser.process.poll() is None:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", re.escape(TITLE)],
            env=display.env(),
            capture_output=True,
            text=True,
        )
        if found.stdout.strip():
            return time.monotonic()
    chooser.stop()
    raise RuntimeError(f"the chooser window did not appear: {chooser.stderr()}")


def one_run(display: Display, frames: list[Path], workdir: Path) -> tuple[float, float]:
    """(painted ms, mapped ms) after the call to choose()."""
    chooser = Chooser(display, TITLE, candidate_spec(frames), workdir / "spec.json")
    try:
        mapped_at = wait_mapped(display, chooser)
        reports = chooser.wait_until_shown()
        display.xdotool("key", "Escape")
        chosen, _ = chooser.result()
        if chosen is not None:
            raise RuntimeError(f"Escape should cancel, got {chosen!r}")
    finally:
        chooser.stop()
    return reports["shown_ms"], (mapped_at - reports["called_at"]) * 1000


def measure(display: Display, runs: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        frames = write_candidate_frames(workdir / "frames", 9, size=(1920, 1080))
        print(f"9 candidates, 1920x1080 JPEGs, display {display.name}, {os.cpu_count()} cores")
        one_run(display, frames, workdir)  # warm the disk cache and Python's bytecode
        painted, mapped = [], []
        for run in range(1, runs + 1):
            shown_ms, mapped_ms = one_run(display, frames, workdir)
            painted.append(shown_ms)
            mapped.append(mapped_ms)
            print(f"  run {run}: painted {shown_ms:6.1f} ms   mapped {mapped_ms:6.1f} ms")
    for label, values in (("painted", painted), ("mapped", mapped)):
        median = statistics.median(values)
        verdict = "PASS" if median <= TARGET_MS else "MISS"
        print(
            f"call -> {label}: median {median:.0f} ms (min {min(values):.0f}, max "
            f"{max(values):.0f}) = {median / TARGET_MS:.2f} x the {TARGET_MS} ms target: {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    needed = ["xdotool"] if os.environ.get("DISPLAY") else missing_gui_tools()
    missing = [tool for tool in needed if tool in missing_gui_tools()]
    if missing:
        sys.exit(f"needs {', '.join(missing)}: apt-get install xvfb xdotool x11-apps")
    existing = os.environ.get("DISPLAY")
    with nullcontext(Display(existing)) if existing else xvfb() as display:
        measure(display, args.runs)


if __name__ == "__main__":
    main()
