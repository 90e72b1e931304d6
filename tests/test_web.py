"""The web chooser's pages in a real browser (Debian's Chromium as a 390x844 phone) and over
real HTTP, served by uvicorn over a fixed-data `VideoSource`. The same pages over real
workflows: tests/test_web_temporal.py."""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from temporalio.client import WorkflowExecutionStatus

from temporal.messages import HOLD_FOR_ATTENTION, HOLD_FOR_QUOTA, Hold
from tests.web_support import (
    SCRIPT_NAME,
    FixedVideoSource,
    browser_missing,
    click_and_load,
    no_horizontal_scrolling,
    options,
    phone_browser,
    screenshot,
    served,
    wait_for,
    waiting_videos,
)
from web.auth import SignInThrottle, UnsafeAddressError, is_loopback, require_safe_address
from web.redact import Redactor
from web.source import RecentVideo

needs_browser = pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or "")
PASSWORD = "shuttlecock-42"
RUNNING, COMPLETED, FAILED = (
    WorkflowExecutionStatus.RUNNING,
    WorkflowExecutionStatus.COMPLETED,
    WorkflowExecutionStatus.FAILED,
)


def recent_videos() -> list[RecentVideo]:
    return [
        RecentVideo("video-up", "md_AvsB.mp4", "UPLOADING", RUNNING, progress_percent=42),
        RecentVideo(
            "video-token",
            "md_CvsD.mp4",
            "NEEDS_ATTENTION",
            RUNNING,
            hold=Hold(
                HOLD_FOR_ATTENTION,
                "The YouTube token in /home/owner/secrets/token.json was revoked "
                "(ya29.a0AfB_secret)",
                redo="auth",
                retry_at=datetime(2025, 1, 10, 9, 30, tzinfo=UTC).isoformat(),
                stage="UPLOADING",
            ),
            host="cafe-pc",
        ),
        RecentVideo(
            "video-quota",
            "md_GvsH.mp4",
            "WAITING_FOR_QUOTA",
            RUNNING,
            hold=Hold(
                HOLD_FOR_QUOTA,
                "md_GvsH.mp4: the YouTube daily API quota is used up (quotaExceeded)",
                retry_at=datetime(2025, 1, 11, 8, 12, tzinfo=UTC).isoformat(),
                stage="UPLOADING",
            ),
        ),
        RecentVideo(
            "video-done",
            "md_EvsF.mp4",
            "COMPLETED",
            COMPLETED,
            published_link="https://youtu.be/x1",
        ),
        RecentVideo(
            "video-bad",
            SCRIPT_NAME,
            "PREPARING",
            FAILED,
            failure=f"{SCRIPT_NAME}: Men's Doubles needs 2 player(s) a team",
        ),
    ]


