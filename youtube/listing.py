"""What YouTube gets for a video: its prepared metadata with the settings applied.

The description is the prepared one (`DESCRIPTION_TEMPLATE` filled by prepare, or the
sidecar's), the playlist is `YOUTUBE_PLAYLIST` filled, the language `VIDEO_LANGUAGE`, the
recording date the match's day in the café's time zone. Every text is cleaned
(`formats.cleaning.clean_text`), whatever prepared it. The local target writes the same beside
its copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from formats.cleaning import clean_text
from formats.publish_at import publish_time
from formats.templates import fill_template
from formats.youtube_fields import fit_description, fit_tags
from prepare.match_text import in_zone, recording_date, template_values
from prepare.metadata import MatchMetadata
from youtube.playlists import TITLE_MAX_CHARS as PLAYLIST_TITLE_MAX_CHARS


@dataclass(frozen=True)
class ListingOptions:
    """The settings every listing follows; `uploader` builds them from the settings."""

    cafe_timezone: tzinfo  # CAFE_TIMEZONE: the recording day, and where PUBLISH_AT's 18:00 is
    playlist_template: str  # YOUTUBE_PLAYLIST
    publish_at: str | None  # PUBLISH_AT, for a video whose sidecar sets no publish_at
    language: str | None  # VIDEO_LANGUAGE
    made_for_kids: bool  # MADE_FOR_KIDS


@dataclass(frozen=True)
class Listing:
    """What one video gets on YouTube (texts cleaned and within YouTube's limits)."""

    title: str
    description: str
    tags: list[str]
    category_id: str
    language: str | None
    recording_date: str  # YYYY-MM-DD: the day of the match on the café's calendar
    made_for_kids: bool
    privacy_status: str  # what the video becomes once its thumbnail is set
    playlist: str | None
    schedule: str | None  # PUBLISH_AT or the sidecar's publish_at, as written
    schedule_zone: tzinfo  # the café's: where the schedule's time of day falls

    def insert_body(self) -> dict[str, Any]:
        """`videos.insert`'s parts: always private (it becomes visible in a later step)."""
        snippet: dict[str, Any] = {
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "categoryId": self.category_id,
        }
        if self.language:
            snippet["defaultLanguage"] = snippet["defaultAudioLanguage"] = self.language
        return {
            "snippet": snippet,
            "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": self.made_for_kids},
            # YouTube shows only the date: the café's day, not the UTC one
            "recordingDetails": {"recordingDate": f"{self.recording_date}T00:00:00Z"},
        }

    def final_status(self, now: datetime) -> tuple[str, datetime | None]:
        """The privacy the video ends with, and when YouTube makes it public if scheduled.

        A time of day is its next occurrence after `now`. A schedule already past (the upload
        took longer, or waited for the quota) publishes at once.
        """
        if not self.schedule:
            return self.privacy_status, None
        when = publish_time(self.schedule, now, self.schedule_zone)
        return ("private", when) if when > now else ("public", None)

    def playlist_privacy(self) -> str:
        """A new playlist is as visible as the video will be."""
        return "public" if self.schedule else self.privacy_status

    def as_published(
        self, metadata: MatchMetadata, privacy: str, publish_at: datetime | None
    ) -> dict[str, Any]:
        """The video's metadata as YouTube would get it, for the local target."""
        return {
            **metadata.to_dict(),
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "default_language": self.language,
            "recording_date": self.recording_date,
            "made_for_kids": self.made_for_kids,
            "privacy_status": privacy,
            "publish_at": publish_at.isoformat() if publish_at else None,
            "playlist": self.playlist,
        }


def build_listing(metadata: MatchMetadata, options: ListingOptions) -> Listing:
    zone = options.cafe_timezone
    teams = (metadata.team1, metadata.team2, metadata.tournament)
    date = recording_date(metadata.recorded_at, zone)
    values = template_values(metadata.match_type_name, *teams, date)
    playlist = clean_text(fill_template(options.playlist_template, values))
    recorded = in_zone(datetime.fromisoformat(metadata.recorded_at), zone)
    schedule = options.publish_at if metadata.publish_at is None else metadata.publish_at
    return Listing(
        title=clean_text(metadata.title),
        description=fit_description(clean_text(metadata.description, multiline=True).strip()),
        tags=fit_tags([clean_text(tag) for tag in metadata.tags]),
        category_id=metadata.category_id,
        language=options.language,
        recording_date=recorded.date().isoformat(),
        made_for_kids=options.made_for_kids,
        privacy_status=metadata.privacy_status,
        playlist=playlist[:PLAYLIST_TITLE_MAX_CHARS].rstrip() or None,
        schedule=schedule or None,
        schedule_zone=zone,
    )
