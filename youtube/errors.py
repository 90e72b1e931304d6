"""The YouTube failures a person acts on, of the kinds in the project's `errors` module.

Quota and upload-limit errors are `QuotaExhaustedError`s (they pass at midnight Pacific time);
token, client secrets, channel and thumbnail permission errors are `NeedsAttentionError`s (a
person fixes something outside the video, then the same upload goes on).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from errors import NeedsAttentionError, PipelineError, QuotaExhaustedError, Remedy, RetryLaterError


class AuthError(NeedsAttentionError):
    """No usable YouTube token: missing, expired, revoked or without the needed permission."""


class ClientSecretsError(NeedsAttentionError):
    """GOOGLE_CLIENT_SECRETS is missing or not a desktop-app OAuth client."""


class QuotaExceededError(QuotaExhaustedError):
    """The YouTube API quota or the channel's upload limit is used up for today."""


# A refused thumbnails.set may still cost its 50 quota units, and verifying a channel takes a
# person and often a day: tried by itself every ATTENTION_RETRY_INTERVAL (10 minutes), one held
# video would spend some 7,200 of the 10,000 daily units. Every 6 hours: 200 a day.
THUMBNAIL_REFUSED_RETRY = timedelta(hours=6)


class ThumbnailNotAllowedError(NeedsAttentionError):
    """The channel may not set custom thumbnails (it is not verified)."""

    retry_after = THUMBNAIL_REFUSED_RETRY


class NoChannelError(NeedsAttentionError):
    """The authorized Google account has no YouTube channel."""


class YouTubeRejectedError(PipelineError):
    """YouTube refused a request (400 and similar); the message carries YouTube's own words."""


class PlaylistNotFoundError(YouTubeRejectedError):
    """The playlist is gone (deleted in YouTube Studio since its id was recorded)."""


class YouTubeUnreachableError(PipelineError):
    """The token check could not reach YouTube at all."""


class UploadSessionLostError(PipelineError):
    """The session expired while the last chunk may have completed the video."""


class UploadInterruptedError(RetryLaterError):
    """Transient failures outlasted the retries; not a PipelineError, so it is retried later."""


def auth_error(token_file: Path, problem: str) -> AuthError:
    return AuthError(f"YouTube token {token_file}: {problem}; authorize again", Remedy.AUTH)