def post(url: str, fields: dict, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(fields).encode(), headers=headers or {}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not so after {timeout} s"
        time.sleep(0.05)


def alert_fired(driver) -> bool:
    try:
        return driver.switch_to.alert is not None
    except NoAlertPresentException:
        return False


@needs_browser
def test_phone_sees_waiting_videos_refreshes_without_reload_and_chooses():
    source = FixedVideoSource(waiting_videos(2), recent_videos())
    with served(source) as url, phone_browser() as driver:
        driver.get(url + "/")
        videos = driver.find_elements(By.CSS_SELECTOR, "#waiting article.video")
        assert [v.find_element(By.CSS_SELECTOR, ".title").text for v in videos] == [
            "Men's Doubles: Player0 vs Other0",
            "Men's Doubles: Player1 vs Other1",
        ]
        first_tiles = videos[0].find_elements(By.CSS_SELECTOR, "img")
        assert len(first_tiles) == 6
        wait_for(driver, lambda d: all(natural_width(d, image) > 0 for image in first_tiles))
        # one image for the video's six candidates, 480x270 each, and each tile shows its own
        assert {image.get_attribute("src") for image in first_tiles} == {
            first_tiles[0].get_attribute("src")
        }
        assert natural_width(driver, first_tiles[0]) == 6 * 480
        for slot, image in enumerate(first_tiles):
            frame = image.find_element(By.XPATH, "..")
            assert abs(frame.rect["x"] - image.rect["x"] - slot * frame.rect["width"]) < 1.5
            assert abs(image.rect["height"] - frame.rect["height"]) < 1.5
        assert no_horizontal_scrolling(driver)

        # a video that starts waiting shows up without a reload of the page
        driver.execute_script("window.notReloaded = true")
        source.waiting_list = [*source.waiting_list, *waiting_videos(3)[2:]]
        wait_for(
            driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#waiting article.video")) == 3
        )
        assert driver.execute_script("return window.notReloaded") is True

        tile = driver.find_element(
            By.CSS_SELECTOR, "article.video:nth-of-type(2) a.candidate[data-candidate-id='c1-3']"
        )
        click_and_load(driver, tile)
        large = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "img.large"))
        wait_for(driver, lambda d: natural_width(d, large) == 1280)
        assert "#3" in driver.find_element(By.CSS_SELECTOR, ".confirm > .caption").text
        assert no_horizontal_scrolling(driver)
        click_and_load(driver, driver.find_element(By.ID, "confirm"))
        flash = wait_for(driver, lambda d: d.find_element(By.ID, "flash"))
        assert flash.text == "Chose c1-3."
        assert source.chosen == [("video-md_Player1vsOther1.mp4-00000001", "c1-3")]
        screenshot(driver, "web-fixed-after-choice.png")

    with served(source) as url, phone_browser(phone=False) as desktop:
        desktop.get(url + "/")
        row = desktop.find_elements(By.CSS_SELECTOR, "article.video:first-of-type img")
        assert len({image.rect["y"] for image in row}) == 1  # six candidates side by side
        assert no_horizontal_scrolling(desktop)
        screenshot(desktop, "web-fixed-desktop.png")


def natural_width(driver, image) -> int:
    return driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image)


@needs_browser
def test_refused_choice_shows_the_reason_and_the_video_keeps_waiting():
    source = FixedVideoSource(waiting_videos(1), [])
    source.refusal = "'c0-9' is not one of this video's candidates (c0-1, c0-2)"
    with served(source) as url, phone_browser() as driver:
        driver.get(url + "/candidate?w=video-md_Player0vsOther0.mp4-00000000&c=c0-2")
        click_and_load(driver, driver.find_element(By.ID, "confirm"))
        flash = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#flash.error"))
        assert flash.text == source.refusal
        assert len(driver.find_elements(By.CSS_SELECTOR, "#waiting article.video")) == 1


@needs_browser
def test_names_and_reasons_show_as_text_without_paths_or_tokens(tmp_path):
    script_title = "Men's Doubles: <img src=x onerror=alert(1)> vs B"
    waiting = [
        dataclasses.replace(waiting_videos(1)[0], video_file=SCRIPT_NAME, title=script_title)
    ]
    source = FixedVideoSource(waiting, recent_videos())
    with served(source) as url, phone_browser() as driver:
        driver.get(url + "/")
        assert driver.find_element(By.CSS_SELECTOR, "#waiting .file").text == SCRIPT_NAME
        assert driver.find_element(By.CSS_SELECTOR, "#waiting .title").text == script_title
        bad = driver.find_element(By.CSS_SELECTOR, "li[data-workflow-id='video-bad']")
        assert bad.find_element(By.CSS_SELECTOR, ".file").text == SCRIPT_NAME
        assert SCRIPT_NAME in bad.find_element(By.CSS_SELECTOR, ".failure").text
        assert not driver.find_elements(By.CSS_SELECTOR, "img[src='x']")
        assert not alert_fired(driver)

        attention = driver.find_element(By.CSS_SELECTOR, ".attention").text
        assert "…/token.json" in attention and "[hidden]" in attention
        page = driver.page_source
        assert "/home/owner" not in page and "ya29" not in page
        screenshot(driver, "web-fixed-script-names.png")


