"""Upload: publish a prepared video with its thumbnail to YouTube, or to a local folder.

`UPLOAD_TARGET=youtube` runs four recorded steps (YouTube Data API v3, the `youtube` package):
  1. `video`: `videos.insert`, always as private, resumable, in `UPLOAD_CHUNK_MB` chunks, with
     the filled description, the language and the recording date;
  2. `thumbnail`: `thumbnails.set` with the workspace's `thumbnail.jpg`;
  3. `privacy`: the video's status read and sent back whole with its privacy status, or with
     `publishAt` when scheduled (`PUBLISH_AT`), only once the thumbnail is set, so a video is
     never visible without its thumbnail;
  4. `playlist`: the video added to its playlist (`YOUTUBE_PLAYLIST`), found or created; last,
     so a playlist that fails (quota, a playlist deleted meanwhile) never holds the video back.
     A playlist YouTube refuses for good (a 400 or 403 that is no quota or token) is recorded as
     the record's `playlist_problem`, not raised: the video is out, and `published`.
     `add_to_playlist_again` runs the step again later, on the workspace wherever it is then.
`UPLOAD_TARGET=local` has one step, `publish`: the video, `thumbnail.jpg` and `metadata.json`
(what YouTube would get: the filled description, the playlist, the publish time) are written into
`PUBLISH_DIR/<slug>/` through a temporary folder renamed into place.

The file sent is the video's branded copy when the branding stage made one (`video_branding`:
the titles, the burned logo), else the source as it is; the copy keeps the source's name.

Each finished step is recorded in the workspace's `upload.json`, written atomically; a rerun
resumes at the first step not done and never publishes a video twice.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from config import Settings, get_settings
from errors import PipelineError, Remedy
from formats.folding import slug
from prepare.metadata import MatchMetadata, load_metadata
from video_branding import branded_video_path
from workspace import (
    METADATA_FILE,
    THUMBNAIL_FILE,
    UPLOAD_FILE,
    atomic_write_bytes,
    atomic_write_json,
    fsync_path,
    read_json,
    workspace_dir,
)
from youtube import api, oauth, playlists
from youtube.api import Backoff, Channel
from youtube.common import (
    MIB,
    ProgressCallback,
    YouTubeAccess,
    rfc3339_utc,
    utc_now,
    utc_now_iso,
)
from youtube.errors import (
    AuthError,
    ClientSecretsError,
    NoChannelError,
    PlaylistNotFoundError,
    QuotaExceededError,
    ThumbnailNotAllowedError,
    UploadInterruptedError,
    UploadSessionLostError,
    YouTubeRejectedError,
    YouTubeUnreachableError,
)
from youtube.listing import Listing, ListingOptions, build_listing
from youtube.oauth import SCOPES
from youtube.quota import added_units
from youtube.upload import ResumableUpload, forget_session

__all__ = [
    "SCOPES",
    "STEPS",
    "STEP_PLAYLIST",
    "STEP_PRIVACY",
    "STEP_PUBLISH",
    "STEP_THUMBNAIL",
    "STEP_VIDEO",
    "AuthError",
    "Backoff",
    "ClientSecretsError",
    "NoChannelError",
    "NotPublishedError",
    "PlaylistRefusedError",
    "ProgressCallback",
    "PublishTimePassedError",
    "PublishedFolderGoneError",
    "QuotaExceededError",
    "SourceVideoMissingError",
    "ThumbnailMissingError",
    "ThumbnailNotAllowedError",
    "ThumbnailTooLargeError",
    "UploadInterruptedError",
    "UploadRecord",
    "UploadRecordUnreadableError",
    "UploadSessionLostError",
    "UploadTargetChangedError",
    "YouTubeRejectedError",
    "YouTubeUnreachableError",
    "add_to_playlist_again",
    "listing_options",
    "load_upload_record",
    "replace_thumbnail",
    "run_auth_flow",
    "upload_single_video",
    "validate_auth",
    "youtube_access",
]

log = logging.getLogger(__name__)

THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
COPY_BLOCK = 8 * MIB

STEP_VIDEO = "video"
STEP_THUMBNAIL = "thumbnail"
STEP_PRIVACY = "privacy"
STEP_PLAYLIST = "playlist"
STEP_PUBLISH = "publish"
STEPS = {
    "youtube": (STEP_VIDEO, STEP_THUMBNAIL, STEP_PRIVACY, STEP_PLAYLIST),
    "local": (STEP_PUBLISH,),
}


class ThumbnailMissingError(PipelineError):
    pass


class ThumbnailTooLargeError(PipelineError):
    pass


class SourceVideoMissingError(PipelineError):
    pass


class UploadTargetChangedError(PipelineError):
    pass


class UploadRecordUnreadableError(PipelineError):
    pass


class PublishTimePassedError(PipelineError):
    """The video's scheduled publish time is already past, before anything was uploaded."""


