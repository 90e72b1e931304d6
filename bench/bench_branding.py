"""Branding a match video against the café's own command, side by side in one run.

On bench_ranking's 4-minute 1080p30 H.264 clip (camera-like grain, 16 Mbit/s, a keyframe every
2 s, B-frames none) with an AAC track added, in rounds:
  (a) the café's command, exactly as its tool runs it: one ffmpeg pass with the overlay filter
      graph (intro and outro PNGs over the first and last 12 s, the logo scaled to a tenth of
      the width 20 px from the top-right corner), libx264 -preset ultrafast (h264_videotoolbox
      on macOS), the audio copied: the ffmpeg on PATH, else imageio-ffmpeg's
  (b) titles only: `brand_file` re-encoding only the keyframe intervals the titles touch
  (c) burn: `brand_file` with the logo in every frame (the full pass)
Targets: (b) at least 8x faster than (a); (c) no slower than (a), its file no larger, and at
least as close to the source (PSNR of the luma outside the titles' seconds and the logo's box,
every 10th frame). Then (b) on a 40-minute clip (bench_ranking's clean 4 minutes with audio,
remuxed ten times) against the same 4 minutes: at most 1.2x the time. Each run is a fresh
process (its start and imports counted, as ffmpeg's are); its peak memory is reported.
With --long, (a) and (b) also on the 40-minute clip, a match's real length (about 20 minutes
more: the café's command takes about half real time here).
Clips are made once into bench/.cache/ (with bench_ranking's, about 2 GB).

    python bench/bench_branding.py [--repeats 1] [--long]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from bench_ranking import (
    cached_clip,
    camera_like_clip,
    clean_clip,
    find_ffmpeg,
    peak_rss_mb,
)
from PIL import Image

from thumbnail_enhancement.layout import MatchText
from thumbnail_enhancement.renderer import DEFAULT_LOGO, load_logo
from video_branding import Branding, brand_file
from video_branding.cards import LOGO_MARGIN_PX, LOGO_WIDTH_SHARE, intro_card, outro_card

TITLE_SECONDS = 12.0
OUTRO = "Thanks for watching"
MATCH = MatchText.create(
    ["Nguyễn Văn Thành", "Phạm Thị Hồng Nhung"],
    ["Lê Hoàng Phúc", "Vy"],
    "Cafe Game",
    "Mixed Doubles",
    "2024-12-25T18:30:00+07:00",
)
TITLES_SPEEDUP = 8.0
LENGTH_GROWTH_LIMIT = 1.2
PSNR_EVERY = 10  # frames
LOGO_BOX_MARGIN = 8  # px around the logo's box left out of the PSNR (its soft edge)


# -- clips ---------------------------------------------------------------------------------------


def _tone(samples: int, at: int, rate: int) -> av.AudioFrame:
    """A quiet tone with some noise, stereo: sound that AAC cannot reduce to nothing."""
    times = np.arange(at, at + samples) / rate
    wave = 0.1 * np.sin(2 * np.pi * 440 * times) + 0.02 * np.random.default_rng(at).standard_normal(
        samples
    )
    frame = av.AudioFrame.from_ndarray(
        np.stack([wave, wave]).astype(np.float32), format="fltp", layout="stereo"
    )
    frame.sample_rate, frame.pts = rate, at
    return frame


def with_audio(video: Path, target: Path, repeats: int = 1) -> None:
    """`video`'s packets (`repeats` times back to back, timestamps shifted) and an AAC track
    as long, interleaved as a camera writes them."""
    rate = 48000
    with av.open(str(video)) as reader, av.open(str(target), mode="w") as writer:
        stream_in = reader.streams.video[0]
        stream_out = writer.add_stream_from_template(stream_in)
        sound = writer.add_stream("aac", rate=rate, layout="stereo")
        sound.bit_rate = 128_000
        length = stream_in.duration
        samples = 0
        for repeat in range(repeats):
            reader.seek(0, stream=stream_in)
            for packet in reader.demux(stream_in):
                if not packet.size:
                    continue
                packet.pts += repeat * length
                packet.dts += repeat * length
                packet.stream = stream_out
                writer.mux(packet)
                until = float((packet.dts + packet.duration) * stream_in.time_base) * rate
                while samples < until:
                    writer.mux(sound.encode(_tone(1024, samples, rate)))
                    samples += 1024
        writer.mux(sound.encode(None))


def camera_clip_with_audio() -> Path:
    source = camera_like_clip()
    return cached_clip(
        "branding_240s_1080p30_h264_camera_aac.mp4", lambda path: with_audio(source, path)
    )


def clean_clip_with_audio() -> Path:
    source = clean_clip()
    return cached_clip("branding_240s_1080p30_h264_aac.mp4", lambda path: with_audio(source, path))


def forty_minutes_with_audio() -> Path:
    source = clean_clip()
    return cached_clip(
        "branding_2400s_1080p30_h264_aac.mp4", lambda path: with_audio(source, path, 10)
    )


def duration_of(video: Path) -> float:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        return float(stream.duration * stream.time_base)


def frame_size(video: Path) -> tuple[int, int]:
    with av.open(str(video)) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height


# -- the contenders ------------------------------------------------------------------------------


def overlay_pngs(folder: Path, size: tuple[int, int]) -> tuple[Path, Path]:
    """The titles as the café's tool takes them: full-frame PNGs, transparent around the card
    (the engine's own cards, so that both lay the same pixels over the footage)."""
    width, height = size
    logo = load_logo()
    paths = []
    for name, card in (
        ("intro.png", intro_card(MATCH, width, height, logo)),
        ("outro.png", outro_card(OUTRO, MATCH.tournament, width, height, logo)),
    ):
        canvas = Image.new("RGBA", size, (0, 0, 0, 0))
        canvas.alpha_composite(card.image, (card.x, card.y))
        canvas.save(folder / name)
        paths.append(folder / name)
    return paths[0], paths[1]


def cafe_command(ffmpeg: str, source: Path, pngs: tuple[Path, Path], target: Path) -> list[str]:
    width, _ = frame_size(source)
    end = duration_of(source)
    graph = (
        f"[0:v][1:v]overlay=0:0:enable='lte(t,{TITLE_SECONDS:g})'[v1];"
        f"[v1][2:v]overlay=0:0:enable='gte(t,{end - TITLE_SECONDS:g})'[v2];"
        f"[3:v]scale={round(width * LOGO_WIDTH_SHARE)}:-1[logo];"
        f"[v2][logo]overlay=x=main_w-overlay_w-{LOGO_MARGIN_PX}:y={LOGO_MARGIN_PX}[out]"
    )
    encoder = (
        ["h264_videotoolbox"] if sys.platform == "darwin" else ["libx264", "-preset", "ultrafast"]
    )
    return [
        ffmpeg, "-y", "-v", "error",
        "-i", str(source), "-i", str(pngs[0]), "-i", str(pngs[1]), "-i", str(DEFAULT_LOGO),
        "-filter_complex", graph, "-map", "[out]", "-map", "0:a",
        "-c:v", *encoder, "-c:a", "copy", str(target),
    ]  # fmt: skip


@dataclass
class Run:
    seconds: float  # wall time of the whole process
    peak_mb: float


def run_process(command: list[str]) -> tuple[Run, str]:
    """Run `command`; its wall time, its own peak memory, and its output."""
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{command[0]} failed ({child.returncode}): {' '.join(command)}")
    # ru_maxrss: KiB on Linux, bytes on macOS
    peak = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
    return Run(seconds, peak), output


def run_engine(mode: str, source: Path, target: Path) -> Run:
    command = [sys.executable, __file__, "--child", mode, str(source), str(target)]
    run, output = run_process(command)
    report = json.loads(output.strip().splitlines()[-1])
    run.peak_mb = report["peak_mb"]
    return run


def child(mode: str, source: Path, target: Path) -> None:
    """One branding run in this fresh process (the parent times it)."""
    branding = Branding(MATCH, OUTRO, TITLE_SECONDS, mode == "burn", load_logo())
    with tempfile.TemporaryDirectory(prefix="bench-branding-", dir=target.parent) as work:
        result = brand_file(source, target, Path(work), branding)
    expected = "full" if mode == "burn" else "spliced"
    if result.method != expected:
        raise SystemExit(f"{mode}: expected {expected}, made {result.method}: {result.reason}")
    print(json.dumps({"peak_mb": peak_rss_mb(), "method": result.method}))


def fresh(target: Path) -> Path:
    """`target` and the engine's record of it gone: every run makes its copy."""
    target.unlink(missing_ok=True)
    target.with_name(f"{target.name}.json").unlink(missing_ok=True)
    return target


def best_runs(runs: dict[str, Callable[[], Run]], repeats: int) -> dict[str, Run]:
    """The fastest of `repeats` runs of each, taken in rounds (a, b, c, a, b, c...)."""
    best: dict[str, Run] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            done = run()
            if name not in best or done.seconds < best[name].seconds:
                best[name] = Run(done.seconds, max(done.peak_mb, best.get(name, done).peak_mb))
    return best


# -- closeness to the source ---------------------------------------------------------------------


def _lumas(video: Path) -> Iterator[np.ndarray]:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="gray")


