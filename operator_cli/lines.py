"""What the CLI prints, as data: a line (with its colour) or a table. Rendering functions return
these from the operator API's dataclasses; `operator_cli.output` prints them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from temporal.client import HostState
from temporal.messages import HOLD_FOR_QUOTA, Hold


@dataclass(frozen=True)
class Line:
    text: str
    style: str = ""  # a rich style: "red", "yellow", "green", "cyan", "bold"...


@dataclass(frozen=True)
class TableBlock:
    """A table, printed as such when the terminal is wide enough for it, else as `narrow`."""

    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    narrow: list[Line] = field(default_factory=list)


Block = Line | TableBlock


def format_wait(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    minutes = int((now - since).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def local_time(iso: str | datetime | None, zone: tzinfo) -> str:
    """`Fri 26 Dec 15:12 (Asia/Ho_Chi_Minh)`: a time as the café reads it (CAFE_TIMEZONE)."""
    if not iso:
        return "-"
    moment = (datetime.fromisoformat(iso) if isinstance(iso, str) else iso).astimezone(zone)
    name = getattr(zone, "key", None) or moment.tzname()
    return f"{moment:%a %d %b %H:%M} ({name})"


def hold_line(hold: Hold, zone: tzinfo) -> str:
    """When a held stage runs again, in the café's time."""
    when = local_time(hold.retry_at, zone)
    if hold.kind == HOLD_FOR_QUOTA:
        return f"waiting for YouTube's daily limit until {when}, then {hold.stage} goes on"
    return f"needs attention: {hold.stage} is tried again at {when}"


def host_text(host: str, state: HostState | None) -> str:
    """`cafe-pc`, `cafe-pc (down)`; `-` for a video any worker runs (started before hosts)."""
    if not host:
        return "-"
    return f"{host} (down)" if state is not None and state.running is False else host


def host_down_line(state: HostState, zone: tzinfo) -> str:
    """What a video whose host is down waits for."""
    since = f" since {local_time(state.last_seen, zone)}" if state.last_seen is not None else ""
    return (
        f"waits for worker {state.name}: no worker of that name runs{since}; its steps go on "
        f"once `python main_temporal.py worker` runs again on {state.name}"
    )


def chosen_line(rank: int | None, candidate_id: str | None, video_file: str) -> str:
    which = f"Rank {rank}" if rank is not None else (candidate_id or "A thumbnail")
    return f"{which} chosen for {video_file}: rendering and publishing"


def utc_now() -> datetime:
    return datetime.now(UTC)