class PlaylistRefusedError(PipelineError):
    """YouTube refused, once more, to put a published video in its playlist."""


class UploadRecordMismatchError(PipelineError):
    """The workspace found for a published video records another upload."""


class NotPublishedError(PipelineError):
    """A thumbnail change for a video whose upload.json does not show it published."""


class PublishedFolderGoneError(PipelineError):
    """The local target's folder of a published video is no longer there."""


# -- the settings the youtube package is given ---------------------------------------------------


def youtube_access(settings: Settings) -> YouTubeAccess:
    return YouTubeAccess(
        token_file=settings.youtube_token_file,
        client_secrets=settings.google_client_secrets,
        auth_port=settings.youtube_auth_port,
        api_root=settings.youtube_api_root,
    )


def listing_options(settings: Settings) -> ListingOptions:
    return ListingOptions(
        cafe_timezone=settings.cafe_timezone,
        playlist_template=settings.youtube_playlist,
        publish_at=settings.publish_at,
        language=settings.video_language,
        made_for_kids=settings.made_for_kids,
    )


def validate_auth() -> None:
    """One cheap call proving the saved token (YOUTUBE_TOKEN_FILE) can reach the channel."""
    api.validate_auth(youtube_access(get_settings()))


def token_authorized_at() -> datetime | None:
    """When this machine's YouTube token (YOUTUBE_TOKEN_FILE) was authorized, when known."""
    return oauth.authorized_at(get_settings().youtube_token_file)


def run_auth_flow() -> None:
    """The consent flow (GOOGLE_CLIENT_SECRETS, YOUTUBE_AUTH_PORT); saves YOUTUBE_TOKEN_FILE."""
    oauth.run_auth_flow(youtube_access(get_settings()))


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
    publish_at: str | None = None  # ISO, the café's zone: when YouTube makes it public
    playlist: str | None = None
    playlist_id: str | None = None
    # why YouTube refused the playlist step for good (the video is published without it)
    playlist_problem: str | None = None
    steps_done: list[str] = field(default_factory=list)
    step_times: dict[str, str] = field(default_factory=dict)
    started_at: str = field(default_factory=utc_now_iso)
    completed_at: str | None = None
    # YouTube quota units its calls spent, by quota day (Pacific): every attempt's
    quota_units: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        # A record completed before a step was added (the playlist) stays complete.
        return self.completed_at is not None or not self.steps_missing

    @property
    def published(self) -> bool:
        """The video is out: every step done, or all but a playlist YouTube refused."""
        return self.complete or (
            self.steps_missing == [STEP_PLAYLIST] and self.playlist_problem is not None
        )

    @property
    def steps_missing(self) -> list[str]:
        return [step for step in STEPS[self.target] if step not in self.steps_done]

    def done(self, step: str) -> bool:
        return step in self.steps_done

    def mark_done(self, step: str) -> None:
        self.steps_done.append(step)
        self.step_times[step] = utc_now_iso()
        if not self.steps_missing:
            self.completed_at = self.step_times[step]


def load_upload_record(video_path: Path, workspace: Path | None = None) -> UploadRecord | None:
    """The video's upload.json (in `workspace` when it is not the video's own, e.g. archived),
    or None before its first upload attempt."""
    return _record_in(workspace or workspace_dir(Path(video_path)))


def _record_in(workspace: Path) -> UploadRecord | None:
    path = workspace / UPLOAD_FILE
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
        "whether the video is there, then delete this file (the upload then starts over)",
        Remedy.UPLOAD,
    )


def _save_record(video: Path, record: UploadRecord) -> None:
    _save_record_in(workspace_dir(video), record)


