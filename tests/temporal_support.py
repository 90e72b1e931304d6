"""Shared helpers for the tests that run against a real Temporal dev server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

import config
from sample_clips import Segment, encode_clip
from temporal.activities import VideoActivities
from temporal.change_activities import ChangeActivities
from temporal.client import query_status
from temporal.messages import (
    THUMBNAIL_SELECTED_SIGNAL,
    ThumbnailSelectedSignal,
    VideoStatus,
    host_task_queue,
)
from temporal.watcher import FolderWatcher
from temporal.worker import run_worker

REPO = Path(__file__).resolve().parents[1]
MATCH_SEGMENTS = (Segment("black", 0.5), Segment("rally", 3.0), Segment("empty", 1.5))


def match_clip(cache: Path, suffix: str = ".mp4") -> Path:
    """One short real match clip (MP4, or Matroska with ".mkv"), encoded once per session."""
    clip = cache / f"match{suffix}"
    if not clip.exists():
        encode_clip(clip, MATCH_SEGMENTS, size=(640, 360), gop_seconds=0.5)
    return clip


def recording(cache: Path, suffix: str = ".mp4") -> bytes:
    """The cached clip's bytes plus a few unique ones its container ignores (an MP4 `free` box,
    a Matroska Void element): another recording, as far as fingerprints go."""
    marker = uuid.uuid4().bytes
    if suffix == ".mkv":
        padding = b"\xec" + bytes([0x80 | len(marker)]) + marker
    else:
        padding = (8 + len(marker)).to_bytes(4, "big") + b"free" + marker
    return match_clip(cache, suffix).read_bytes() + padding


def add_video(cache: Path, input_dir: Path, name: str) -> Path:
    """A new recording of the cached clip in INPUT_DIR under a café-convention name."""
    target = input_dir / name
    target.write_bytes(recording(cache, target.suffix.lower()))
    return target


async def wait_for_stage(handle: WorkflowHandle, stage: str, timeout: float = 60) -> VideoStatus:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await query_status(handle)
        if status.stage == stage:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {status.stage} after {timeout}s, expected {stage}")
        await asyncio.sleep(0.2)


async def result_of(handle: WorkflowHandle, timeout: float = 120):
    """The workflow's result; a run that never ends fails the test instead of hanging CI."""
    return await asyncio.wait_for(handle.result(), timeout)


async def wait_until(condition, timeout: float = 60) -> None:
    """Poll the async `condition` until it holds; fail after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not so after {timeout}s")
        await asyncio.sleep(0.2)


async def send_selection(
    client: Client, workflow_id: str, video_path: str, candidate_id: str | None
) -> None:
    """The choice as the Temporal Web UI sends it: a signal, checked by the workflow when it
    arrives (`select` sends an update)."""
    await client.get_workflow_handle(workflow_id).signal(
        THUMBNAIL_SELECTED_SIGNAL, ThumbnailSelectedSignal(video_path, candidate_id)
    )


async def history_json(client: Client, workflow_id: str) -> str:
    return (await client.get_workflow_handle(workflow_id).fetch_history()).to_json()


@asynccontextmanager
async def running_worker(
    client: Client, watcher: FolderWatcher | None = None
) -> AsyncIterator[None]:
    """A worker (and `watcher`, if given) in this test's event loop."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(client, config.get_settings(), stop, watcher))
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def activities_of_host(client: Client, host: str) -> AsyncIterator[None]:
    """The activities of another host's worker (its own task queue), in this process: the SDK
    allows one worker per queue in a process, and the shared queue is `running_worker`'s."""
    queue = host_task_queue(config.get_settings().temporal_task_queue, host)
    loop = asyncio.get_running_loop()
    activities = VideoActivities(client, loop).all() + ChangeActivities(client, loop).all()
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = Worker(client, task_queue=queue, activities=activities, activity_executor=executor)
        async with worker:
            yield


@dataclass
class Host:
    """A machine of its own, as far as the pipeline can tell: a worker name and folders no
    other worker reads."""

    name: str
    root: Path

    @property
    def input_dir(self) -> Path:
        return self.root / "videos"

    def env(self, address: str) -> dict[str, str]:
        """The environment of a process run on this host."""
        return {
            **os.environ,
            "TEMPORAL_ADDRESS": address,
            "WORKER_NAME": self.name,
            "INPUT_DIR": str(self.input_dir),
            "WORKSPACE_DIR": str(self.root / "workspace"),
            "COMPLETED_DIR": str(self.root / "completed"),
            "PUBLISH_DIR": str(self.root / "published"),
            "WATCH_INTERVAL": "1",
            "INGEST_SETTLE": "0",
            "COLUMNS": "250",
        }


def new_host(root: Path, name: str) -> Host:
    host = Host(name, root / name)
    host.input_dir.mkdir(parents=True)
    return host


class HostWorker:
    """`main_temporal.py worker` run as a host; its output goes to a file (a pipe nobody reads
    would fill up)."""

    def __init__(self, process: subprocess.Popen, output: IO[str]):
        self._process = process
        self._output = output

    def output(self) -> str:
        self._output.seek(0)
        return self._output.read()

    async def polling(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while " polling " not in self.output():
            assert self._process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            await asyncio.sleep(0.2)

    async def stop(self) -> str:
        """SIGTERM, as a service manager stops it; returns everything it printed."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(self._process.wait, 30)
        return self.output()


@asynccontextmanager
async def host_worker(host: Host, address: str) -> AsyncIterator[HostWorker]:
    """The worker of `host`, once it polls; stopped on leaving (unless stopped before)."""
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "main_temporal.py"), "worker"],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            env=host.env(address),
        )
        worker = HostWorker(process, output)
        try:
            await worker.polling()
            yield worker
        finally:
            await worker.stop()


async def cli_on(host: Host, address: str, *args: str) -> subprocess.CompletedProcess:
    """The CLI run on `host`, without blocking the test's event loop."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(REPO / "main_temporal.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=host.env(address),
    )
