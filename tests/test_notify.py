"""Notifications through Apprise's json:// scheme to a local HTTP endpoint this test runs."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import pytest

import config
import notify
from notify import WaitingGroup, WaitingNotice
from tests.notify_support import closed_port, endpoint

WEB = "http://cafe-pc.local:8280/"


def notice(n: int) -> WaitingNotice:
    return WaitingNotice(f"video-{n}", f"md_Player{n}vsOther{n}.mp4", f"Player{n} vs Other{n}")


def test_several_waiting_videos_make_one_message_with_the_web_link():
    group = WaitingGroup()
    group.add(notice(1))
    assert group.take(now=1000.0) == [notice(1)]  # the first goes out at once
    for n in (2, 3, 4):
        group.add(notice(n))
        group.add(notice(n))  # told twice: listed once
    group.discard("video-4")  # chosen before the message went out
    assert group.seconds_until_due(now=1030.0) == 30.0
    assert group.take(now=1030.0) == []
    batch = group.take(now=1060.0)
    assert batch == [notice(2), notice(3)]
    assert group.seconds_until_due(now=1060.0) is None  # nothing left to send

    with endpoint() as hook:
        assert notify.send(notify.waiting_message(batch, WEB), [hook.url]) is True
    assert len(hook.received) == 1
    message = hook.received[0]
    assert message["title"] == "2 videos are waiting for a thumbnail choice"
    assert message["message"].splitlines() == [
        "- Player2 vs Other2 (md_Player2vsOther2.mp4)",
        "- Player3 vs Other3 (md_Player3vsOther3.mp4)",
        f"Choose at {WEB}",
    ]
    assert message["type"] == "info"


def test_one_message_per_failure_attention_and_publication():
    messages = [
        notify.failed_message(
            "md_AvsB.mp4",
            "A vs B",
            "md_AvsB.mp4 is not a video: /home/cafe/videos/md_AvsB.mp4 has no video stream",
        ),
        notify.attention_message(
            "md_CvsD.mp4",
            "C vs D",
            "YouTube refused the token (access_token=ya29.A0secret); authorize again",
            WEB,
        ),
        notify.published_message("md_EvsF.mp4", "E vs F", "https://youtu.be/abc123"),
    ]
    with endpoint() as hook:
        for message in messages:
            assert notify.send(message, [hook.url]) is True
    assert [(m["type"], m["title"]) for m in hook.received] == [
        ("failure", "Failed: A vs B"),
        ("warning", "Needs attention: C vs D"),
        ("success", "Published: E vs F"),
    ]
    failed, attention, published = (m["message"] for m in hook.received)
    assert failed == "md_AvsB.mp4: md_AvsB.mp4 is not a video: …/md_AvsB.mp4 has no video stream"
    assert "ya29" not in attention and "[hidden]" in attention and WEB in attention
    assert published == "md_EvsF.mp4 is published: https://youtu.be/abc123"


def test_a_message_words_its_own_remedy():
    token = notify.attention_message(
        "md_CvsD.mp4", "C vs D", "YouTube token t.json: revoked; authorize again", WEB, "laptop"
    )
    assert token.body.endswith(
        "\nAuthorize YouTube again on laptop (`./cafe auth` there): the videos waiting for it go on"
    )
    disk = notify.attention_message("md_CvsD.mp4", "C vs D", "the disk is full", WEB)
    assert disk.body == f"md_CvsD.mp4: the disk is full\nOnce it is fixed, retry it at {WEB}"
    failed = notify.failed_message("md_AvsB.mp4", "A vs B", "no thumbnail was chosen", "select")
    assert failed.body == (
        "md_AvsB.mp4: no thumbnail was chosen; start the video again with "
        "`./cafe start --retry-failed --rechoose`."
    )


def test_a_passing_failure_is_retried_and_a_down_endpoint_only_logged(caplog):
    message = notify.published_message("md_EvsF.mp4", "E vs F", "https://youtu.be/abc123")
    pauses: list[float] = []
    with endpoint(fail_first=1) as hook:
        assert notify.send(message, [hook.url], pause=pauses.append) is True
    assert len(hook.received) == 1 and hook.requests == 2 and pauses == [1.0]

    pauses.clear()
    down = f"json://127.0.0.1:{closed_port()}/down-secret-token"
    with caplog.at_level(logging.WARNING), endpoint() as hook:
        assert notify.send(message, [down, hook.url], pause=pauses.append) is False
    assert len(hook.received) == 1  # the service that works still got it, once
    assert pauses == [1.0, 2.0]  # three attempts, three seconds of pauses in all
    assert "JSON (NOTIFY_URLS #1): could not send 'Published: E vs F' after 3 attempts" in (
        caplog.text
    )
    assert "down-secret-token" not in caplog.text


def test_no_service_address_reaches_the_log_even_at_debug_level(caplog):
    # Apprise and urllib3 record each request's address, a Telegram bot's token in it, at DEBUG
    message = notify.published_message("md_EvsF.mp4", "E vs F", "https://youtu.be/abc123")
    down = f"json://127.0.0.1:{closed_port()}/down-secret-token"
    levels = {name: logging.getLogger(name).level for name in ("apprise", "urllib3")}
    with caplog.at_level(logging.DEBUG), endpoint() as hook:
        assert notify.send(message, [down, hook.url], pause=lambda seconds: None) is False
    assert len(hook.received) == 1
    assert "JSON (NOTIFY_URLS #1): could not send 'Published: E vs F'" in caplog.text
    assert "secret-token" not in caplog.text
    assert {name: logging.getLogger(name).level for name in levels} == levels


def test_notify_urls_are_checked_at_load_and_never_echoed(env, monkeypatch):
    monkeypatch.setenv("NOTIFY_URLS", "json://127.0.0.1:9/a\n  tgram://123456:ABCDEF/987")
    config.get_settings.cache_clear()
    assert config.get_settings().notify_urls == (
        "json://127.0.0.1:9/a",
        "tgram://123456:ABCDEF/987",
    )

    monkeypatch.setenv("NOTIFY_URLS", "json://127.0.0.1:9/a nosuchservice://secret-token")
    config.get_settings.cache_clear()
    with pytest.raises(config.ConfigError) as problem:
        config.get_settings()
    assert "NOTIFY_URLS=(hidden): URL number 2 is not an Apprise URL" in str(problem.value)
    assert "secret-token" not in str(problem.value)


def test_the_messages_link_to_the_chooser_as_people_reach_it(env, monkeypatch):
    monkeypatch.setenv("WEB_PORT", "8300")
    config.get_settings.cache_clear()
    assert notify.chooser_link(config.get_settings()) == "http://localhost:8300/"
    monkeypatch.setenv("WEB_HOST", "192.168.1.20")
    config.get_settings.cache_clear()
    assert notify.chooser_link(config.get_settings()) == "http://192.168.1.20:8300/"
    monkeypatch.setenv("WEB_PUBLIC_URL", "https://cafe.example/thumbnails")
    config.get_settings.cache_clear()
    assert notify.chooser_link(config.get_settings()) == "https://cafe.example/thumbnails/"


def test_the_published_message_says_until_when_its_thumbnail_changes_in_the_cafes_time():
    message = notify.published_message(
        "md_EvsF.mp4",
        "E vs F",
        "https://youtu.be/abc123",
        web_link="http://cafe-pc.local:8080/",
        changeable_until="2026-12-09T00:37:00+00:00",
        zone=ZoneInfo("Asia/Ho_Chi_Minh"),
    )
    assert message.body.endswith(
        "Change its thumbnail until 09 Dec 07:37 (Asia/Ho_Chi_Minh) at "
        "http://cafe-pc.local:8080/ or with `./cafe select md_EvsF.mp4`"
    )
