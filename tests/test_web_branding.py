"""The web page shows the branded copy's progress beside the stage a video is in."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from temporalio.client import WorkflowExecutionStatus

from tests.web_support import FixedVideoSource, browser_missing, phone_browser, served
from web.source import RecentVideo

RUNNING = WorkflowExecutionStatus.RUNNING


@pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or "")
def test_a_waiting_video_shows_how_far_its_branded_copy_is():
    recent = [
        RecentVideo(
            "video-wait", "md_AvsB.mp4", "WAITING_FOR_SELECTION", RUNNING, branding_percent=40
        ),
        RecentVideo("video-up", "md_CvsD.mp4", "UPLOADING", RUNNING, progress_percent=42),
    ]
    with served(FixedVideoSource([], recent)) as url, phone_browser() as driver:
        driver.get(url + "/")
        waiting = driver.find_element(By.CSS_SELECTOR, "li[data-workflow-id='video-wait']")
        branding = waiting.find_element(By.CSS_SELECTOR, ".branding")
        assert branding.text.startswith("Branding the video:") and branding.text.endswith(" 40%")
        assert branding.find_element(By.TAG_NAME, "progress").get_attribute("value") == "40"
        uploading = driver.find_element(By.CSS_SELECTOR, "li[data-workflow-id='video-up']")
        assert not uploading.find_elements(By.CSS_SELECTOR, ".branding")
