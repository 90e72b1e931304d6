"""YouTube API calls: the client, the translation of YouTube's refusals, retries, and parts
read and sent back whole.

`videos.update` replaces every mutable property of each part it names: a property the body
leaves out is reset to its default (a privacy-only update turns `embeddable` and
`publicStatsViewable` off). `change_part` therefore reads the part first and sends it back whole
with the change.
"""

from __future__ import annotations

import errno
import http.client
import io
import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import Resource, build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest, MediaIoBaseUpload, build_http

from errors import PipelineError, Remedy
from youtube.common import YouTubeAccess
from youtube.errors import (
    NoChannelError,
    PlaylistNotFoundError,
    QuotaExceededError,
    ThumbnailNotAllowedError,
    UploadInterruptedError,
    YouTubeRejectedError,
    YouTubeUnreachableError,
    auth_error,
)
from youtube.oauth import Account, auth_failures, load_account
from youtube.quota import QuotaMeter

log = logging.getLogger(__name__)

# Network errno values worth a retry that Python does not map to ConnectionError.
_NETWORK_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
# Google asks clients to back off and retry these 403 reasons.
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_QUOTA_REASONS = {"quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded"}
# Properties YouTube sets itself: read with the part, never sent back.
_READ_ONLY = {
    "status": {"uploadStatus", "failureReason", "rejectionReason", "madeForKids"},
    "snippet": {"publishedAt", "channelId", "channelTitle", "thumbnails", "localized"},
}


@dataclass(frozen=True)
class Backoff:
    """Bounded exponential backoff for transient failures (5xx, dropped connections)."""

    attempts: int
    first_seconds: float
    max_seconds: float

    def delay(self, failure: int) -> float:
        return min(self.max_seconds, self.first_seconds * 2 ** (failure - 1))


TRANSIENT_RETRY = Backoff(attempts=6, first_seconds=1.0, max_seconds=30.0)


@dataclass(frozen=True)
class Channel:
    """The API client (`service`, which requests are built from), the account it acts for and
    the quota units its calls spent."""

    service: Resource
    account: Account
    meter: QuotaMeter = field(default_factory=QuotaMeter)


def connect(access: YouTubeAccess) -> Channel:
    """The channel of the saved token; YOUTUBE_API_ROOT replaces Google's root, media uploads
    included."""
    account = load_account(access.token_file)
    document = json.loads(get_static_doc("youtube", "v3"))
    if access.api_root:
        document["rootUrl"] = document["mtlsRootUrl"] = access.api_root
        document["baseUrl"] = access.api_root + document.get("servicePath", "")
    # build_http() keeps 308 (the resumable protocol's "resume incomplete") from being
    # followed as a redirect.
    http = google_auth_httplib2.AuthorizedHttp(account.credentials, http=build_http())
    return Channel(build_from_document(document, http=http), account)


# -- failures -----------------------------------------------------------------------------------


def _error_reason(error: HttpError) -> str:
    details = error.error_details
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("reason", ""))
    return ""


_TRANSIENT_NETWORK_ERRORS = (
    ConnectionError,
    TimeoutError,
    http.client.HTTPException,
    httplib2.ServerNotFoundError,
    TransportError,
)
RETRYABLE_TYPES = (
    HttpError,
    OSError,
    http.client.HTTPException,
    httplib2.HttpLib2Error,
    TransportError,
    RefreshError,
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, HttpError):
        status = error.resp.status
        return status >= 500 or status in (408, 429) or _error_reason(error) in _RATE_LIMIT_REASONS
    if isinstance(error, RefreshError):
        return bool(getattr(error, "retryable", False))
    if isinstance(error, OSError) and not isinstance(error, ConnectionError | TimeoutError):
        return error.errno in _NETWORK_ERRNOS
    return isinstance(error, _TRANSIENT_NETWORK_ERRORS)


def describe(error: BaseException) -> str:
    if isinstance(error, HttpError):
        return f"HTTP {error.resp.status}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _without_links(message: str) -> str:
    """YouTube's message without the HTML links it wraps words in (`<a href=...>quota</a>`);
    anything else between `<` and `>` (a title it quotes) is kept as it is."""
    return re.sub(r"</?a(?:\s[^<>]*)?>", "", message)


def _translate(error: HttpError, subject: str, call: str, token_file: Path) -> PipelineError | None:
    """The PipelineError a person must act on, or None when retrying may help."""
    status, reason, message = error.resp.status, _error_reason(error), error.reason
    plain_message = _without_links(message)
    if status == 401:
        return auth_error(token_file, f"YouTube refused it during {call} (expired or revoked)")
    if reason in _QUOTA_REASONS:
        what = "upload limit" if reason == "uploadLimitExceeded" else "daily API quota"
        return QuotaExceededError(
            f"{subject}: the YouTube {what} is used up ({reason}: {plain_message}); it resets at "
            "midnight Pacific time, and the upload resumes where it stopped",
            Remedy.UPLOAD,
        )
    if status == 403 and call == "thumbnails.set":
        return ThumbnailNotAllowedError(
            f"{subject}: YouTube refused the custom thumbnail ({plain_message}); the channel "
            "must be verified for custom thumbnails (https://www.youtube.com/verify). The video "
            "stays private until the upload runs again after the channel is verified",
            Remedy.UPLOAD,
        )
    if is_transient(error):
        return None
    if status == 404 and reason == "playlistNotFound":
        return PlaylistNotFoundError(f"{subject}: the playlist is gone ({call}: {plain_message})")
    return YouTubeRejectedError(
        f"{subject}: YouTube rejected {call} (HTTP {status} {reason}): {plain_message}"
    )