@needs_browser
def test_retry_only_for_held_videos_and_its_refusal_shows():
    source = FixedVideoSource([], recent_videos())
    with served(source) as url, phone_browser() as driver:
        driver.get(url + "/")
        retry_rows = driver.find_elements(By.XPATH, "//li[.//form[@action='/retry']]")
        assert [row.get_attribute("data-workflow-id") for row in retry_rows] == [
            "video-token",
            "video-quota",
        ]
        quota = retry_rows[1].find_element(By.CSS_SELECTOR, ".quota").text
        assert quota == (
            "Waiting for YouTube's daily limit: UPLOADING goes on by itself at 11 Jan 08:12."
        )
        resumes = retry_rows[0].find_element(By.CSS_SELECTOR, ".resumes").text
        assert resumes == "UPLOADING is tried again by itself at 10 Jan 09:30."
        remedy = retry_rows[0].find_element(By.CSS_SELECTOR, ".remedy").text  # the page's own
        assert remedy.startswith("Authorize YouTube again on cafe-pc")
        progress = driver.find_element(By.CSS_SELECTOR, "li[data-workflow-id='video-up'] progress")
        assert progress.get_attribute("value") == "42"
        link = driver.find_element(By.CSS_SELECTOR, "li[data-workflow-id='video-done'] a")
        assert link.get_attribute("href") == "https://youtu.be/x1"

        click_and_load(
            driver, retry_rows[0].find_element(By.CSS_SELECTOR, "form[action='/retry'] button")
        )
        flash = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#flash.ok"))
        assert flash.text == "video-token: its step runs again now."
        assert source.retried == ["video-token"]
        again = "li[data-workflow-id='video-token'] form[action='/retry'] button"
        click_and_load(driver, driver.find_element(By.CSS_SELECTOR, again))
        flash = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#flash.error"))
        assert flash.text == "video-token is not waiting for a retry."

        cancel = driver.find_element(
            By.CSS_SELECTOR, "li[data-workflow-id='video-up'] form[action='/cancel'] button"
        )
        cancel.click()
        wait_for(driver, alert_fired)
        driver.switch_to.alert.dismiss()  # "Stop this video?" -> no: nothing is sent
        assert source.cancelled == []
        driver.find_element(
            By.CSS_SELECTOR, "li[data-workflow-id='video-up'] form[action='/cancel'] button"
        ).click()
        wait_for(driver, alert_fired)
        driver.switch_to.alert.accept()
        flash = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#flash.ok"))
        assert flash.text == "Cancellation requested for video-up."
        assert source.cancelled == ["video-up"]


@needs_browser
def test_sign_in_slows_wrong_passwords_and_refuses_cross_site_posts():
    source = FixedVideoSource(waiting_videos(1), recent_videos())
    with served(source, options(password=PASSWORD)) as url, phone_browser() as driver:
        assert post(url + "/cancel", {"workflow_id": "video-up"}) == (403, "Sign in first.")

        driver.get(url + "/")
        assert driver.current_url == url + "/signin"
        driver.find_element(By.ID, "password").send_keys("not-the-password")
        click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form.signin button"))
        assert wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".flash.error")).text == (
            "Wrong password."
        )
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form.signin button"))
        message = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".flash.error")).text
        assert message.startswith("Too many wrong passwords: try again in")
        wait_for(driver, lambda d: _signed_in_after_retry(d), timeout=30)
        assert driver.current_url == url + "/"
        token = driver.find_element(By.NAME, "csrf").get_attribute("value")

        # another page, even on this machine, posting with the session's cookie and its token
        with _page_posting(url + "/cancel", {"workflow_id": "video-up", "csrf": token}) as evil:
            driver.get(evil)
            refused = wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body"))
            wait_for(driver, lambda d: "Refused" in d.find_element(By.TAG_NAME, "body").text)
            assert "did not come from the chooser's own page" in refused.text
        assert source.cancelled == []


