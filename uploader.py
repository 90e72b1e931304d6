"""Upload: publish a prepared video with its thumbnail to YouTube, or to a local folder.

`UPLOAD_TARGET=youtube` runs three recorded steps (YouTube Data API v3):
  1. `video`: `videos.insert`, always as private, resumable, in `UPLOAD_CHUNK_MB` chunks;
  2. `thumbnail`: `thumbnails.set` with the workspace's `thumbnail.jpg`;
  3. `privacy`: `videos.update` to the video's privacy status, only once the thumbnail is set,
     so a video is never visible without its thumbnail.
`UPLOAD_TARGET=local` has one step, `publish`: the video, `thumbnail.jpg` and `metadata.json` are
copied into `PUBLISH_DIR/<slug>/` through a temporary folder renamed into place.

Each finished step is recorded in the workspace's `upload.json`, written atomically; a rerun
resumes at the first step not done and never publishes a video twice. The resumable session of
step 1 (its URI is a credential) is kept in `upload_session.json` with mode 0600, never logged:
after a crash the next run asks YouTube how many bytes it holds and sends only the rest.
"""

from __future__ import annotations

import errno
import http.client
import io
import itertools
import json
import logging
import mimetypes
import os
import re
import shutil
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow
from googleapiclient.discovery import Resource, build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest, MediaIoBaseUpload, build_http
from oauthlib.oauth2 import OAuth2Error

from config import get_settings
from errors import NeedsAttentionError, PipelineError, QuotaExhaustedError, RetryLaterError, Step
from video_prep import MatchMetadata, load_metadata
from workspace import (
    METADATA_FILE,
    THUMBNAIL_FILE,
    UPLOAD_FILE,
    UPLOAD_SESSION_FILE,
    atomic_write_json,
    atomic_write_text,
    fsync_path,
    read_json,
    workspace_dir,
)

log = logging.getLogger(__name__)

# videos.update (the privacy change) accepts youtube, youtube.force-ssl or youtubepartner;
# youtube.force-ssl is the narrowest of them and also covers videos.insert, thumbnails.set and
# channels.list.
SCOPES = ("https://www.googleapis.com/auth/youtube.force-ssl",)
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
MIB = 1024 * 1024
COPY_BLOCK = 8 * MIB

STEP_VIDEO, STEP_THUMBNAIL, STEP_PRIVACY, STEP_PUBLISH = "video", "thumbnail", "privacy", "publish"
STEPS = {"youtube": (STEP_VIDEO, STEP_THUMBNAIL, STEP_PRIVACY), "local": (STEP_PUBLISH,)}

# Network errno values worth a retry that Python does not map to ConnectionError.
_NETWORK_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
# Google asks clients to back off and retry these 403 reasons.
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_QUOTA_REASONS = {"quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded"}
# Records of these libraries carry authorization codes and tokens (debug) or the code (info).
_OAUTH_LOGGERS = ("requests_oauthlib", "oauthlib", "google_auth_oauthlib")

ProgressCallback = Callable[[int, int], None]


class AuthError(NeedsAttentionError):
    """No usable YouTube token: missing, expired, revoked or without the needed permission."""


class ClientSecretsError(NeedsAttentionError):
    """GOOGLE_CLIENT_SECRETS is missing or not a desktop-app OAuth client."""


class QuotaExceededError(QuotaExhaustedError):
    """The YouTube API quota or the channel's upload limit is used up for today."""


class ThumbnailNotAllowedError(NeedsAttentionError):
    """The channel may not set custom thumbnails (it is not verified)."""


class ThumbnailMissingError(PipelineError):
    pass


class ThumbnailTooLargeError(PipelineError):
    pass


class SourceVideoMissingError(PipelineError):
    pass


class YouTubeRejectedError(PipelineError):
    """YouTube refused a request (400 and similar); the message carries YouTube's own words."""


class NoChannelError(NeedsAttentionError):
    pass


class YouTubeUnreachableError(PipelineError):
    pass


class UploadTargetChangedError(PipelineError):
    pass