def final(error: BaseException, subject: str, call: str, token_file: Path) -> BaseException:
    """The error to raise for a failure that retrying cannot fix."""
    if isinstance(error, HttpError):
        return _translate(error, subject, call, token_file) or error
    return error


@contextmanager
def youtube_errors(subject: str, call: str, token_file: Path) -> Iterator[None]:
    """Turn YouTube's refusals into the PipelineError that tells the operator what to do."""
    with auth_failures(token_file):
        try:
            yield
        except HttpError as error:
            translated = _translate(error, subject, call, token_file)
            if translated is None:
                raise
            raise translated from None


def wait_before_retry(subject: str, call: str, error: BaseException, failure: int) -> None:
    delay = TRANSIENT_RETRY.delay(failure)
    log.warning(
        "%s: %s failed (%s); retry %d of %d in %.1f s",
        subject,
        call,
        describe(error),
        failure,
        TRANSIENT_RETRY.attempts - 1,
        delay,
    )
    time.sleep(delay)


def execute(
    channel: Channel,
    request: HttpRequest,
    subject: str,
    call: str,
    already_done: Callable[[], Any] | None = None,
) -> Any:
    """Run `request` (made from `channel.service`), retrying transient failures with backoff.

    For a call that is not idempotent (one that creates something), `already_done` is asked
    before each retry: a failure may have come after YouTube carried the call out. When it
    returns something other than None, that is the answer and the call is not sent again.
    """
    for failure in itertools.count(1):
        try:
            with youtube_errors(subject, call, channel.account.token_file):
                return _counted(channel, request, call)
        except RETRYABLE_TYPES as error:
            if not is_transient(error):
                raise
            if failure >= TRANSIENT_RETRY.attempts:
                raise UploadInterruptedError(
                    f"{subject}: {call} failed {failure} times in a row ({describe(error)}); "
                    "nothing is lost: the next attempt resumes where this one stopped."
                ) from error
            wait_before_retry(subject, call, error, failure)
            if already_done is not None and (found := already_done()) is not None:
                return found
    raise AssertionError("unreachable")


def _counted(channel: Channel, request: HttpRequest, call: str) -> Any:
    """The call's answer; its units are spent once YouTube answers, a refusal included."""
    try:
        answer = request.execute()
    except HttpError:
        channel.meter.spend(call)
        raise
    channel.meter.spend(call)
    return answer


# -- calls --------------------------------------------------------------------------------------


def change_part(
    channel: Channel, video_id: str, part: str, change: dict[str, Any], subject: str
) -> dict[str, Any]:
    """Apply `change` to one part of a video, keeping the rest of the part as it is (a None
    value removes that property); returns the part as YouTube holds it afterwards."""
    listed = channel.service.videos().list(part=part, id=video_id)
    found = execute(channel, listed, subject, "videos.list")
    items = found.get("items") or []
    if not items:
        raise YouTubeRejectedError(
            f"{subject}: video {video_id} is no longer on the channel (deleted in YouTube "
            "Studio?); delete its upload.json to upload it again",
            Remedy.UPLOAD,
        )
    current = items[0].get(part) or {}
    whole = {k: v for k, v in current.items() if k not in _READ_ONLY.get(part, ())}
    whole.update(change)
    body = {"id": video_id, part: {k: v for k, v in whole.items() if v is not None}}
    request = channel.service.videos().update(part=part, body=body)
    return execute(channel, request, subject, "videos.update").get(part, {})


def set_thumbnail(channel: Channel, video_id: str, thumbnail: Path, subject: str) -> None:
    with thumbnail.open("rb") as handle:
        media = MediaIoBaseUpload(handle, mimetype="image/jpeg", resumable=False)
        request = channel.service.thumbnails().set(videoId=video_id, media_body=media)
        execute(channel, request, subject, "thumbnails.set")


def channel_id_of(channel: Channel, subject: str) -> str:
    """The id of the authorized account's channel (channels.list mine=true, 1 unit)."""
    found = channel.service.channels().list(part="id", mine=True)
    items = execute(channel, found, subject, "channels.list").get("items") or []
    if not items:
        raise NoChannelError(f"{subject}: the authorized account has no YouTube channel")
    return items[0]["id"]


def set_watermark(
    channel: Channel, channel_id: str, image: bytes, mimetype: str, subject: str
) -> None:
    """The channel's branding watermark: `image` in the top-right corner of every video of the
    channel, all the way through."""
    branding = {
        "targetChannelId": channel_id,
        "timing": {"type": "offsetFromStart", "offsetMs": "0"},
        "position": {"type": "corner", "cornerPosition": "topRight"},
    }
    media = MediaIoBaseUpload(io.BytesIO(image), mimetype=mimetype, resumable=False)
    request = channel.service.watermarks().set(
        channelId=channel_id, body=branding, media_body=media
    )
    execute(channel, request, subject, "watermarks.set")


def validate_auth(access: YouTubeAccess) -> None:
    """One cheap call (channels.list mine=true) proving the saved token can reach the channel."""
    try:
        channel = connect(access)
        with youtube_errors("Checking the YouTube token", "channels.list", access.token_file):
            answer = channel.service.channels().list(part="id", mine=True).execute()
    except RETRYABLE_TYPES as error:
        if not is_transient(error):
            raise
        root = access.api_root or "https://youtube.googleapis.com/"
        raise YouTubeUnreachableError(
            f"Cannot reach YouTube at {root} ({describe(error)}); check the network "
            "(or YOUTUBE_API_ROOT) and try again."
        ) from None
    channel.account.save_if_refreshed()
    if not answer.get("items"):
        raise NoChannelError(
            "The authorized Google account has no YouTube channel: create the channel, or "
            "authorize again and sign in with the café's channel account",
            Remedy.AUTH,
        )