def _save_record_in(workspace: Path, record: UploadRecord) -> None:
    atomic_write_json(workspace / UPLOAD_FILE, asdict(record))


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
            f"{workspace_dir(video) / UPLOAD_FILE}",
            Remedy.UPLOAD,
        )
    if record is not None and record.complete:
        log.info("%s: already published (%s)", video.name, record.url)
        return record
    metadata = load_metadata(video)
    listing = build_listing(metadata, listing_options(get_settings()))
    thumbnail = _thumbnail_of(video)
    if not video.is_file():
        raise SourceVideoMissingError(
            f"{video}: the video file is gone; put it back in INPUT_DIR to publish it."
        )
    record = record or UploadRecord(target=target, video_file=video.name)
    if not record.done(STEP_VIDEO):
        _refuse_a_past_schedule(video, metadata, listing)
    report = progress or (lambda done, total: None)
    if target == "local":
        return _publish_locally(video, metadata, listing, thumbnail, record, report)
    return _publish_on_youtube(video, listing, thumbnail, record, report)


def file_to_publish(video: Path) -> Path:
    """The branded copy when the branding stage made one (it removes a copy the settings no
    longer ask for), else the source."""
    branded = branded_video_path(video)
    return branded if branded.is_file() else video


def _thumbnail_of(video: Path, workspace: Path | None = None) -> Path:
    thumbnail = (workspace or workspace_dir(video)) / THUMBNAIL_FILE
    if not thumbnail.is_file():
        raise ThumbnailMissingError(f"{video.name}: no {THUMBNAIL_FILE} yet", Remedy.ENHANCE)
    size = thumbnail.stat().st_size
    if size > THUMBNAIL_MAX_BYTES:
        raise ThumbnailTooLargeError(
            f"{thumbnail}: {size / MIB:.1f} MB, YouTube accepts at most 2 MB; render it again "
            "or save it as a smaller JPEG",
            Remedy.ENHANCE,
        )
    return thumbnail


def _refuse_a_past_schedule(video: Path, metadata: MatchMetadata, listing: Listing) -> None:
    """A date-time already past is a mistake to fix before anything uploads (a time of day is
    always ahead: its next occurrence)."""
    now = utc_now()
    if not listing.schedule or listing.final_status(now)[1] is not None:
        return
    zone = get_settings().cafe_timezone
    if metadata.publish_at:
        where, redo = f"the sidecar {video.name}.json sets publish_at", Remedy.PREPARE
    else:
        where, redo = "PUBLISH_AT is", Remedy.UPLOAD
    raise PublishTimePassedError(
        f"{video.name}: {where} {listing.schedule!r}, which is past (now "
        f"{now.astimezone(zone):%Y-%m-%d %H:%M} in CAFE_TIMEZONE); set a time ahead, a time of "
        "day such as 18:00, or none",
        redo,
    )


# -- a thumbnail changed after publishing --------------------------------------------------------


def replace_thumbnail(
    video_path: Path, workspace: Path, spent: Callable[[dict[str, int]], None]
) -> UploadRecord:
    """Put `workspace`'s thumbnail.jpg in place of the published video's: `thumbnails.set` on
    YouTube, or the file in its PUBLISH_DIR folder (written aside, then renamed). `spent` gets
    the quota units its calls cost, by quota day, whether or not YouTube took it. Returns the
    video's upload record."""
    video = Path(video_path)
    record = load_upload_record(video, workspace)
    if record is None or not record.complete:
        raise NotPublishedError(
            f"{video.name}: not published (its upload.json in {workspace} does not show it "
            "done); only a published video's thumbnail can be changed"
        )
    thumbnail = _thumbnail_of(video, workspace)
    if record.target == "local":
        folder = Path(record.published_path or "")
        if not folder.is_dir():
            raise PublishedFolderGoneError(
                f"{video.name}: its published folder {folder} is gone; the new thumbnail stays "
                f"in {workspace}"
            )
        atomic_write_bytes(folder / THUMBNAIL_FILE, thumbnail.read_bytes())
        return record
    channel = api.connect(youtube_access(get_settings()))
    try:
        api.set_thumbnail(channel, _video_id(record), thumbnail, video.name)
    except ThumbnailNotAllowedError:
        raise ThumbnailNotAllowedError(
            f"{video.name}: YouTube refused the new thumbnail; the channel must be verified for "
            "custom thumbnails (https://www.youtube.com/verify). The published video keeps the "
            "thumbnail it has until the change goes through"
        ) from None
    finally:
        channel.account.save_if_refreshed()
        spent(channel.meter.take())
    log.info("%s: thumbnail replaced on YouTube", video.name)
    return record


# -- local target -------------------------------------------------------------------------------