class UploadSessionLostError(PipelineError):
    """The session expired while the last chunk may have completed the video."""


class UploadRecordUnreadableError(PipelineError):
    pass


class UploadInterruptedError(RetryLaterError):
    """Transient failures outlasted the retries; not a PipelineError, so it is retried later."""


@dataclass(frozen=True)
class Backoff:
    """Bounded exponential backoff for transient failures (5xx, dropped connections)."""

    attempts: int
    first_seconds: float
    max_seconds: float

    def delay(self, failure: int) -> float:
        return min(self.max_seconds, self.first_seconds * 2 ** (failure - 1))


TRANSIENT_RETRY = Backoff(attempts=6, first_seconds=1.0, max_seconds=30.0)
SESSION_SAVE_SECONDS = 5.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- the record ---------------------------------------------------------------------------------


@dataclass
class UploadRecord:
    """What was published where, and which steps are done (the workspace's upload.json)."""

    target: str
    video_file: str
    video_id: str | None = None
    url: str | None = None
    published_path: str | None = None
    privacy_status: str | None = None
    steps_done: list[str] = field(default_factory=list)
    step_times: dict[str, str] = field(default_factory=dict)
    started_at: str = field(default_factory=_now)
    completed_at: str | None = None

    @property
    def complete(self) -> bool:
        return all(step in self.steps_done for step in STEPS[self.target])

    @property
    def steps_missing(self) -> list[str]:
        return [step for step in STEPS[self.target] if step not in self.steps_done]

    def done(self, step: str) -> bool:
        return step in self.steps_done

    def mark_done(self, step: str) -> None:
        self.steps_done.append(step)
        self.step_times[step] = _now()
        if self.complete:
            self.completed_at = self.step_times[step]


def load_upload_record(video_path: Path) -> UploadRecord | None:
    """The video's upload.json, or None before its first upload attempt."""
    path = workspace_dir(Path(video_path)) / UPLOAD_FILE
    if not path.is_file():
        return None
    try:
        data = read_json(path)
        record = UploadRecord(
            **{f.name: data[f.name] for f in fields(UploadRecord) if f.name in data}
        )
    except (ValueError, TypeError) as error:
        raise _record_unreadable(path, type(error).__name__) from None
    if record.target not in STEPS:
        raise _record_unreadable(path, f"unknown target {record.target!r}")
    return record


def _record_unreadable(path: Path, problem: str) -> UploadRecordUnreadableError:
    return UploadRecordUnreadableError(
        f"{path}: damaged ({problem}); check on the target (YouTube Studio or PUBLISH_DIR) "
        "whether the video is there, then delete this file and run the upload again (it starts "
        "over)."
    )


def _save_record(video: Path, record: UploadRecord) -> None:
    atomic_write_json(workspace_dir(video) / UPLOAD_FILE, asdict(record))


# -- entry point --------------------------------------------------------------------------------


def upload_single_video(video_path: Path, progress: ProgressCallback | None = None) -> UploadRecord:
    """Publish one video to UPLOAD_TARGET, resuming at the first step not done.

    `progress(done_bytes, total_bytes)` is called as bytes go; if it raises, the upload stops
    between chunks with everything recorded, and the next call resumes.
    """
    video = Path(video_path)
    target = get_settings().upload_target
    record = load_upload_record(video)
    if record is not None and record.target != target:
        raise UploadTargetChangedError(
            f"{video.name}: already published with UPLOAD_TARGET={record.target} "
            f"({record.url or record.published_path}); to publish it to {target} as well, delete "
            f"{workspace_dir(video) / UPLOAD_FILE} and run the upload again."
        )
    if record is not None and record.complete:
        log.info("%s: already published (%s)", video.name, record.url)
        return record
    metadata = load_metadata(video)
    thumbnail = _thumbnail_of(video)
    if not video.is_file():
        raise SourceVideoMissingError(
            f"{video}: the video file is gone; put it back in INPUT_DIR to publish it."
        )
    record = record or UploadRecord(target=target, video_file=video.name)
    report = progress or (lambda done, total: None)
    if target == "local":
        return _publish_locally(video, thumbnail, record, report)
    return _publish_on_youtube(video, metadata, thumbnail, record, report)


