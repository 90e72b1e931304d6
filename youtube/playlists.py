"""Playlists: the video's playlist found by its title among the channel's own (every page) or
created, and the video added to it once.

`playlists.insert` and `playlistItems.insert` create something, so a failure that may have come
after YouTube carried one out is checked (list the playlists, or the playlist's items for this
video) before the call is sent again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from googleapiclient.discovery import Resource

from youtube import api

log = logging.getLogger(__name__)

TITLE_MAX_CHARS = 150
# Videos of a new tournament uploaded side by side by one worker create its playlist once.
_CREATING = threading.Lock()


def find(youtube: Resource, title: str, subject: str) -> str | None:
    """The id of the channel's playlist titled `title` (ignoring case), or None."""
    wanted = title.casefold()
    page: str | None = None
    while True:
        request = youtube.playlists().list(part="snippet", mine=True, maxResults=50, pageToken=page)
        answer = api.execute(request, subject, "playlists.list")
        for item in answer.get("items", []):
            if item.get("snippet", {}).get("title", "").casefold() == wanted:
                return item["id"]
        page = answer.get("nextPageToken")
        if not page:
            return None


def find_or_create(youtube: Resource, title: str, privacy: str, subject: str) -> str:
    """The id of the playlist titled `title`, created with `privacy` when the channel has none."""
    with _CREATING:
        found = find(youtube, title, subject)
        if found is not None:
            return found
        body = {"snippet": {"title": title}, "status": {"privacyStatus": privacy}}
        request = youtube.playlists().insert(part="snippet,status", body=body)

        def created_meanwhile() -> dict[str, Any] | None:
            existing = find(youtube, title, subject)
            return None if existing is None else {"id": existing}

        playlist = api.execute(request, subject, "playlists.insert", created_meanwhile)
    log.info("%s: created the %s playlist %r", subject, privacy, title)
    return playlist["id"]


def holds(youtube: Resource, playlist_id: str, video_id: str, subject: str) -> bool:
    request = youtube.playlistItems().list(
        part="id", playlistId=playlist_id, videoId=video_id, maxResults=1
    )
    return bool(api.execute(request, subject, "playlistItems.list").get("items"))


def add(youtube: Resource, playlist_id: str, video_id: str, subject: str) -> None:
    body = {
        "snippet": {
            "playlistId": playlist_id,
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
        }
    }
    request = youtube.playlistItems().insert(part="snippet", body=body)

    def added_meanwhile() -> dict[str, Any] | None:
        return {} if holds(youtube, playlist_id, video_id, subject) else None

    api.execute(request, subject, "playlistItems.insert", added_meanwhile)