def _signed_in_after_retry(driver) -> bool:
    """Submit the right password until the throttle lets it through."""
    if driver.find_elements(By.ID, "waiting"):
        return True
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.signin button").click()
    return bool(driver.find_elements(By.ID, "waiting"))


class _page_posting:
    """A page on another port that submits a form to `target` as soon as it loads."""

    def __init__(self, target: str, fields: dict):
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items()
        )
        body = (
            f'<form id="f" method="post" action="{target}">{inputs}</form>'
            "<script>document.getElementById('f').submit()</script>"
        ).encode()

        class Page(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Page)

    def __enter__(self) -> str:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}/"

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_without_a_password_only_loopback_addresses_and_host_names_are_served():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.1.1"):
        assert is_loopback(host)
        require_safe_address(host, None)
    for host in ("0.0.0.0", "::", "192.168.1.20", "cafe-pc.local"):
        with pytest.raises(UnsafeAddressError, match="set WEB_PASSWORD"):
            require_safe_address(host, None)
        require_safe_address(host, PASSWORD)

    with served(FixedVideoSource()) as url:
        request = urllib.request.Request(url + "/", headers={"Host": "evil.example:80"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400
        # without the page's token, even a same-origin POST changes nothing
        status, body = post(url + "/cancel", {"workflow_id": "video-up"})
        assert status == 403 and body.startswith("Refused")


def test_pages_allow_no_script_but_their_own_and_no_framing():
    with served(FixedVideoSource(waiting_videos(1), recent_videos())) as url:
        for path in ("/", "/live", "/signin"):
            with urllib.request.urlopen(url + path, timeout=10) as page:
                policy = page.headers["Content-Security-Policy"]
                assert page.headers["X-Frame-Options"] == "DENY"
            assert "script-src 'self';" in policy and "unsafe" not in policy
            assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_previews_are_made_ahead_for_every_waiting_video():
    source = FixedVideoSource(waiting_videos(3), [])
    with served(source, dataclasses.replace(options(), warm_seconds=0.1)):
        wanted = {(v.workflow_id, c.id) for v in source.waiting_list for c in v.candidates}
        assert set(source.images) == wanted  # before the chooser answers anyone
        source.waiting_list = [*source.waiting_list, *waiting_videos(4)[3:]]
        wanted |= {(v.workflow_id, c.id) for v in source.waiting_list for c in v.candidates}
        wait_until(lambda: set(source.images) == wanted)


def test_a_sheet_is_the_named_candidates_side_by_side_and_at_most_nine():
    source = FixedVideoSource(waiting_videos(1), [])
    video = source.waiting_list[0]
    query = [("w", video.workflow_id), *(("c", c.id) for c in video.candidates[:3])]
    with served(source) as url:
        with urllib.request.urlopen(f"{url}/sheet?{urllib.parse.urlencode(query)}") as answer:
            sheet = Image.open(io.BytesIO(answer.read()))
        assert sheet.size == (3 * 480, 270)
        for ids in ([], [f"c{n}" for n in range(10)]):
            query = [("w", video.workflow_id), *(("c", id_) for id_ in ids)]
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{url}/sheet?{urllib.parse.urlencode(query)}", timeout=10)
            assert refused.value.code == 400


def test_the_large_view_shows_the_candidate_as_its_thumbnail_frames_it():
    source = FixedVideoSource(waiting_videos(1), [])
    video = source.waiting_list[0]
    framed = dataclasses.replace(video.candidates[0], crop=(0.5, 0.0, 1.0, 1.0))
    source.waiting_list = [dataclasses.replace(video, candidates=[framed])]
    halves = Image.new("L", (1280, 720), 0)
    halves.paste(255, (640, 0, 1280, 720))  # black on the left, white on the right
    picture = io.BytesIO()
    halves.convert("RGB").save(picture, "JPEG", quality=90)
    source.images[(video.workflow_id, framed.id)] = picture.getvalue()
    query = urllib.parse.urlencode({"w": video.workflow_id, "c": framed.id})
    with served(source) as url:
        with urllib.request.urlopen(f"{url}/candidate?{query}", timeout=10) as answer:
            page = answer.read().decode()
        src = re.search(r'<img class="large" src="([^"]+)"', page).group(1).replace("&amp;", "&")
        with urllib.request.urlopen(url + src, timeout=10) as answer:
            large = Image.open(io.BytesIO(answer.read())).convert("L")
    assert large.size == (640, 720)  # the right half, fitted in the 1280x720 view
    assert min(large.getextrema()) > 200, "only the white right half is shown"


def test_wrong_passwords_sent_side_by_side_are_not_all_checked():
    """Five guesses posted at once from one address: one is checked, the others must wait (a
    guesser may not try many passwords in parallel during the pause after a wrong one)."""
    with served(FixedVideoSource(), options(password=PASSWORD)) as url:
        with urllib.request.urlopen(url + "/signin", timeout=10) as page:
            cookie = page.headers["Set-Cookie"].split(";", 1)[0]
            token = re.search(r'name="csrf" value="([^"]+)"', page.read().decode()).group(1)
        start = threading.Barrier(5)
        answers: list[int] = []

        def guess(number: int) -> None:
            start.wait()
            fields = {"csrf": token, "password": f"guess-number-{number}"}
            answers.append(post(url + "/signin", fields, {"Cookie": cookie})[0])

        guessers = [threading.Thread(target=guess, args=(n,)) for n in range(5)]
        for guesser in guessers:
            guesser.start()
        for guesser in guessers:
            guesser.join(30)
    assert sorted(answers) == [401, 429, 429, 429, 429]


def test_wrong_passwords_wait_twice_as_long_each_time():
    now = [1000.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    assert throttle.wait_seconds("10.0.0.5") == 0
    waits = []
    for _ in range(8):
        throttle.failed("10.0.0.5")
        waits.append(throttle.wait_seconds("10.0.0.5"))
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60]
    assert throttle.wait_seconds("10.0.0.6") == 0  # another address is not slowed
    now[0] += 60
    assert throttle.wait_seconds("10.0.0.5") == 0
    throttle.succeeded("10.0.0.5")
    throttle.failed("10.0.0.5")
    assert throttle.wait_seconds("10.0.0.5") == 2  # a sign-in starts the count again


def test_pages_show_no_path_outside_the_cafe_folders_and_no_secret():
    redactor = Redactor(["/srv/cafe/videos", "/srv/cafe/published"], ["hunter2-password"])
    text = redactor.text
    assert text("/srv/cafe/videos/md_AvsB.mp4: not a video") == (
        "/srv/cafe/videos/md_AvsB.mp4: not a video"
    )
    assert text("cannot read /home/owner/.config/token.json (denied)") == (
        "cannot read …/token.json (denied)"
    )
    assert text("published at file:///srv/cafe/published/md-avsb") == (
        "published at file:///srv/cafe/published/md-avsb"
    )
    assert text("copied from file:///etc/cafe/x.mov") == "copied from file://…/x.mov"
    assert (
        text(
            "upload lost: https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable"
            "&upload_id=AEnB2Uo secret"
        )
        == "upload lost: [hidden] secret"
    )
    assert text("WEB_PASSWORD is hunter2-password") == "WEB_PASSWORD is [hidden]"
    assert (
        text('{"refresh_token": "1//0gABCDEFGHIJKLMNOPQRSTU"}') == '{"refresh_token": "[hidden]"}'
    )
    assert text("Nho/Vinh vs Khanh/Leo, 1/2 set") == "Nho/Vinh vs Khanh/Leo, 1/2 set"