def _thumbnail_of(video: Path) -> Path:
    thumbnail = workspace_dir(video) / THUMBNAIL_FILE
    if not thumbnail.is_file():
        raise ThumbnailMissingError(f"{video.name}: no {THUMBNAIL_FILE} yet", Step.ENHANCE)
    size = thumbnail.stat().st_size
    if size > THUMBNAIL_MAX_BYTES:
        raise ThumbnailTooLargeError(
            f"{thumbnail}: {size / MIB:.1f} MB, YouTube accepts at most 2 MB; render it again "
            "or save it as a smaller JPEG",
            Step.ENHANCE,
        )
    return thumbnail


# -- local target -------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """`ms_Nguyễn Đức HuyvsTrâm.mp4` -> `ms-nguyen-duc-huyvstram-mp4`."""
    folded = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "video"


def _free_folder(parent: Path, name: str) -> Path:
    for number in itertools.count(1):
        candidate = parent / (name if number == 1 else f"{name}-{number}")
        if not candidate.exists():
            return candidate
    raise AssertionError("unreachable")


def _publish_locally(
    video: Path, thumbnail: Path, record: UploadRecord, progress: ProgressCallback
) -> UploadRecord:
    folder = Path(record.published_path) if record.published_path else None
    if folder is None or (folder.exists() and not (folder / video.name).is_file()):
        # Chosen and recorded before anything is copied: a rerun after a crash finds the folder
        # (complete, since it appears by one rename) instead of publishing again. A folder that
        # another video took meanwhile is not this one's.
        folder = _free_folder(get_settings().publish_dir, slugify(video.name))
        record.published_path = str(folder)
        _save_record(video, record)
    if not folder.exists():
        sources = [video, thumbnail, workspace_dir(video) / METADATA_FILE]
        _copy_folder_into_place(sources, folder, progress)
    record.url = folder.resolve().as_uri()
    record.mark_done(STEP_PUBLISH)
    _save_record(video, record)
    log.info("%s: published to %s", video.name, folder)
    return record


