"""What every module of the package shares: the progress callback type, the settings it is
given (`YouTubeAccess`), the clock, and keeping libraries that log credentials quiet."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MIB = 1024 * 1024

ProgressCallback = Callable[[int, int], None]
"""`progress(done_bytes, total_bytes)`; if it raises, the upload stops between chunks."""


@dataclass(frozen=True)
class YouTubeAccess:
    """Where the channel's authorization is kept and how YouTube is reached; `uploader` builds it
    from the settings."""

    token_file: Path  # YOUTUBE_TOKEN_FILE: the saved authorization (a credential)
    client_secrets: Path  # GOOGLE_CLIENT_SECRETS: the café's OAuth client
    auth_port: int  # YOUTUBE_AUTH_PORT: where the consent flow waits for Google's answer
    api_root: str | None  # YOUTUBE_API_ROOT: a YouTube-compatible server instead of Google's


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_now_iso() -> str:
    return utc_now().isoformat(timespec="seconds")


def rfc3339_utc(moment: datetime) -> str:
    """`2025-01-10T11:00:00Z`, the form YouTube's date-time fields take."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def quiet_loggers(*names: str) -> Iterator[None]:
    """Hold these loggers at WARNING or above meanwhile: their DEBUG and INFO records carry
    credentials (authorization codes, tokens, addresses with a token in them)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logging.WARNING, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
