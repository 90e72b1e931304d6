"""The channel's branding watermark (VIDEO_WATERMARK=youtube): YouTube's player shows the café's
logo in the top-right corner of every video of the channel, with no re-encode.

Set once per channel with `watermarks.set` (50 quota units, covered by the youtube.force-ssl
scope), again only when the logo or the channel changes. What was set is recorded beside the
token (`youtube.watermark`), which `status` reports.
"""

from __future__ import annotations

import io
import logging

from PIL import Image

from config import get_settings
from errors import PipelineError
from thumbnail_enhancement.renderer import load_logo
from uploader import youtube_access
from youtube import api
from youtube.common import utc_now_iso
from youtube.watermark import WatermarkRecord, load_record, save_record

log = logging.getLogger(__name__)

WATERMARK_SIZE = (150, 150)  # YouTube's recommendation: a square of 150 px, under 1 MB


class WatermarkLogoError(PipelineError):
    """The logo to set as the watermark cannot be read."""


def set_channel_watermark() -> tuple[WatermarkRecord, bool]:
    """Make the logo (LOGO_PATH) the channel's watermark unless it already is; returns the
    record and whether this call set it."""
    settings = get_settings()
    logo = load_logo(settings.logo_path)
    if logo is None:
        raise WatermarkLogoError(
            f"{settings.logo_path}: the logo cannot be read, so no watermark was set; fix "
            "LOGO_PATH, or unset it for the café logo"
        )
    record = load_record(settings.youtube_token_file)
    subject = "The channel's watermark"
    channel = api.connect(youtube_access(settings))
    try:
        channel_id = api.channel_id_of(channel, subject)
        if record and (record.channel_id, record.logo_digest) == (channel_id, logo.digest):
            return record, False
        api.set_watermark(channel, channel_id, _watermark_png(logo.data), "image/png", subject)
    finally:
        channel.account.save_if_refreshed()
    record = WatermarkRecord(channel_id, logo.digest, utc_now_iso())
    save_record(settings.youtube_token_file, record)
    log.info("the logo is the watermark of channel %s", channel_id)
    return record, True


def _watermark_png(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGBA")
        image.thumbnail(WATERMARK_SIZE)
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