def _free_folder(parent: Path, name: str) -> Path:
    for number in itertools.count(1):
        candidate = parent / (name if number == 1 else f"{name}-{number}")
        if not candidate.exists():
            return candidate
    raise AssertionError("unreachable")


def _publish_locally(
    video: Path,
    metadata: MatchMetadata,
    listing: Listing,
    thumbnail: Path,
    record: UploadRecord,
    progress: ProgressCallback,
) -> UploadRecord:
    folder = Path(record.published_path) if record.published_path else None
    if folder is None or (folder.exists() and not (folder / video.name).is_file()):
        # Chosen and recorded before anything is copied: a rerun after a crash finds the folder
        # (complete, since it appears by one rename) instead of publishing again. A folder that
        # another video took meanwhile is not this one's.
        folder = _free_folder(get_settings().publish_dir, slug(video.name))
        record.published_path = str(folder)
        _save_record(video, record)
    if not folder.exists():
        published = listing.as_published(metadata, *listing.final_status(utc_now()))
        _copy_folder_into_place(video, thumbnail, published, folder, progress)
    else:  # published by a run that crashed before recording it
        published = read_json(folder / METADATA_FILE)
    record.url = folder.resolve().as_uri()
    record.privacy_status = published.get("privacy_status")
    record.publish_at = published.get("publish_at")
    record.playlist = published.get("playlist")
    record.mark_done(STEP_PUBLISH)
    _save_record(video, record)
    log.info("%s: published to %s", video.name, folder)
    return record


def _copy_folder_into_place(
    video: Path,
    thumbnail: Path,
    published: dict[str, Any],
    folder: Path,
    progress: ProgressCallback,
) -> None:
    """Copy into a hidden folder of this call's own, then rename it to `folder` in one step
    (which fails, keeping what is there, if another video took `folder` meanwhile)."""
    for leftover in folder.parent.glob(f".{folder.name}.*.partial"):  # from a crashed run
        shutil.rmtree(leftover, ignore_errors=True)
    partial = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.mkdir(parents=True)
    media = file_to_publish(video)
    try:
        total = media.stat().st_size
        _copy_file(media, partial / video.name, lambda done: progress(done, total))
        _copy_file(thumbnail, partial / thumbnail.name, lambda done: None)
        text = json.dumps(published, indent=2, ensure_ascii=False) + "\n"
        (partial / METADATA_FILE).write_text(text, encoding="utf-8")
        fsync_path(partial / METADATA_FILE)
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


# -- YouTube target -----------------------------------------------------------------------------


def _publish_on_youtube(
    video: Path,
    listing: Listing,
    thumbnail: Path,
    record: UploadRecord,
    progress: ProgressCallback,
) -> UploadRecord:
    channel = api.connect(youtube_access(get_settings()))
    try:
        if not record.done(STEP_VIDEO):
            chunk_bytes = get_settings().upload_chunk_mb * MIB
            body = listing.insert_body()
            media = file_to_publish(video)
            resource = ResumableUpload(channel, video, body, chunk_bytes, progress, media).run()
            record.video_id = resource["id"]
            record.url = f"https://youtu.be/{record.video_id}"
            record.privacy_status = "private"
            record.mark_done(STEP_VIDEO)
            _save_record(video, record)
            log.info("%s: uploaded as %s (private)", video.name, record.url)
        forget_session(video)
        if not record.done(STEP_THUMBNAIL):
            _set_thumbnail(channel, video, record, thumbnail)
        if not record.done(STEP_PRIVACY):
            _set_privacy(channel, video, record, listing)
        if not record.done(STEP_PLAYLIST):
            _playlist_step(channel, record, listing, video.name, workspace_dir(video))
    finally:
        channel.account.save_if_refreshed()
        if spent := channel.meter.take():
            record.quota_units = added_units(record.quota_units, spent)
            _save_record(video, record)
    return record


