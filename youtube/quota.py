"""What YouTube's calls cost of the project's daily quota, counted as they are made.

Google gives each Cloud project 10,000 units a day for every call but `videos.insert` (which has
a bucket of its own, 100 uploads a day), reset at midnight Pacific time. Every request YouTube
answers costs its units, a refused one too; a request that never reached YouTube costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from youtube.common import utc_now

QUOTA_ZONE = ZoneInfo("America/Los_Angeles")  # where YouTube's quota day begins and ends
DAILY_UNITS = 10_000
# Google's "determine quota cost" page; videos.insert draws on its own bucket.
UNIT_COSTS = {
    "channels.list": 1,
    "videos.list": 1,
    "videos.update": 50,
    "thumbnails.set": 50,
    "playlists.list": 1,
    "playlists.insert": 50,
    "playlists.delete": 50,
    "playlistItems.list": 1,
    "playlistItems.insert": 50,
}


def quota_day(moment: datetime) -> str:
    """The quota day `moment` falls in: its date in Pacific time, `2025-01-10`."""
    return moment.astimezone(QUOTA_ZONE).date().isoformat()


def added_units(first: Mapping[str, int], second: Mapping[str, int]) -> dict[str, int]:
    """Two counts of units by quota day, added."""
    total = dict(first)
    for day, units in second.items():
        total[day] = total.get(day, 0) + units
    return total


@dataclass
class QuotaMeter:
    """The units spent through one channel connection, by quota day."""

    by_day: dict[str, int] = field(default_factory=dict)

    def spend(self, call: str) -> None:
        units = UNIT_COSTS.get(call, 0)
        if units:
            day = quota_day(utc_now())
            self.by_day[day] = self.by_day.get(day, 0) + units

    def take(self) -> dict[str, int]:
        """The units counted since the last take."""
        spent, self.by_day = self.by_day, {}
        return spent
