"""The README's picture of the intro: a frame of a copy the engine branded, as a PNG.

The clip is made from the café's real camera frames when a folder of them is given (the
`shared/real-footage` JPEGs), else from the synthetic court of the sample clips; one frame a
second, each a keyframe, the default 12 s titles. The frame 6 s in (the card fully shown) is
scaled to 960 px wide and written to docs/branding_intro.png.

    python bench/intro_frame.py [--frames ../shared/real-footage] [--out docs/branding_intro.png]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
from bench_branding import MATCH

from sample_clips import Segment, encode_stills, frames_for
from thumbnail_enhancement.renderer import load_logo
from video_branding import Branding, brand_file

REPO = Path(__file__).resolve().parent.parent
SECONDS = 12.0
SHOWN_AT = 6.0
WIDTH = 960
SIZE = (1920, 1080)


def pictures(frames: Path | None, count: int) -> list[np.ndarray]:
    """`count` BGR pictures: the real frames in order (skipping the one that carries the
    original tool's intro), else the synthetic court."""
    if frames is None:
        return list(frames_for([Segment("rally", count)], 1, SIZE))
    files = sorted(frames.glob("frame_*.jpg"), key=lambda path: int(path.stem.split("_")[1]))
    files = [path for path in files if path.stem != "frame_360"][:count]
    if len(files) < count:
        raise SystemExit(f"{frames}: fewer than {count} frame_*.jpg files")
    return [cv2.resize(cv2.imread(str(path)), SIZE) for path in files]


def intro_frame(frames: Path | None, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="intro-frame-") as folder:
        work = Path(folder)
        clip = encode_stills(work / "match.mp4", pictures(frames, int(SECONDS) + 2))
        branding = Branding(MATCH, None, SECONDS, False, load_logo())
        result = brand_file(clip, work / "branded.mp4", work / "pieces", branding)
        with av.open(str(result.path)) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                if frame.pts * stream.time_base >= SHOWN_AT:
                    picture = frame.to_image()
                    break
    height = round(picture.height * WIDTH / picture.width)
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.resize((WIDTH, height)).save(out, optimize=True)
    print(f"{out}: {result.method} copy, frame at {SHOWN_AT:g} s, {out.stat().st_size // 1024} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=Path, help="a folder of the camera's frame_*.jpg")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "branding_intro.png")
    args = parser.parse_args()
    intro_frame(args.frames, args.out)


if __name__ == "__main__":
    main()