def psnr_outside_overlays(source: Path, copies: list[Path]) -> list[float]:
    """Each copy's PSNR (luma) against the source on every PSNR_EVERY-th frame away from the
    titles' seconds, the logo's box left out."""
    width, height = frame_size(source)
    logo = load_logo()
    assert logo is not None
    logo_width = round(width * LOGO_WIDTH_SHARE)
    logo_height = math.ceil(logo.size[1] * logo_width / logo.size[0])
    mask = np.ones((height, width), bool)
    mask[
        : LOGO_MARGIN_PX + logo_height + LOGO_BOX_MARGIN,
        width - LOGO_MARGIN_PX - logo_width - LOGO_BOX_MARGIN :,
    ] = False
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate)
    end = duration_of(source)
    errors = [0.0] * len(copies)
    counted = 0
    streams = [_lumas(source), *(_lumas(copy) for copy in copies)]
    for index, (original, *made) in enumerate(zip(*streams, strict=True)):
        seconds = index / rate
        if index % PSNR_EVERY or not TITLE_SECONDS + 1 < seconds < end - TITLE_SECONDS - 1:
            continue
        reference = original[mask].astype(np.float64)
        for number, picture in enumerate(made):
            errors[number] += float(np.mean((picture[mask] - reference) ** 2))
        counted += 1
    return [10 * math.log10(255**2 / (error / counted)) for error in errors]


