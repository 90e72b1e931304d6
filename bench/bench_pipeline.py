"""Ten 1-minute 1080p clips through Temporal: one worker, then two workers as two hosts.

Each round starts every video (`start_video`, as `start` run on the video's host does), waits
until all of them wait for a thumbnail choice, chooses rank 1 for each, and waits until all are
published (the `local` target) and archived. It prints, for one worker holding the ten videos
and for two hosts holding five each (two worker processes with their own WORKER_NAME and
folders, on this machine): the time from the first start until all wait, and until all are done.

It also prints Temporal's own overhead per video: the time from the workflow's start until it
waits, minus the time its activities ran (the union of their intervals: the previews run side by
side), both read from the workflow history. Each host runs as many activities at once as its
videos can have (six previews each), so that no activity queues behind another: what remains is
Temporal's dispatch and workflow-task time. Workers poll before the clock starts, as the
operator's long-running workers do. Target: overhead at most 0.3 s per video.

    python bench/bench_pipeline.py [--videos 10] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

import config
from sample_clips import Segment, encode_clip

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "bench" / ".cache"
TARGET_OVERHEAD_SECONDS = 0.3
PREVIEWS_PER_VIDEO = 6  # TOP_RANKED_CANDIDATES_NUM's default


def one_minute_clip(seconds: int) -> Path:
    clip = CACHE / f"pipeline_{seconds}s_1080p.mp4"
    if not clip.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"encoding {clip.name} once (cached in bench/.cache)...", flush=True)
        segments = [Segment("rally", 20), Segment("empty", 5), Segment("walking", 5)]
        repeats = max(1, seconds // 30)
        partial = clip.with_suffix(".partial.mp4")
        encode_clip(partial, segments * repeats, size=(1920, 1080), gop_seconds=2)
        partial.rename(clip)
    return clip


def free_box(label: str) -> bytes:
    """An MP4 `free` box (ignored by players) that makes each copy a recording of its own."""
    payload = f"bench copy {label}".encode()
    return (8 + len(payload)).to_bytes(4, "big") + b"free" + payload


def event_seconds(event) -> float:
    return event.event_time.ToDatetime(tzinfo=UTC).timestamp()


def activity_seconds(events) -> float:
    """How long activities ran before the wait: the union of their (started, completed)
    intervals, so that activities running side by side count once."""
    started: dict[int, float] = {}
    intervals = []
    for event in events:
        stamp = event_seconds(event)
        if event.HasField("activity_task_started_event_attributes"):
            started[event.activity_task_started_event_attributes.scheduled_event_id] = stamp
        elif event.HasField("activity_task_completed_event_attributes"):
            scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
            intervals.append((started[scheduled], stamp))
    total, reached = 0.0, float("-inf")
    for begin, end in sorted(intervals):
        if end > reached:
            total += end - max(begin, reached)
            reached = end
    return total


def enters_waiting(event) -> bool:
    """The event that sets VideoStage to WAITING_FOR_SELECTION."""
    if not event.HasField("upsert_workflow_search_attributes_event_attributes"):
        return False
    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
    stage = fields.indexed_fields.get("VideoStage")
    return stage is not None and b"WAITING_FOR_SELECTION" in stage.data


@dataclasses.dataclass
class Host:
    name: str
    root: Path
    videos: list[Path]

    def env(self, address: str, queue: str) -> dict[str, str]:
        return {
            **os.environ,
            "TEMPORAL_ADDRESS": address,
            "TEMPORAL_TASK_QUEUE": queue,
            "WORKER_NAME": self.name,
            "INPUT_DIR": str(self.root / "videos"),
            "WORKSPACE_DIR": str(self.root / "workspace"),
            "COMPLETED_DIR": str(self.root / "completed"),
            "PUBLISH_DIR": str(self.root / "published"),
            # every activity of every video at once, the previews of a video side by side
            "MAX_CONCURRENT_ACTIVITIES": str(max(1, len(self.videos) * PREVIEWS_PER_VIDEO)),
            "WATCH_INTERVAL": "0",
            "LOG_LEVEL": "WARNING",
        }


def hosts_with_videos(root: Path, clip: Path, names: list[str], count: int) -> list[Host]:
    """`count` recordings of the clip, split evenly over hosts named `names`."""
    hosts = [Host(name, root / name, []) for name in names]
    for number in range(count):
        host = hosts[number % len(hosts)]
        video = host.root / "videos" / f"md_AnzBinhvsChizDung_Bench {root.name} {number}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, video)
        with video.open("ab") as recording:  # another recording for the fingerprint
            recording.write(free_box(f"{root.name} {number}"))
        host.videos.append(video)
    return hosts


@dataclasses.dataclass
class Round:
    label: str
    to_waiting: float
    to_done: float
    overheads: list[float]


async def run_round(client, address: str, label: str, hosts: list[Host]) -> Round:
    from temporal import client as temporal_client

    queue = f"bench-{label.replace(' ', '-')}-{os.getpid()}"
    settings = dataclasses.replace(config.get_settings(), temporal_task_queue=queue)
    workers = [
        subprocess.Popen(
            [sys.executable, str(REPO / "main_temporal.py"), "worker"],
            env=host.env(address, queue),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for host in hosts
    ]
    try:
        for host in hosts:
            while not (await temporal_client.host_state(client, queue, host.name)).running:
                await asyncio.sleep(0.1)
        began = time.time()
        ids = [
            (await temporal_client.start_video(client, video, settings, host=host.name)).workflow_id
            for host in hosts
            for video in host.videos
        ]
        while True:
            waiting = {video.workflow_id for video in await temporal_client.list_waiting(client)}
            if waiting >= set(ids):
                break
            await asyncio.sleep(0.5)
        await asyncio.gather(*(choose_top(client, workflow_id) for workflow_id in ids))
        for workflow_id in ids:
            await client.get_workflow_handle(workflow_id).result()

        overheads, waiting_at, closed_at = [], [], []
        for workflow_id in ids:
            handle = client.get_workflow_handle(workflow_id)
            events = [event async for event in handle.fetch_history_events()]
            waiting_index = next(
                index for index, event in enumerate(events) if enters_waiting(event)
            )
            before = events[: waiting_index + 1]
            waiting_at.append(event_seconds(events[waiting_index]))
            closed_at.append(event_seconds(events[-1]))
            overheads.append(
                event_seconds(events[waiting_index])
                - event_seconds(events[0])
                - activity_seconds(before)
            )
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    return Round(label, max(waiting_at) - began, max(closed_at) - began, overheads)


async def choose_top(client, workflow_id: str) -> None:
    from temporal import client as temporal_client

    request = await temporal_client.choice_request(client, workflow_id)
    await temporal_client.choose(client, workflow_id, request.video_path, None)


async def measure(root: Path, clip: Path, count: int) -> list[Round]:
    from temporalio.testing import WorkflowEnvironment

    from temporal.dev_server import dynamic_config_args, temporal_binary
    from temporal.messages import SEARCH_ATTRIBUTES

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        dev_server_extra_args=dynamic_config_args(),
    )
    address = env.client.service_client.config.target_host
    try:
        rounds = []
        for label, names in (("one worker", ["cafe-pc"]), ("two hosts", ["host-a", "host-b"])):
            hosts = hosts_with_videos(root / label.replace(" ", "-"), clip, names, count)
            rounds.append(await run_round(env.client, address, label, hosts))
        return rounds
    finally:
        await env.shutdown()


def report(rounds: list[Round], count: int) -> None:
    one, two = rounds
    print(f"{count} videos, 1-minute 1080p clips; start -> all waiting for a choice -> all done")
    for done in rounds:
        print(
            f"  {done.label:>10}: all waiting after {done.to_waiting:5.1f} s, all done after "
            f"{done.to_done:5.1f} s"
        )
    print(
        f"  two hosts / one worker: x{two.to_waiting / one.to_waiting:.2f} to all waiting, "
        f"x{two.to_done / one.to_done:.2f} to all done (one machine: both share its cores)"
    )
    for done in rounds:
        mean = statistics.mean(done.overheads)
        verdict = "PASS" if mean <= TARGET_OVERHEAD_SECONDS else "MISS"
        print(
            f"Temporal overhead per video ({done.label}): mean {mean:.3f} s, max "
            f"{max(done.overheads):.3f} s (target <= {TARGET_OVERHEAD_SECONDS} s): {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--titles",
        action="store_true",
        help="brand each video beside its ranking (VIDEO_TITLES=on, the default setting)",
    )
    args = parser.parse_args()
    clip = one_minute_clip(args.seconds)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        # Temporal's overhead is timed without the branded copies, which bench_branding times;
        # --titles shows what ten videos arriving at once cost with them
        titles = "on" if args.titles else "off"
        os.environ.update(UPLOAD_TARGET="local", CLEANUP_MODE="move", VIDEO_TITLES=titles)
        config.get_settings.cache_clear()
        rounds = asyncio.run(measure(Path(tmp), clip, args.videos))
    report(rounds, args.videos)


if __name__ == "__main__":
    main()
