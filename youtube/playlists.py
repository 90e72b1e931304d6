"""Playlists: the video's playlist found by its title among the channel's own (every page) or
created, and the video added to it once.

`playlists.insert` and `playlistItems.insert` create something, so a failure that may have come
after YouTube carried one out is checked (list the playlists, or the playlist's items for this
video) before the call is sent again.

Two machines may create a new tournament's playlist at the same moment. Of several playlists of
one title, every machine takes the same one, the first created (then the smallest id); a machine
that finds its new playlist is not that one deletes it, still empty.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from errors import PipelineError, RetryLaterError
from youtube import api
from youtube.api import Channel

log = logging.getLogger(__name__)

TITLE_MAX_CHARS = 150
# Videos of a new tournament uploaded side by side by one worker create its playlist once.
_CREATING = threading.Lock()


def find(channel: Channel, title: str, subject: str) -> str | None:
    """The id of the channel's playlist titled `title` (ignoring case), or None; of several,
    the first created."""
    wanted = title.casefold()
    found: list[tuple[str, str]] = []  # (publishedAt, id)
    page: str | None = None
    while True:
        request = channel.service.playlists().list(
            part="snippet", mine=True, maxResults=50, pageToken=page
        )
        answer = api.execute(channel, request, subject, "playlists.list")
        for item in answer.get("items", []):
            snippet = item.get("snippet", {})
            if snippet.get("title", "").casefold() == wanted:
                found.append((_moment(snippet.get("publishedAt", "")), item["id"]))
        page = answer.get("nextPageToken")
        if not page:
            return min(found)[1] if found else None


def _moment(published_at: str) -> str:
    """publishedAt in one comparable form (UTC, microseconds), whatever precision it came in."""
    try:
        return datetime.fromisoformat(published_at).astimezone(UTC).isoformat()
    except ValueError:
        return "~"  # after every date: a playlist without one is never preferred


def find_or_create(channel: Channel, title: str, privacy: str, subject: str) -> str:
    """The id of the playlist titled `title`, created with `privacy` when the channel has none."""
    with _CREATING:
        found = find(channel, title, subject)
        if found is not None:
            return found
        body = {"snippet": {"title": title}, "status": {"privacyStatus": privacy}}
        request = channel.service.playlists().insert(part="snippet,status", body=body)

        def created_meanwhile() -> dict[str, Any] | None:
            existing = find(channel, title, subject)
            return None if existing is None else {"id": existing}

        playlist = api.execute(channel, request, subject, "playlists.insert", created_meanwhile)
        log.info("%s: created the %s playlist %r", subject, privacy, title)
        chosen = find(channel, title, subject) or playlist["id"]
        if chosen != playlist["id"]:  # another machine created one first
            _delete_duplicate(channel, playlist["id"], title, subject)
    return chosen


def _delete_duplicate(channel: Channel, playlist_id: str, title: str, subject: str) -> None:
    """Delete a playlist this machine just created in vain (still empty); a failure leaves it."""
    request = channel.service.playlists().delete(id=playlist_id)
    try:
        api.execute(channel, request, subject, "playlists.delete")
    except (PipelineError, RetryLaterError) as error:
        log.warning(
            "%s: another machine created the playlist %r first; the empty copy %s could not be "
            "deleted (%s): delete it in YouTube Studio",
            subject,
            title,
            playlist_id,
            error,
        )
        return
    log.info(
        "%s: another machine created the playlist %r first; the copy is deleted", subject, title
    )


def holds(channel: Channel, playlist_id: str, video_id: str, subject: str) -> bool:
    request = channel.service.playlistItems().list(
        part="id", playlistId=playlist_id, videoId=video_id, maxResults=1
    )
    return bool(api.execute(channel, request, subject, "playlistItems.list").get("items"))


def add(channel: Channel, playlist_id: str, video_id: str, subject: str) -> None:
    body = {
        "snippet": {
            "playlistId": playlist_id,
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
        }
    }
    request = channel.service.playlistItems().insert(part="snippet", body=body)

    def added_meanwhile() -> dict[str, Any] | None:
        return {} if holds(channel, playlist_id, video_id, subject) else None

    api.execute(channel, request, subject, "playlistItems.insert", added_meanwhile)
