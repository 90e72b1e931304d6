"""`stats`: how the videos of the last days went, as lines or JSON (the operator API's Stats)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from operator_cli.lines import Line
from temporal.client.stats import Spread, Stats


def duration_text(seconds: float | None) -> str:
    """`45 s`, `12 min`, `3.5 h`, `2.1 days`; `-` without a value."""
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _spread_text(spread: Spread) -> str:
    if not spread.count:
        return "none yet"
    return (
        f"median {duration_text(spread.median_seconds)}, 90% within "
        f"{duration_text(spread.p90_seconds)} ({spread.count} videos)"
    )


def _share(value: float) -> str:
    return f"{100 * value:.0f}%"


def stats_lines(stats: Stats) -> list[Line]:
    days = f"{stats.days:g} day" + ("" if stats.days == 1 else "s")
    lines = [
        Line(f"The last {days}: {stats.started} videos started", "bold"),
        Line(
            f"  published {stats.published}, running {stats.running}, failed {stats.failed}, "
            f"cancelled {stats.cancelled}"
        ),
    ]
    for reason, count in sorted(stats.failed_by_reason.items(), key=lambda item: -item[1]):
        lines.append(Line(f"  failed: {count} {reason}", "red"))
    people = stats.chosen_by.get("person", 0)
    made = ", ".join(f"{who} {count}" for who, count in sorted(stats.chosen_by.items()))
    lines.append(Line(f"Choices: {made or 'none yet'}"))
    if people:
        shares = ", ".join(
            f"rank {rank} {_share(share)}" for rank, share in stats.person_rank_shares.items()
        )
        lines.append(Line(f"  a person's {people} choices: {shares}"))
    if stats.changed_share is not None:
        lines.append(
            Line(
                f"  changed after publishing: {stats.changed_after_publishing} "
                f"({_share(stats.changed_share)} of the published)"
            )
        )
    lines.append(Line(f"Ranked to chosen by a person: {_spread_text(stats.ranked_to_chosen)}"))
    lines.append(Line(f"File to published: {_spread_text(stats.file_to_published)}"))
    if stats.quota_units_by_day:
        lines.append(Line(f"YouTube quota units a day (of {stats.daily_quota_units:,}):"))
        for day, units in stats.quota_units_by_day.items():
            style = "red" if units > stats.daily_quota_units else ""
            lines.append(Line(f"  {day}: {units:,}", style))
    if stats.uncounted:
        lines.append(
            Line(
                f"{stats.uncounted} videos ran on an earlier version: counted above as started, "
                "published, failed or cancelled, but not in the choices, times or quota",
                "yellow",
            )
        )
    return lines


def stats_json(stats: Stats) -> dict[str, Any]:
    return asdict(stats)
