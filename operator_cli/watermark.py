"""The channel's YouTube watermark (VIDEO_WATERMARK=youtube) as `status`, `auth` and
`watermark` word it."""

from __future__ import annotations

from datetime import tzinfo

from operator_cli.lines import Line, local_time
from operator_cli.remedies import CLI
from youtube.watermark import WatermarkRecord


def watermark_line(record: WatermarkRecord | None, zone: tzinfo, just_set: bool = False) -> Line:
    if record is None:
        return Line(
            f"YouTube watermark: not set yet (VIDEO_WATERMARK=youtube): `{CLI} watermark` sets "
            "the logo as the channel's watermark",
            "yellow",
        )
    when = local_time(record.set_at, zone)
    done = "set now" if just_set else "set"
    return Line(f"YouTube watermark: {done} on channel {record.channel_id} ({when})")
