"""How the videos of the last days went, from what their workflows keep (no database of its
own): the server's list of runs with their memos, read in pages, no worker needed.

Each video run since ProcessVideoWorkflow counted its choice keeps a `ChoiceStats` in its memo
(who chose, the rank, the times, why it failed, the quota its upload spent); its companion keeps
the changes made after publishing and their quota. Runs of earlier versions have none: they
count in started, published, failed and cancelled, and are counted apart (`uncounted`) for the
rest.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from temporal.change_messages import CHANGES_ID_SUFFIX, CHANGES_WORKFLOW_TYPE, MEMO_CHANGES
from temporal.client.ids import videos_where
from temporal.messages import BY_PERSON, MEMO_STATS

DAILY_QUOTA_UNITS = 10_000  # what Google gives a project a day, videos.insert apart
EARLIER_VERSION = "unknown (an earlier version)"
_ENDED_OTHERWISE = (
    WorkflowExecutionStatus.CANCELED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
)


@dataclass
class Spread:
    """Seconds from one moment of a video to another: how many, their median and 90th
    percentile (None without any)."""

    count: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None


@dataclass
class Stats:
    days: float
    since: str  # ISO, UTC
    started: int = 0
    published: int = 0
    failed: int = 0
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0  # cancelled, terminated or timed out
    running: int = 0
    chosen_by: dict[str, int] = field(default_factory=dict)  # person, timeout, auto...
    person_rank_shares: dict[int, float] = field(default_factory=dict)  # of a person's choices
    changed_after_publishing: int = 0  # published videos whose thumbnail a person changed
    changed_share: float | None = None  # of the published videos counted
    ranked_to_chosen: Spread = field(default_factory=Spread)  # a person's choices
    file_to_published: Spread = field(default_factory=Spread)
    quota_units_by_day: dict[str, int] = field(default_factory=dict)  # by quota day (Pacific)
    daily_quota_units: int = DAILY_QUOTA_UNITS
    uncounted: int = 0  # runs of earlier versions: no choice, times or quota of theirs


async def video_stats(client: Client, days: float, now: datetime | None = None) -> Stats:
    """The stats of the video runs started in the last `days` days."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    stamp = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
    stats = Stats(days, since.isoformat())
    changes, videos = await asyncio.gather(
        _changes_by_video(client, stamp), _videos_since(client, stamp)
    )
    person_ranks: Counter[int] = Counter()
    chosen_waits: list[float] = []
    published_waits: list[float] = []
    counted_published = 0
    for execution, memo in videos:
        _count_status(stats, execution, memo)
        if not isinstance(memo, dict):
            stats.uncounted += 1
            continue
        by = memo.get("chosen_by") or ""
        if by:
            stats.chosen_by[by] = stats.chosen_by.get(by, 0) + 1
        if by == BY_PERSON and isinstance(memo.get("rank"), int):
            person_ranks[memo["rank"]] += 1
            _add_span(chosen_waits, memo.get("ranked_at"), memo.get("chosen_at"))
        _add_quota(stats.quota_units_by_day, memo.get("quota_units"))
        if memo.get("published_at"):
            counted_published += 1
            _add_span(published_waits, memo.get("file_time"), memo.get("published_at"))
            changed = changes.get(execution.id)
            if changed is not None:
                _add_quota(stats.quota_units_by_day, changed.get("quota_units"))
                if changed.get("changes_made", 0) > 0:
                    stats.changed_after_publishing += 1
    people = sum(person_ranks.values())
    stats.person_rank_shares = {
        rank: count / people for rank, count in sorted(person_ranks.items())
    }
    if counted_published:
        stats.changed_share = stats.changed_after_publishing / counted_published
    stats.ranked_to_chosen = spread(chosen_waits)
    stats.file_to_published = spread(published_waits)
    stats.quota_units_by_day = dict(sorted(stats.quota_units_by_day.items()))
    return stats


async def _videos_since(client: Client, stamp: str) -> list[tuple[WorkflowExecution, object]]:
    """Each video run started since `stamp`, with its MEMO_STATS (None: an earlier version's)."""
    return [
        (execution, (await execution.memo()).get(MEMO_STATS))
        async for execution in client.list_workflows(videos_where(f'StartTime >= "{stamp}"'))
    ]


async def _changes_by_video(client: Client, stamp: str) -> dict[str, dict]:
    """The memo of each companion started since `stamp`, by its video's workflow id."""
    found: dict[str, dict] = {}
    query = f'WorkflowType="{CHANGES_WORKFLOW_TYPE}" AND StartTime >= "{stamp}"'
    async for execution in client.list_workflows(query):
        memo = (await execution.memo()).get(MEMO_CHANGES)
        video = execution.id.removesuffix(CHANGES_ID_SUFFIX)
        if isinstance(memo, dict) and video not in found:  # newest run first
            found[video] = memo
    return found


def _count_status(stats: Stats, execution: WorkflowExecution, memo: object) -> None:
    stats.started += 1
    status = execution.status
    if status == WorkflowExecutionStatus.COMPLETED:
        stats.published += 1
    elif status == WorkflowExecutionStatus.FAILED:
        stats.failed += 1
        reason = memo.get("failure_type") if isinstance(memo, dict) else None
        reason = reason or EARLIER_VERSION
        stats.failed_by_reason[reason] = stats.failed_by_reason.get(reason, 0) + 1
    elif status in _ENDED_OTHERWISE:
        stats.cancelled += 1
    else:
        stats.running += 1


def _add_span(spans: list[float], start: object, end: object) -> None:
    if isinstance(start, str) and isinstance(end, str) and start and end:
        try:
            seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
        except ValueError:
            return
        spans.append(max(seconds, 0.0))


def _add_quota(total: dict[str, int], units: object) -> None:
    if isinstance(units, dict):
        for day, spent in units.items():
            if isinstance(spent, int):
                total[str(day)] = total.get(str(day), 0) + spent


def spread(seconds: list[float]) -> Spread:
    """Median and 90th percentile (nearest rank) of `seconds`."""
    if not seconds:
        return Spread()
    ordered = sorted(seconds)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    p90 = ordered[max(0, -(-9 * len(ordered) // 10) - 1)]
    return Spread(len(ordered), median, p90)