def _copy_folder_into_place(sources: list[Path], folder: Path, progress: ProgressCallback) -> None:
    """Copy into a hidden folder of this call's own, then rename it to `folder` in one step
    (which fails, keeping what is there, if another video took `folder` meanwhile)."""
    for leftover in folder.parent.glob(f".{folder.name}.*.partial"):  # from a crashed run
        shutil.rmtree(leftover, ignore_errors=True)
    partial = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.mkdir(parents=True)
    try:
        total = sources[0].stat().st_size
        _copy_file(sources[0], partial / sources[0].name, lambda done: progress(done, total))
        for source in sources[1:]:
            _copy_file(source, partial / source.name, lambda done: None)
        fsync_path(partial)
        os.rename(partial, folder)
        fsync_path(folder.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _copy_file(source: Path, target: Path, copied: Callable[[int], None]) -> None:
    done = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while block := reader.read(COPY_BLOCK):
            writer.write(block)
            done += len(block)
            copied(done)
        writer.flush()
        os.fsync(writer.fileno())


# -- OAuth token --------------------------------------------------------------------------------


@dataclass
class _Account:
    credentials: Credentials
    saved_token: str | None

    def save_if_refreshed(self) -> None:
        """Keep a token refreshed during the run, so the next run need not refresh it again."""
        if self.credentials.token != self.saved_token:
            _save_token(self.credentials)
            self.saved_token = self.credentials.token


def _save_token(credentials: Credentials) -> None:
    atomic_write_text(get_settings().youtube_token_file, credentials.to_json(), mode=0o600)


def _auth_error(problem: str) -> AuthError:
    path = get_settings().youtube_token_file
    return AuthError(f"YouTube token {path}: {problem}; authorize again", Step.AUTH)


def _load_account() -> _Account:
    """The saved token, refreshed when it has expired."""
    path = get_settings().youtube_token_file
    if not path.is_file():
        raise AuthError(f"No YouTube token at {path}: authorize uploads first", Step.AUTH)
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by other users; restricting it to mode 0600", path)
        path.chmod(0o600)
    try:
        text = path.read_bytes()
    except OSError as error:
        raise _auth_error(f"cannot be read ({error.strerror}); fix its permissions") from None
    try:
        info = json.loads(text)
        loaded = Credentials.from_authorized_user_info(info)
        # google-auth always points a loaded token at Google; the file keeps the endpoint of
        # the OAuth client it came from (GOOGLE_CLIENT_SECRETS), which tests point elsewhere.
        credentials = loaded.with_token_uri(info.get("token_uri") or GOOGLE_TOKEN_URI)
        credentials.expiry = loaded.expiry  # the copy forgets it
    except (ValueError, AttributeError):
        raise _auth_error("not a saved authorization (damaged or from another tool)") from None
    missing = sorted(set(SCOPES) - set(info.get("scopes") or []))
    if missing:
        raise _auth_error(f"it does not grant {', '.join(missing)}")
    account = _Account(credentials, credentials.token)
    if not credentials.valid:
        with _auth_failures():
            credentials.refresh(google_auth_httplib2.Request(build_http()))
        account.save_if_refreshed()
    return account


@contextmanager
def _auth_failures() -> Iterator[None]:
    try:
        yield
    except RefreshError as error:
        if getattr(error, "retryable", False):
            raise
        raise _auth_error("Google refused to refresh it (expired or revoked)") from None


@contextmanager
def _quiet(logger_names: tuple[str, ...]) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in logger_names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _auth_prompt(port: int) -> str:
    where = f"http://localhost:{port}/" if port else "the redirect address in that URL"
    forward = f"ssh -L {port}:localhost:{port} <this machine>" if port else "ssh -L"
    return (
        "Open this URL in a browser, sign in with the café's YouTube account and allow access:"
        "\n\n    {url}\n\n"
        f"Google then sends the browser back to {where} on this machine. If the browser runs "
        f"on another computer, forward that port to this machine first ({forward}).\n"
        "Waiting for the authorization..."
    )


def run_auth_flow() -> None:
    """Installed-app OAuth consent with a local redirect; saves the token with mode 0600."""
    settings = get_settings()
    flow = _installed_app_flow(settings.google_client_secrets)
    # The flow prints the URL, then waits: through a pipe (`| tee`, no terminal) a block
    # buffered stdout would hold the URL back until it is too late.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    try:
        with _quiet(_OAUTH_LOGGERS):
            credentials = flow.run_local_server(
                host="localhost",
                port=settings.youtube_auth_port,
                open_browser=False,
                authorization_prompt_message=_auth_prompt(settings.youtube_auth_port),
                success_message="The café uploader is authorized; you can close this tab.",
                access_type="offline",
                prompt="consent",
            )
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise AuthError(
            f"Port {settings.youtube_auth_port} on this machine is in use: stop what uses it or "
            "set YOUTUBE_AUTH_PORT to a free port, then run auth again."
        ) from None
    except OAuth2Error as error:
        raise AuthError(
            f"Google did not authorize the uploader ({error.error}: {error.description}); "
            "run auth again and allow access."
        ) from None
    granted = set(getattr(credentials, "granted_scopes", None) or credentials.scopes or ())
    missing = sorted(set(SCOPES) - granted)
    if missing:
        raise AuthError(
            f"The authorization does not include {', '.join(missing)}; run auth again and leave "
            "every permission ticked."
        )
    if not credentials.refresh_token:
        raise AuthError(
            "Google returned no refresh token; remove the uploader's access at "
            "https://myaccount.google.com/permissions and run auth again."
        )
    _save_token(credentials)
    log.info("YouTube token saved to %s (mode 0600)", settings.youtube_token_file)


def _installed_app_flow(secrets_path: Path) -> InstalledAppFlow:
    fix = (
        "create an OAuth client of type Desktop app in Google Cloud Console (APIs & Services > "
        "Credentials, with the YouTube Data API v3 enabled), download its JSON there, or set "
        "GOOGLE_CLIENT_SECRETS"
    )
    if not secrets_path.is_file():
        raise ClientSecretsError(f"{secrets_path}: no OAuth client file; {fix}.")
    try:
        config = json.loads(secrets_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ClientSecretsError(f"{secrets_path}: not valid JSON; {fix}.") from None
    if not isinstance(config, dict) or "installed" not in config:
        raise ClientSecretsError(
            f'{secrets_path}: not a Desktop app OAuth client (no "installed" section); {fix}.'
        )
    try:
        return InstalledAppFlow.from_client_config(config, scopes=list(SCOPES))
    except ValueError as error:
        raise ClientSecretsError(f"{secrets_path}: {error}; {fix}.") from None


# -- YouTube API --------------------------------------------------------------------------------


def _youtube_client(account: _Account) -> Resource:
    """The API client; YOUTUBE_API_ROOT replaces Google's root, media uploads included."""
    document = json.loads(get_static_doc("youtube", "v3"))
    root = get_settings().youtube_api_root
    if root:
        document["rootUrl"] = document["mtlsRootUrl"] = root
        document["baseUrl"] = root + document.get("servicePath", "")
    # build_http() keeps 308 (the resumable protocol's "resume incomplete") from being
    # followed as a redirect.
    http = google_auth_httplib2.AuthorizedHttp(account.credentials, http=build_http())
    return build_from_document(document, http=http)


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
_RETRYABLE_TYPES = (
    HttpError,
    OSError,
    http.client.HTTPException,
    httplib2.HttpLib2Error,
    TransportError,
    RefreshError,
)


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, HttpError):
        status = error.resp.status
        return status >= 500 or status in (408, 429) or _error_reason(error) in _RATE_LIMIT_REASONS
    if isinstance(error, RefreshError):
        return bool(getattr(error, "retryable", False))
    if isinstance(error, OSError) and not isinstance(error, ConnectionError | TimeoutError):
        return error.errno in _NETWORK_ERRNOS
    return isinstance(error, _TRANSIENT_NETWORK_ERRORS)


def _describe(error: BaseException) -> str:
    if isinstance(error, HttpError):
        return f"HTTP {error.resp.status}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _translate(error: HttpError, subject: str, call: str) -> PipelineError | None:
    """The PipelineError a person must act on, or None when retrying may help."""
    status, reason, message = error.resp.status, _error_reason(error), error.reason
    plain_message = re.sub(r"<[^>]+>", "", message)
    if status == 401:
        return _auth_error(f"YouTube refused it during {call} (expired or revoked)")
    if reason in _QUOTA_REASONS:
        what = "upload limit" if reason == "uploadLimitExceeded" else "daily API quota"
        return QuotaExceededError(
            f"{subject}: the YouTube {what} is used up ({reason}: {plain_message}); it resets at "
            "midnight Pacific time, and the upload resumes where it stopped",
            Step.UPLOAD,
        )
    if status == 403 and call == "thumbnails.set":
        return ThumbnailNotAllowedError(
            f"{subject}: YouTube refused the custom thumbnail ({plain_message}); the channel "
            "must be verified for custom thumbnails (https://www.youtube.com/verify). The video "
            "stays private until the upload runs again after the channel is verified",
            Step.UPLOAD,
        )
    if _is_transient(error):
        return None
    return YouTubeRejectedError(
        f"{subject}: YouTube rejected {call} (HTTP {status} {reason}): {plain_message}"
    )


def _final(error: BaseException, subject: str, call: str) -> BaseException:
    """The error to raise for a failure that retrying cannot fix."""
    if isinstance(error, HttpError):
        return _translate(error, subject, call) or error
    return error


@contextmanager
def _youtube_errors(subject: str, call: str) -> Iterator[None]:
    """Turn YouTube's refusals into the PipelineError that tells the operator what to do."""
    with _auth_failures():
        try:
            yield
        except HttpError as error:
            translated = _translate(error, subject, call)
            if translated is None:
                raise
            raise translated from None


def _execute_with_retries(request: HttpRequest, subject: str, call: str) -> Any:
    for failure in itertools.count(1):
        try:
            with _youtube_errors(subject, call):
                return request.execute()
        except _RETRYABLE_TYPES as error:
            if not _is_transient(error):
                raise
            if failure >= TRANSIENT_RETRY.attempts:
                raise UploadInterruptedError(
                    f"{subject}: {call} failed {failure} times in a row ({_describe(error)}); "
                    "nothing is lost, run the upload again."
                ) from error
            _wait_before_retry(subject, call, error, failure)
    raise AssertionError("unreachable")


def _wait_before_retry(subject: str, call: str, error: BaseException, failure: int) -> None:
    delay = TRANSIENT_RETRY.delay(failure)
    log.warning(
        "%s: %s failed (%s); retry %d of %d in %.1f s",
        subject,
        call,
        _describe(error),
        failure,
        TRANSIENT_RETRY.attempts - 1,
        delay,
    )
    time.sleep(delay)


def validate_auth() -> None:
    """One cheap call (channels.list mine=true) proving the saved token can reach the channel."""
    try:
        account = _load_account()
        youtube = _youtube_client(account)
        with _youtube_errors("Checking the YouTube token", "channels.list"):
            answer = youtube.channels().list(part="id", mine=True).execute()
    except _RETRYABLE_TYPES as error:
        if not _is_transient(error):
            raise
        root = get_settings().youtube_api_root or "https://youtube.googleapis.com/"
        raise YouTubeUnreachableError(
            f"Cannot reach YouTube at {root} ({_describe(error)}); check the network "
            "(or YOUTUBE_API_ROOT) and try again."
        ) from None
    account.save_if_refreshed()
    if not answer.get("items"):
        raise NoChannelError(
            "The authorized Google account has no YouTube channel: create the channel, or "
            "authorize again and sign in with the café's channel account",
            Step.AUTH,
        )


def _publish_on_youtube(
    video: Path,
    metadata: MatchMetadata,
    thumbnail: Path,
    record: UploadRecord,
    progress: ProgressCallback,
) -> UploadRecord:
    account = _load_account()
    youtube = _youtube_client(account)
    try:
        if not record.done(STEP_VIDEO):
            chunk_bytes = get_settings().upload_chunk_mb * MIB
            resource = _ResumableUpload(youtube, video, metadata, chunk_bytes, progress).run()
            record.video_id = resource["id"]
            record.url = f"https://youtu.be/{record.video_id}"
            record.privacy_status = "private"
            record.mark_done(STEP_VIDEO)
            _save_record(video, record)
            log.info("%s: uploaded as %s (private)", video.name, record.url)
        _forget_session(video)
        if not record.done(STEP_THUMBNAIL):
            _set_thumbnail(youtube, video, record, thumbnail)
        if not record.done(STEP_PRIVACY):
            _set_privacy(youtube, video, record, metadata.privacy_status)
    finally:
        account.save_if_refreshed()
    return record


def _set_thumbnail(youtube: Resource, video: Path, record: UploadRecord, thumbnail: Path) -> None:
    with thumbnail.open("rb") as handle:
        media = MediaIoBaseUpload(handle, mimetype="image/jpeg", resumable=False)
        request = youtube.thumbnails().set(videoId=record.video_id, media_body=media)
        _execute_with_retries(request, video.name, "thumbnails.set")
    record.mark_done(STEP_THUMBNAIL)
    _save_record(video, record)
    log.info("%s: thumbnail set", video.name)


def _set_privacy(youtube: Resource, video: Path, record: UploadRecord, privacy: str) -> None:
    if privacy != "private":
        body = {
            "id": record.video_id,
            "status": {"privacyStatus": privacy, "selfDeclaredMadeForKids": False},
        }
        request = youtube.videos().update(part="status", body=body)
        _execute_with_retries(request, video.name, "videos.update")
    record.privacy_status = privacy
    record.mark_done(STEP_PRIVACY)
    _save_record(video, record)
    log.info("%s: now %s at %s", video.name, privacy, record.url)


# -- the resumable upload -----------------------------------------------------------------------


class _ChunkMedia(MediaIoBaseUpload):
    """The video read chunk by chunk into memory, the next chunk read while this one is sent.

    googleapiclient otherwise hands httplib2 a slice of the open file; when httplib2 or the
    token refresh repeats a request (stale connection, 401), that slice is already consumed
    and the repeat sends a truncated body. A chunk in memory can be sent again as it is. It is
    a memoryview so http.client sends it as it is, instead of copying it behind the headers.
    """

    def __init__(self, handle: BinaryIO, mimetype: str, chunk_bytes: int, reader: Executor):
        super().__init__(handle, mimetype, chunksize=chunk_bytes, resumable=True)
        self._descriptor = handle.fileno()
        self._reader = reader
        self._ahead: tuple[int, Future[bytes]] | None = None

    def has_stream(self) -> bool:
        return False

    def getbytes(self, begin: int, length: int) -> memoryview:
        if self._ahead is not None and self._ahead[0] == begin:
            data = self._ahead[1].result()
        else:
            data = os.pread(self._descriptor, length, begin)
        following = begin + len(data)
        self._ahead = None
        if following < self.size():
            read = self._reader.submit(os.pread, self._descriptor, length, following)
            self._ahead = (following, read)
        return memoryview(data)


def _session_path(video: Path) -> Path:
    return workspace_dir(video) / UPLOAD_SESSION_FILE


def _forget_session(video: Path) -> None:
    _session_path(video).unlink(missing_ok=True)


class _ResumableUpload:
    """Step 1: `videos.insert` as private, resumable, resuming a recorded session if any."""

    def __init__(
        self,
        youtube: Resource,
        video: Path,
        metadata: MatchMetadata,
        chunk_bytes: int,
        progress: ProgressCallback,
    ) -> None:
        self.youtube = youtube
        self.video = video
        self.metadata = metadata
        self.chunk_bytes = chunk_bytes
        self.progress = progress
        stat = video.stat()
        self.size = stat.st_size
        self.mtime_ns = stat.st_mtime_ns
        self.final_chunk_sent = False
        self.saved_at = 0.0
        self.handle: BinaryIO
        self.reader: Executor
        self.request: HttpRequest

    def run(self) -> dict[str, Any]:
        with self.video.open("rb") as self.handle, ThreadPoolExecutor(1) as self.reader:
            self.request = self._insert_request()
            session = self._recorded_session()
            if session is not None:
                self.request.resumable_uri = session["uri"]
                self.request.resumable_progress = session["offset"]
                self.final_chunk_sent = session.get("final_chunk_sent", False)
            return self._send(resync=session is not None)

    def _insert_request(self) -> HttpRequest:
        mimetype = mimetypes.guess_type(self.video.name)[0] or "application/octet-stream"
        media = _ChunkMedia(self.handle, mimetype, self.chunk_bytes, self.reader)
        body = {
            "snippet": {
                "title": self.metadata.title,
                "description": self.metadata.description,
                "tags": self.metadata.tags,
                "categoryId": self.metadata.category_id,
            },
            "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False},
        }
        return self.youtube.videos().insert(part="snippet,status", body=body, media_body=media)

    def _recorded_session(self) -> dict[str, Any] | None:
        path = _session_path(self.video)
        if not path.is_file():
            return None
        session = read_json(path)
        if (session.get("size"), session.get("mtime_ns")) != (self.size, self.mtime_ns):
            log.warning("%s changed since its upload began; starting a new upload", self.video)
            _forget_session(self.video)
            return None
        return session

    def _save_session(self) -> None:
        session = {
            "uri": self.request.resumable_uri,
            "offset": self.request.resumable_progress,
            "final_chunk_sent": self.final_chunk_sent,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "saved_at": _now(),
        }
        atomic_write_json(_session_path(self.video), session, mode=0o600)
        self.saved_at = time.monotonic()

    def _before_chunk(self) -> None:
        if self.request.resumable_uri is None:
            self._open_session()
        # Recorded before the last chunk goes: if the session then expires, YouTube may hold
        # the whole video, and a new session could make a second one.
        last = self.request.resumable_progress + self.chunk_bytes >= self.size
        if last and not self.final_chunk_sent:
            self.final_chunk_sent = True
            self._save_session()

    def _after_chunk(self) -> None:
        """Keep the recorded offset recent (YouTube's own answer decides where to resume)."""
        if time.monotonic() - self.saved_at >= SESSION_SAVE_SECONDS:
            self._save_session()
        try:
            self.progress(self.request.resumable_progress, self.size)
        except BaseException:  # the caller stops the upload: leave the exact offset behind
            self._save_session()
            raise

    def _send(self, resync: bool) -> dict[str, Any]:
        """Chunk loop; transient failures are retried after asking YouTube for its offset."""
        name = self.video.name
        failures = 0
        self.progress(self.request.resumable_progress, self.size)
        while True:
            try:
                with _auth_failures():
                    if resync:
                        finished = self._resync()
                        if finished is not None:
                            return finished
                        resync = False
                    self._before_chunk()
                    _, finished = self.request.next_chunk()
            except _RETRYABLE_TYPES as error:
                expired = isinstance(error, HttpError) and error.resp.status in (404, 410)
                if not (_is_transient(error) or expired):
                    raise _final(error, name, "videos.insert") from None
                failures += 1
                if failures >= TRANSIENT_RETRY.attempts:
                    raise UploadInterruptedError(
                        f"{name}: the upload failed {failures} times in a row at byte "
                        f"{self.request.resumable_progress} of {self.size} ({_describe(error)}); "
                        "the session is kept, run the upload again to resume."
                    ) from error
                _wait_before_retry(name, "the upload", error, failures)
                resync = True
                continue
            failures = 0
            if finished is not None:
                self.progress(self.size, self.size)
                return finished
            self._after_chunk()

    def _open_session(self) -> None:
        """Start the session ourselves, so its URI is saved before the first byte is sent."""
        request = self.request
        headers = {
            **request.headers,
            "X-Upload-Content-Type": request.resumable.mimetype(),
            "X-Upload-Content-Length": str(self.size),
            "content-length": str(request.body_size),
        }
        response, content = request.http.request(
            request.uri, method=request.method, body=request.body, headers=headers
        )
        if response.status != 200 or "location" not in response:
            raise HttpError(response, content, uri=request.uri)
        request.resumable_uri = response["location"]
        request.resumable_progress = 0
        self.final_chunk_sent = False
        self._save_session()
        log.info("%s: upload session opened (%d bytes to send)", self.video.name, self.size)

    def _resync(self) -> dict[str, Any] | None:
        """Ask YouTube how much of the video it holds; returns the video if it has it all."""
        # A new request: after a failure the old one would ask for the offset again itself.
        request = self._insert_request()
        request.resumable_uri = self.request.resumable_uri
        request.resumable_progress = self.request.resumable_progress
        self.request = request
        headers = {"Content-Range": f"bytes */{self.size}", "Content-Length": "0"}
        response, content = request.http.request(request.resumable_uri, "PUT", headers=headers)
        if response.status in (200, 201):
            return json.loads(content)
        if response.status == 308:
            held = re.fullmatch(r"bytes=0-(\d+)", response.get("range", ""))
            request.resumable_progress = int(held.group(1)) + 1 if held else 0
            log.info(
                "%s: resuming at byte %d of %d",
                self.video.name,
                request.resumable_progress,
                self.size,
            )
            return None
        if response.status in (404, 410):
            self._session_expired()
            return None
        raise HttpError(response, content, uri=request.uri)  # the session URI stays out

    def _session_expired(self) -> None:
        if self.final_chunk_sent:
            raise UploadSessionLostError(
                f"{self.video.name}: the upload session expired after its last chunk was sent, "
                "so YouTube may already have the video. Look in YouTube Studio: if it is there, "
                "delete it or keep it by hand; if not, delete "
                f"{_session_path(self.video)} and run the upload again."
            )
        log.warning("%s: the upload session expired; starting a new one", self.video.name)
        _forget_session(self.video)
        self.request.resumable_uri = None
        self.request.resumable_progress = 0
