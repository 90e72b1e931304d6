"""VIDEO_WATERMARK=youtube: the logo becomes the channel's branding watermark through
`watermarks.set` (a multipart media upload, as YouTube takes it), set by `auth` or by
`watermark`, once per channel, and reported by `status`."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

from PIL import Image

import config
from operator_cli.watermark import watermark_line
from tests.fake_youtube import CHANNEL_ID
from tests.temporal_support import REPO
from tests.test_temporal_holds import run_auth
from youtube.watermark import WatermarkRecord


def cli(address: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "main_temporal.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "COLUMNS": "250"},
    )


async def test_auth_sets_the_logo_as_the_channels_watermark_once_and_status_says_so(
    temporal_env, pipeline_env, env, youtube
):
    address = temporal_env.client.service_client.config.target_host
    secrets = env / "client_secrets.json"
    secrets.write_text(json.dumps(youtube.client_secrets()))
    pipeline_env(
        VIDEO_WATERMARK="youtube",
        GOOGLE_CLIENT_SECRETS=str(secrets),
        YOUTUBE_AUTH_PORT="0",
        OAUTHLIB_INSECURE_TRANSPORT="1",  # the fake's token endpoint is plain http
    )
    before = await asyncio.to_thread(cli, address, "status")

    authorized = await asyncio.to_thread(run_auth, youtube, address)
    again = await asyncio.to_thread(cli, address, "watermark")
    shown = await asyncio.to_thread(cli, address, "status")

    assert "YouTube watermark: not set yet" in before.stdout
    assert "./cafe watermark" in before.stdout
    assert authorized.returncode == 0, authorized.stdout + authorized.stderr
    assert f"YouTube watermark: set now on channel {CHANNEL_ID}" in authorized.stdout
    mark = youtube.watermark
    assert mark is not None and mark.channel_id == CHANNEL_ID and mark.image_type == "image/png"
    assert mark.branding["position"] == {"type": "corner", "cornerPosition": "topRight"}
    assert mark.branding["timing"]["type"] == "offsetFromStart"
    assert again.returncode == 0 and f"set on channel {CHANNEL_ID}" in again.stdout
    assert len(youtube.calls_named("watermarks.set")) == 1  # once per channel
    assert f"YouTube watermark: set on channel {CHANNEL_ID}" in shown.stdout


def test_the_watermark_is_the_logo_as_a_small_png_and_costs_its_quota(env, youtube, monkeypatch):
    from channel_watermark import set_channel_watermark

    monkeypatch.setenv("VIDEO_WATERMARK", "youtube")
    config.get_settings.cache_clear()

    record, just_set = set_channel_watermark()

    assert just_set and record.channel_id == CHANNEL_ID
    with Image.open(io.BytesIO(youtube.watermark.image)) as image:
        assert image.format == "PNG" and max(image.size) <= 150
    assert youtube.units_spent() == 1 + 50  # channels.list, watermarks.set


def test_the_status_line_tells_when_it_was_set_in_the_cafes_zone() -> None:
    record = WatermarkRecord("UC1", "digest", "2025-01-10T02:00:00+00:00")
    line = watermark_line(record, ZoneInfo("Asia/Ho_Chi_Minh"))
    assert (
        line.text == "YouTube watermark: set on channel UC1 (Fri 10 Jan 09:00 (Asia/Ho_Chi_Minh))"
    )
