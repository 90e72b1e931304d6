"""How fast a thumbnail renders from a 4K frame. Target: 300 ms a thumbnail.

Times `render_thumbnail` end to end (read selected.jpg and metadata.json, decode, crop, colour
lift, vignette, panels and text, JPEG under 2 MB, atomic write) on a 3840x2160 JPEG frame with
camera-like grain, for each template and for short and extreme names. The thumbnail is deleted
before each run so every run renders. Prints the best of N and the median, their ratio to the
target, and the first render in the process (fonts and caches still cold) for reference.

    python bench/bench_enhance.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project

import cv2
import numpy as np

import config
from sample_clips import Segment, frames_for
from thumbnail_enhancement import available_templates, render_thumbnail
from video_prep import VideoInfo, describe_match
from workspace import (
    METADATA_FILE,
    SELECTED_IMAGE,
    THUMBNAIL_FILE,
    atomic_write_json,
    workspace_dir,
)

TARGET_MS = 300
FRAME_SIZE = (3840, 2160)
MATCHES = {
    "short names": ("md_NhozVinhvsKhanhzLeo.mp4", None),
    "4 long names a team, 40-char tournament": (
        "xd_NguyenzTramvsTuyetzHuy.mp4",
        {
            "team1": ["Nguyễn Đức Huy", "Trâm", "Lê Văn Khánh", "Võ Thị Mỹ Duyên"],
            "team2": ["Phạm Thị Ánh Tuyết", "Đặng Quốc Bảo", "Vy", "Hoàng Minh Trí"],
            "tournament": "Giải Cầu Lông Cà Phê Mở Rộng Mùa Hè 2024",
        },
    ),
}


def four_k_frame() -> bytes:
    """A 4K rally on the café's court with sensor grain, as a camera JPEG (a few MB)."""
    frame = next(frames_for([Segment("rally", 1.0)], 1.0, FRAME_SIZE))
    grain = np.random.default_rng(7).normal(0, 4, frame.shape)
    noisy = np.clip(frame + grain, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return encoded.tobytes()


def prepare_workspace(root: Path, name: str, overrides: dict | None, frame: bytes) -> Path:
    """A video's workspace as `select` leaves it: metadata.json and selected.jpg."""
    video = root / "videos" / name
    info = VideoInfo(
        duration_seconds=600.0,
        fps=30.0,
        width=FRAME_SIZE[0],
        height=FRAME_SIZE[1],
        display_width=FRAME_SIZE[0],
        display_height=FRAME_SIZE[1],
        rotation=0,
        codec="h264",
        pix_fmt="yuv420p",
        bit_depth=8,
        creation_time="2024-12-25T10:00:00+00:00",
    )
    metadata = describe_match(video, info).to_dict()
    metadata.update(overrides or {})
    directory = workspace_dir(video)
    atomic_write_json(directory / METADATA_FILE, metadata)
    (directory / SELECTED_IMAGE).write_bytes(frame)
    return video


def timed_render(video: Path, template: str) -> float:
    (workspace_dir(video) / THUMBNAIL_FILE).unlink(missing_ok=True)
    started = time.perf_counter()
    render_thumbnail(video, template)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ.update(WORKSPACE_DIR=str(root / "workspace"), INPUT_DIR=str(root / "videos"))
        os.environ.pop("LOGO_PATH", None)
        config.get_settings.cache_clear()
        frame = four_k_frame()
        print(
            f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]} JPEG frame ({len(frame) / 1e6:.1f} MB), "
            f"{args.runs} runs each, {os.cpu_count()} cores"
        )
        videos = {
            label: prepare_workspace(root, name, overrides, frame)
            for label, (name, overrides) in MATCHES.items()
        }
        first = timed_render(next(iter(videos.values())), available_templates()[0])
        print(f"  first render in the process (cold caches): {first:.0f} ms")
        verdicts = []
        for template in available_templates():
            for label, video in videos.items():
                times = [timed_render(video, template) for _ in range(args.runs)]
                best, median = min(times), statistics.median(times)
                verdict = "PASS" if best <= TARGET_MS else "MISS"
                verdicts.append(verdict)
                size = (workspace_dir(video) / THUMBNAIL_FILE).stat().st_size
                print(
                    f"  {template}, {label}: best {best:.0f} ms, median {median:.0f} ms = "
                    f"{best / TARGET_MS:.2f} x the {TARGET_MS} ms target: {verdict} "
                    f"({size / 1024:.0f} KB)"
                )
        print("all PASS" if "MISS" not in verdicts else "some MISS")


if __name__ == "__main__":
    main()
