"""Helpers for the web chooser's tests: a fixed-data source, a served app, a phone browser."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from temporal.messages import CandidateInfo
from web.app import ChooserOptions, create_app
from web.redact import Redactor
from web.server import listening_socket, serve
from web.source import (
    ActionOutcome,
    ChoiceOutcome,
    ChoiceStatus,
    RecentVideo,
    SourceError,
    WaitingVideo,
)

SCRIPT_NAME = "md_<img src=x onerror=alert(1)>vsB.mp4"
PHONE = (390, 844)
DESKTOP = (1400, 900)


def candidate_jpeg(label: str, size: tuple[int, int] = (1280, 720)) -> bytes:
    """A real JPEG with a gradient and its label, as a ranked candidate would look."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    ImageDraw.Draw(image).text((20, 20), label, fill=(255, 200, 0))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=85)
    return output.getvalue()


def waiting_videos(count: int, candidates: int = 6) -> list[WaitingVideo]:
    now = datetime.now(UTC)
    return [
        WaitingVideo(
            workflow_id=f"video-md_Player{n}vsOther{n}.mp4-{n:08x}",
            title=f"Men's Doubles: Player{n} vs Other{n}",
            video_file=f"md_Player{n}vsOther{n}.mp4",
            host="cafe-pc",
            waiting_since=now - timedelta(minutes=count - n),
            candidates=[
                CandidateInfo(f"c{n}-{rank}", rank, 0.9 - rank / 20, 12.5 * rank, "")
                for rank in range(1, candidates + 1)
            ],
        )
        for n in range(count)
    ]


@dataclass
class FixedVideoSource:
    """`VideoSource` over fixed data: records what the pages asked for."""

    waiting_list: list[WaitingVideo] = field(default_factory=list)
    recent_list: list[RecentVideo] = field(default_factory=list)
    images: dict[tuple[str, str], bytes] = field(default_factory=dict)
    refusal: str | None = None  # when set, every choice is refused with this reason
    chosen: list[tuple[str, str]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)

    async def waiting(self) -> list[WaitingVideo]:
        return list(self.waiting_list)

    async def preview(self, workflow_id: str, candidate_id: str) -> bytes | None:
        key = (workflow_id, candidate_id)
        if key not in self.images:
            self.images[key] = candidate_jpeg(f"{workflow_id} {candidate_id}")
        return self.images[key]

    async def choose(self, workflow_id: str, candidate_id: str) -> ChoiceOutcome:
        if self.refusal:
            return ChoiceOutcome(ChoiceStatus.REFUSED, self.refusal)
        self.chosen.append((workflow_id, candidate_id))
        self.waiting_list = [v for v in self.waiting_list if v.workflow_id != workflow_id]
        return ChoiceOutcome(ChoiceStatus.ACCEPTED, f"Chose {candidate_id}.", candidate_id)

    async def recent(self, limit: int) -> list[RecentVideo]:
        return self.recent_list[:limit]

    async def retry(self, workflow_id: str) -> ActionOutcome:
        if workflow_id in self.retried:
            raise SourceError(f"{workflow_id} is not waiting for a retry.")
        self.retried.append(workflow_id)  # it runs again: the next retry is refused
        return ActionOutcome(f"{workflow_id}: its step runs again now.")

    async def cancel(self, workflow_id: str) -> ActionOutcome:
        if workflow_id not in {v.workflow_id for v in self.recent_list}:
            raise SourceError(f"No workflow with id {workflow_id}.")
        self.cancelled.append(workflow_id)
        return ActionOutcome(f"Cancellation requested for {workflow_id}.")


def options(
    password: str | None = None,
    host: str = "127.0.0.1",
    roots: tuple[Path, ...] = (),
    secrets: tuple[str, ...] = (),
) -> ChooserOptions:
    return ChooserOptions(
        host=host,
        password=password,
        redactor=Redactor(roots, [*secrets, password or ""]),
        timezone=UTC,
        refresh_seconds=1,
    )


@contextmanager
def served(source, chooser_options: ChooserOptions | None = None) -> Iterator[str]:
    """The chooser over `source` on a free loopback port, in a thread with its own event loop;
    yields its base URL."""
    app = create_app(source, chooser_options or options())
    sock = listening_socket("127.0.0.1", 0)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()
    urls: list[str] = []

    def announce(line: str) -> None:
        urls.append(line.rsplit(" ", 1)[-1])
        ready.set()

    def run() -> None:
        loop.run_until_complete(serve(app, sock, stop, announce))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30), "the chooser did not start"
    try:
        yield urls[0].rstrip("/")
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def browser_missing() -> str | None:
    """Why no browser test can run here, or None."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        return (
            f"{', '.join(missing)} missing: apt-get install chromium chromium-driver (.ci/run does)"
        )
    return None


@contextmanager
def phone_browser(phone: bool = True) -> Iterator:
    """Headless Chromium emulating a 390x844 touch phone (else a 1400x900 desktop window),
    driven by Debian's chromedriver (so Selenium never downloads one)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chrome = webdriver.ChromeOptions()
    chrome.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size={},{}".format(*(PHONE if phone else DESKTOP)),
    ):
        chrome.add_argument(argument)
    if phone:
        metrics = {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 3.0, "touch": True}
        chrome.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=chrome)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))


def no_horizontal_scrolling(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def click_and_load(driver, element) -> None:
    """Click something that loads a new page, and wait until it has."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of

    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait_for(driver, staleness_of(page))
