"""The Temporal Web UI shows people what a video is and what it waits for, on the workflow's page:
its match (summary), its file and host (details), and the current step (current details). A
real dev server with its Web UI, a real worker, headless Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from temporalio.testing import WorkflowEnvironment

import config
from temporal.messages import WAITING_FOR_SELECTION
from tests.conftest import start_dev_server
from tests.temporal_support import add_video, running_worker, wait_for_stage
from tests.test_temporal_cli import free_port
from tests.test_temporal_workflow import start
from tests.web_support import browser_missing, phone_browser, screenshot, wait_for

pytestmark = pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or "")


@pytest.fixture
async def server_with_ui() -> AsyncIterator[tuple[WorkflowEnvironment, int]]:
    port = free_port()
    env = await start_dev_server(ui=True, ui_port=port)
    yield env, port
    await env.shutdown()


def metadata_texts(driver) -> list[str]:
    """The Markdown panes of the User Metadata tab (each rendered in a frame of its own); none
    while the page redraws them."""
    texts = []
    try:
        for frame in driver.find_elements(By.TAG_NAME, "iframe"):
            driver.switch_to.frame(frame)
            texts.append(driver.find_element(By.TAG_NAME, "body").text)
            driver.switch_to.default_content()
    except WebDriverException:  # a frame replaced as we read it
        driver.switch_to.default_content()
        return []
    return texts


def shown_in_full(texts: list[str]) -> list[str] | None:
    """The three panes (summary, details, current details) once each shows its text (the
    current details come from a query to the worker, after the page)."""
    return texts if len(texts) == 3 and all(texts) else None


def read_metadata(page: str) -> list[str]:
    with phone_browser(phone=False) as driver:
        driver.get(page)
        texts = wait_for(driver, lambda d: shown_in_full(metadata_texts(d)))
        screenshot(driver, "temporal-web-ui-user-metadata.png")
    return texts


async def test_the_workflow_page_shows_the_match_the_host_and_what_it_waits_for(
    server_with_ui, pipeline_env, clip_cache, env
):
    temporal, ui_port = server_with_ui
    client = temporal.client
    video = add_video(clip_cache, env / "videos", "md_NhozVinhvsKhanhzLeo.mp4")
    host = config.get_settings().worker_name
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        handle = client.get_workflow_handle(workflow_id)
        await wait_for_stage(handle, WAITING_FOR_SELECTION)
        run_id = (await handle.describe()).run_id
        page = (
            f"http://localhost:{ui_port}/namespaces/default/workflows/{workflow_id}/{run_id}"
            "/user-metadata"
        )
        # in a thread: the worker answering the page's query runs in this event loop
        texts = await asyncio.to_thread(read_metadata, page)

    summary, details, current = texts
    assert summary == "Nho/Vinh vs Khanh/Leo · Cafe Game"
    assert video.name in details and f"on host {host}" in details
    assert current.startswith("Waiting for a person to choose a thumbnail, on any machine")
    assert "chooser" in current and "main_temporal.py" not in current  # each front end its own