def add_to_playlist_again(workspace: Path, video_id: str) -> UploadRecord:
    """The playlist step of a published video whose playlist YouTube refused, run again with
    the current YOUTUBE_PLAYLIST: `workspace` is the video's, wherever it is now (archived
    too), `video_id` the video on YouTube. PlaylistRefusedError when YouTube refuses again."""
    record = _record_in(workspace)
    if record is None or record.target != "youtube" or record.video_id != video_id:
        raise UploadRecordMismatchError(
            f"{workspace}: it records no YouTube upload of the video {video_id}; add the video "
            "to its playlist in YouTube Studio"
        )
    if record.done(STEP_PLAYLIST):
        return record
    listing = build_listing(
        load_metadata(Path(record.video_file), workspace), listing_options(get_settings())
    )
    if listing.playlist != record.playlist:  # YOUTUBE_PLAYLIST names another one now
        record.playlist, record.playlist_id = listing.playlist, None
    channel = api.connect(youtube_access(get_settings()))
    try:
        _playlist_step(channel, record, listing, record.video_file, workspace)
    finally:
        channel.account.save_if_refreshed()
    if record.playlist_problem is not None:
        raise PlaylistRefusedError(f"{record.video_file}: {record.playlist_problem}")
    return record


def _video_id(record: UploadRecord) -> str:
    assert record.video_id is not None, "the video step records the id"
    return record.video_id


def _set_thumbnail(channel: Channel, video: Path, record: UploadRecord, thumbnail: Path) -> None:
    api.set_thumbnail(channel, _video_id(record), thumbnail, video.name)
    record.mark_done(STEP_THUMBNAIL)
    _save_record(video, record)
    log.info("%s: thumbnail set", video.name)


def _playlist_step(
    channel: Channel, record: UploadRecord, listing: Listing, subject: str, workspace: Path
) -> None:
    """Put the video in its playlist; a refusal for good is recorded, never raised: the video
    is public (or scheduled) already, and stays so."""
    try:
        _add_to_playlist(channel, record, listing, subject, workspace)
    except YouTubeRejectedError as error:
        title = record.playlist or listing.playlist or ""
        refusal = str(error).removeprefix(f"{subject}: ").rstrip(".")
        record.playlist_problem = f"not added to the playlist {title!r}: {refusal}"
        _save_record_in(workspace, record)
        log.warning("%s: published, but %s", subject, record.playlist_problem)


def _add_to_playlist(
    channel: Channel, record: UploadRecord, listing: Listing, subject: str, workspace: Path
) -> None:
    """Find or create the playlist, record its id, then add the video to it."""
    resumed = record.playlist_id is not None
    if not resumed and listing.playlist is not None:
        _record_playlist(channel, record, listing.playlist, listing, subject, workspace)
    if record.playlist_id is not None:
        try:
            _put_in_playlist(channel, record, resumed, subject)
        except PlaylistNotFoundError:  # deleted in YouTube Studio since its id was recorded
            log.warning("%s: the playlist %r is gone; finding it again", subject, record.playlist)
            _record_playlist(channel, record, record.playlist or "", listing, subject, workspace)
            _put_in_playlist(channel, record, False, subject)
        log.info("%s: in the playlist %r", subject, record.playlist)
    record.playlist_problem = None
    record.mark_done(STEP_PLAYLIST)
    _save_record_in(workspace, record)


def _record_playlist(
    channel: Channel,
    record: UploadRecord,
    title: str,
    listing: Listing,
    subject: str,
    workspace: Path,
) -> None:
    record.playlist = title
    record.playlist_id = playlists.find_or_create(
        channel, title, listing.playlist_privacy(), subject
    )
    _save_record_in(workspace, record)


def _put_in_playlist(channel: Channel, record: UploadRecord, resumed: bool, subject: str) -> None:
    playlist_id, video_id = record.playlist_id or "", _video_id(record)
    # A run that recorded the playlist may have added the video before it stopped.
    if not (resumed and playlists.holds(channel, playlist_id, video_id, subject)):
        playlists.add(channel, playlist_id, video_id, subject)


def _set_privacy(channel: Channel, video: Path, record: UploadRecord, listing: Listing) -> None:
    privacy, publish_at = listing.final_status(utc_now())
    if publish_at is not None:
        change = {"privacyStatus": "private", "publishAt": rfc3339_utc(publish_at)}
    elif privacy != "private":
        change = {"privacyStatus": privacy, "publishAt": None}
        if listing.schedule:
            log.warning("%s: its publish time has passed; publishing it now", video.name)
    else:
        change = {}
    if change:
        api.change_part(channel, _video_id(record), "status", change, video.name)
    record.privacy_status = privacy
    record.publish_at = publish_at.isoformat() if publish_at else None
    record.mark_done(STEP_PRIVACY)
    _save_record(video, record)
    when = f", public at {record.publish_at}" if publish_at else ""
    log.info("%s: now %s%s at %s", video.name, privacy, when, record.url)
