"""`PUBLISH_AT`: when a video scheduled on YouTube goes public.

Either a time of day (`18:00`: the next 18:00 after the upload, in the café's time zone) or a
date and time (`2025-01-10T18:00`, in the café's zone unless it carries an offset such as
`+07:00`). `config` checks the setting with it, the sidecar's `publish_at` is checked with it
too, and the upload turns either into the moment YouTube publishes the video.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_DATE_AND_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d")
EXPECTED = (
    "expected a time of day like 18:00 or a date and time like 2025-01-10T18:00 (in "
    "CAFE_TIMEZONE unless it carries an offset such as +07:00); empty: no schedule"
)


def _parse(text: str) -> time | datetime:
    text = text.strip()
    found = _TIME_OF_DAY.fullmatch(text)
    if found:
        return time(int(found.group(1)), int(found.group(2)))
    if not _DATE_AND_TIME.match(text):
        raise ValueError(EXPECTED)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(EXPECTED) from None


def check_publish_at(setting: str) -> str | None:
    """PUBLISH_AT's parser: the checked text, or None when empty (no schedule)."""
    if not setting.strip():
        return None
    _parse(setting)
    return setting.strip()


def publish_at_problem(value: object) -> str | None:
    """What is wrong with a sidecar's `publish_at`, or None (an empty text: no schedule)."""
    if not isinstance(value, str):
        return f"must be a text: {EXPECTED}"
    if not value.strip():
        return None
    try:
        _parse(value)
    except ValueError:
        return f"must be a time: {EXPECTED}"
    return None


def publish_time(text: str, after: datetime, zone: tzinfo) -> datetime:
    """The moment `text` names, in `zone`: a time of day is its next occurrence after `after`."""
    when = _parse(text)
    if isinstance(when, datetime):
        return when.astimezone(zone) if when.tzinfo else when.replace(tzinfo=zone)
    day = after.astimezone(zone).date()
    candidate = datetime.combine(day, when, tzinfo=zone)
    if candidate.astimezone(UTC) <= after.astimezone(UTC):
        candidate = datetime.combine(day + timedelta(days=1), when, tzinfo=zone)
    return candidate
