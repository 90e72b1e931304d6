"""What every module of the package shares: the progress callback type and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

MIB = 1024 * 1024

ProgressCallback = Callable[[int, int], None]
"""`progress(done_bytes, total_bytes)`; if it raises, the upload stops between chunks."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_now_iso() -> str:
    return utc_now().isoformat(timespec="seconds")


def rfc3339_utc(moment: datetime) -> str:
    """`2025-01-10T11:00:00Z`, the form YouTube's date-time fields take."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