# -- the report ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISSED"


def mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, the best counted")
    parser.add_argument(
        "--long", action="store_true", help="also the café's command on the 40-minute clip"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    found = find_ffmpeg()
    if found is None:
        print("skipped: no ffmpeg binary on PATH and imageio-ffmpeg is not installed")
        return
    ffmpeg, origin = found
    camera = camera_clip_with_audio()
    clean = clean_clip_with_audio()
    long = forty_minutes_with_audio()

    with tempfile.TemporaryDirectory(prefix="bench-branding-") as folder:
        out = Path(folder)
        pngs = overlay_pngs(out, frame_size(camera))
        cafe_out, titles_out, burn_out = out / "cafe.mp4", out / "titles.mp4", out / "burn.mp4"
        command = cafe_command(ffmpeg, camera, pngs, cafe_out)
        best = best_runs(
            {
                "a": lambda: run_process(command)[0],
                "b": lambda: run_engine("titles", camera, fresh(titles_out)),
                "c": lambda: run_engine("burn", camera, fresh(burn_out)),
            },
            args.repeats,
        )
        cafe, titles, burn = best["a"], best["b"], best["c"]
        print(
            f"{camera.name} ({duration_of(camera):.0f} s, 1080p30 H.264 + AAC, "
            f"{mb(camera) * 8 / duration_of(camera):.0f} Mbit/s), titles {TITLE_SECONDS:g} s "
            f"each; best of {args.repeats}, in rounds, each run a fresh process"
        )
        print(
            f"  (a) the café's ffmpeg command:     {cafe.seconds:7.2f} s  {mb(cafe_out):6.0f} MB  "
            f"peak {cafe.peak_mb:5.0f} MB  (ffmpeg {origin})"
        )
        speedup = cafe.seconds / titles.seconds
        print(
            f"  (b) titles only (spliced):          {titles.seconds:7.2f} s  "
            f"{mb(titles_out):6.0f} MB  peak {titles.peak_mb:5.0f} MB  a/b = {speedup:5.1f}x "
            f"(target {TITLES_SPEEDUP:g}x): {verdict(speedup >= TITLES_SPEEDUP)}"
        )
        pace = cafe.seconds / burn.seconds
        print(
            f"  (c) burn (full pass):               {burn.seconds:7.2f} s  {mb(burn_out):6.0f} MB  "
            f"peak {burn.peak_mb:5.0f} MB  a/c = {pace:5.2f}x (target >= 1): {verdict(pace >= 1)}"
        )
        size = mb(burn_out) / mb(cafe_out)
        print(f"  (c)'s file / (a)'s: {size:.2f} (target <= 1): {verdict(size <= 1)}")
        cafe_psnr, burn_psnr = psnr_outside_overlays(camera, [cafe_out, burn_out])
        print(
            f"  PSNR against the source outside the overlays: (a) {cafe_psnr:.2f} dB, "
            f"(c) {burn_psnr:.2f} dB (target (c) >= (a)): {verdict(burn_psnr >= cafe_psnr)}"
        )

        four, forty = out / "four.mp4", out / "forty.mp4"
        lengths = best_runs(
            {
                "4": lambda: run_engine("titles", clean, fresh(four)),
                "40": lambda: run_engine("titles", long, fresh(forty)),
            },
            max(args.repeats, 3),
        )
        growth = lengths["40"].seconds / lengths["4"].seconds
        print(
            f"(b) on {long.name} (40 min, {mb(long) / 1000:.1f} GB): {lengths['40'].seconds:.2f} s "
            f"(peak {lengths['40'].peak_mb:.0f} MB) vs {lengths['4'].seconds:.2f} s on its 4 "
            f"minutes: x{growth:.2f} for 10x the length (limit x{LENGTH_GROWTH_LIMIT}): "
            f"{verdict(growth <= LENGTH_GROWTH_LIMIT)}"
        )
        if args.long:
            whole_match(ffmpeg, long, out, args.repeats)


def whole_match(ffmpeg: str, long: Path, out: Path, repeats: int) -> None:
    """(a) and (b) on the 40-minute clip."""
    pngs = overlay_pngs(out, frame_size(long))
    cafe_out, titles_out = out / "cafe-long.mp4", out / "titles-long.mp4"
    command = cafe_command(ffmpeg, long, pngs, cafe_out)
    best = best_runs(
        {
            "a": lambda: run_process(command)[0],
            "b": lambda: run_engine("titles", long, fresh(titles_out)),
        },
        repeats,
    )
    cafe, titles = best["a"], best["b"]
    speedup = cafe.seconds / titles.seconds
    print(
        f"{long.name}: (a) the café's command {cafe.seconds:.1f} s (peak {cafe.peak_mb:.0f} MB), "
        f"(b) titles only {titles.seconds:.1f} s (peak {titles.peak_mb:.0f} MB): a/b = "
        f"{speedup:.1f}x (target {TITLES_SPEEDUP:g}x): {verdict(speedup >= TITLES_SPEEDUP)}"
    )


if __name__ == "__main__":
    main()
