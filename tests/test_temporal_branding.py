"""The branded copy through the real pipeline (a real dev server, real workers, real clips): made
while the video is ranked and waits for its choice, published instead of the source, removed
once published; VIDEO_TITLES=off publishes the source's bytes; a video the branding cannot take
holds once for a person; a worker killed mid-brand is replaced and the copy resumes from its
finished pieces."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import av
import numpy as np
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from operator_cli.videos import detail_lines, with_branding
from sample_clips import Segment, frames_for
from temporal import client as temporal_client
from temporal.client import VideoDetail, branding_percent
from temporal.messages import (
    BRANDING,
    NEEDS_ATTENTION,
    WAITING_FOR_SELECTION,
    BrandedVideo,
    BrandingStatus,
    ProgressReport,
    VideoStatus,
)
from tests.branding_support import camera_clip, changed_share, decode_all, frame_at
from tests.temporal_support import REPO, result_of, running_worker, wait_for_stage, wait_until
from tests.test_temporal_workflow import record_history, start, typed_handle, unique_name
from workspace import workspace_dir

RUNNING = WorkflowExecutionStatus.RUNNING


def published_file(result, video: Path) -> Path:
    return Path(result.published.url.removeprefix("file://")) / video.name


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_the_published_copy_carries_the_titles_and_the_branded_copy_goes_once_published(
    temporal_env, pipeline_env, env
):
    pipeline_env(VIDEO_TITLES="on", VIDEO_TITLE_SECONDS="2")
    client = temporal_env.client
    video = camera_clip(env / "videos" / unique_name(), 12)
    source = digest(video)
    async with running_worker(client):
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        waiting = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        # made while the video waits for its choice: no choice is needed for the copy
        await wait_until(lambda: made_while_waiting(handle), timeout=120)
        shown = await temporal_client.query_status(handle)
        await temporal_client.choose(client, handle.id, str(video), waiting.candidates[0].id)
        result = await result_of(handle, timeout=180)

    assert waiting.branding is not None  # the status says how far it is from the start
    assert shown.stage == WAITING_FOR_SELECTION and shown.branding.made.method == "spliced"
    published, archived = published_file(result, video), env / "completed" / video.name
    assert digest(archived) == source  # the archive keeps the original, untouched
    branded, original = decode_all(published), decode_all(archived)
    assert len(branded.frames) == len(original.frames)
    assert changed_share(frame_at(branded, 1.0), frame_at(original, 1.0)) > 0.05  # the intro
    assert np.array_equal(frame_at(branded, 6.0), frame_at(original, 6.0))  # the middle as shot
    kept = env / "completed" / f"{video.name}.workspace"
    assert kept.is_dir() and not list(kept.glob("branded*")) and not (kept / "branding").exists()
    await record_history(client, handle.id, "branded_beside_the_choice")


async def made_while_waiting(handle) -> bool:
    status = await temporal_client.query_status(handle)
    return status.branding is not None and status.branding.made is not None


async def test_with_titles_off_the_source_bytes_are_published(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(VIDEO_TITLES="off", SELECTION_TIMEOUT="1s")
    client = temporal_env.client
    video = camera_clip(env / "videos" / unique_name(), 4)
    source = digest(video)
    async with running_worker(client):
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        result = await result_of(handle, timeout=180)
        status = await temporal_client.query_status(handle)

    assert digest(published_file(result, video)) == source
    assert status.branding.made.method == ""  # nothing asked for: nothing made


def rgb_clip(path: Path, seconds: float = 4) -> Path:
    """H.264 in RGB (libx264rgb): a real video the branding cannot draw on."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264rgb", rate=30)
    stream.width, stream.height, stream.pix_fmt = 640, 360, "bgr24"
    for index, image in enumerate(frames_for([Segment("rally", seconds)], 30, (640, 360))):
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = index
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return path


async def test_a_video_the_branding_cannot_take_holds_once_and_titles_off_publishes_it(
    temporal_env, pipeline_env, env
):
    pipeline_env(VIDEO_TITLES="on", SELECTION_TIMEOUT="1s")
    client = temporal_env.client
    video = rgb_clip(env / "videos" / unique_name())
    source = digest(video)
    async with running_worker(client):
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        held = await wait_for_stage(handle, NEEDS_ATTENTION, timeout=120)
    pipeline_env(VIDEO_TITLES="off")  # the operator's answer, read by the next worker
    async with running_worker(client):
        await temporal_client.retry(client, handle.id)
        result = await result_of(handle, timeout=180)

    assert held.hold.stage == BRANDING and held.hold.kind == "attention"
    assert "its pixels are stored as gbrp" in held.hold.problem
    assert "VIDEO_TITLES=off" in held.hold.problem and "\n" not in held.hold.problem
    assert "Traceback" not in held.hold.problem
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.HasField("activity_task_started_event_attributes")
    ]
    assert max(attempts) == 1  # no retry storm: each try of each activity ran once
    assert digest(published_file(result, video)) == source
    await record_history(client, handle.id, "branding_refused_then_titles_off")


async def test_a_worker_killed_mid_brand_is_replaced_and_the_copy_resumes_from_its_pieces(
    temporal_env, pipeline_env, env
):
    # the full pass (the logo burned in) makes pieces of 20 s: a 70 s clip has four
    pipeline_env(VIDEO_TITLES="on", VIDEO_TITLE_SECONDS="2", VIDEO_WATERMARK="burn")
    client = temporal_env.client
    video = camera_clip(env / "videos" / unique_name(), 70)
    pieces = workspace_dir(video) / "branding"
    doomed = subprocess.Popen(
        [sys.executable, str(REPO / "main_temporal.py"), "worker"],
        env={**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        await wait_until(lambda: a_piece_is_finished(pieces), timeout=300)
    finally:
        doomed.kill()  # a power cut: no goodbye, no heartbeat any more
        doomed.wait()
    finished_before = sorted(path.name for path in pieces.glob("piece-*.json"))

    async with running_worker(client):  # noticed by the heartbeat timeout, then retried
        shown: list[str] = []  # the stage as `status` shows it, each time it is asked
        await wait_until(lambda: branded_while_shown(handle, shown), timeout=300)
        status = await temporal_client.query_status(handle)
        made = status.branding.made
        await temporal_client.choose(client, handle.id, str(video), status.candidates[0].id)
        result = await result_of(handle, timeout=180)

    assert finished_before and len(finished_before) < 4  # killed mid-way
    assert made.method == "full" and made.resumed_pieces >= len(finished_before)
    # the choice waited beside the resumed encode, and `status` said how far it was
    assert any(line.startswith(f"{WAITING_FOR_SELECTION} · BRANDING ") for line in shown), shown
    published = decode_all(published_file(result, video))
    assert len(published.frames) == 70 * 30


async def branded_while_shown(handle, shown: list[str]) -> bool:
    """Whether the copy is made, noting the stage shown; the dead worker's sticky queue times
    the first queries out, the next are answered."""
    try:
        status = await temporal_client.query_status(handle)
    except RPCError:
        return False
    shown.append(with_branding(status.stage, branding_percent(status)))
    return status.branding.made is not None and status.stage == WAITING_FOR_SELECTION


async def a_piece_is_finished(pieces: Path) -> bool:
    return any(pieces.glob("piece-*.json"))


def test_status_shows_the_branding_beside_the_stage_and_how_the_copy_was_made() -> None:
    def detail(branding: BrandingStatus, stage: str = WAITING_FOR_SELECTION) -> list[str]:
        status = VideoStatus(stage, "/videos/md_AvsB.mp4", branding=branding)
        shown = VideoDetail("md-avsb-1", RUNNING, stage, None, status)
        return [block.text for block in detail_lines(shown, UTC) if hasattr(block, "text")]

    running = BrandingStatus(progress=ProgressReport("brand_video", 40, 100))
    assert "  stage: WAITING_FOR_SELECTION · BRANDING 40%" in detail(running)
    assert "  stage: BRANDING" in detail(running, BRANDING)  # its progress is the stage's
    spliced = BrandingStatus(made=BrandedVideo("spliced", None, "libx264"))
    assert "  branded copy: made, titles spliced in" in detail(spliced)
    full = BrandingStatus(made=BrandedVideo("full", "it is not H.264", "libx264"))
    assert "  branded copy: made, full pass (libx264); it is not H.264" in detail(full)
    stopped = BrandingStatus(problem="/ws: the disk is full (ENOSPC)")
    assert "  branding stopped: /ws: the disk is full (ENOSPC)" in detail(stopped)
    assert with_branding("RANKING 10%", None) == "RANKING 10%"


async def test_a_disk_that_fills_up_mid_brand_holds_the_video_and_it_goes_on_once_freed(
    temporal_env, pipeline_env, env, small_disk
):
    disk = small_disk("workspace-disk", 128 * 1024)
    pipeline_env(
        WORKSPACE_DIR=str(disk.path / "workspace"),
        VIDEO_TITLES="on",
        VIDEO_TITLE_SECONDS="2",
        VIDEO_WATERMARK="burn",  # a full pass: long enough to fill the disk in the middle
        ATTENTION_RETRY_INTERVAL="1h",
    )
    client = temporal_env.client
    video = camera_clip(env / "videos" / unique_name(), 100)
    async with running_worker(client):
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        waiting = await wait_for_stage(handle, WAITING_FOR_SELECTION, timeout=180)
        await temporal_client.choose(client, handle.id, str(video), waiting.candidates[0].id)
        await wait_for_stage(handle, BRANDING, timeout=120)  # publishing waits for the copy
        disk.fill()
        held = await wait_for_stage(handle, NEEDS_ATTENTION, timeout=180)
        disk.free()
        await temporal_client.retry(client, handle.id)
        result = await result_of(handle, timeout=300)
        made = (await temporal_client.query_status(handle)).branding.made

    assert held.hold.stage == BRANDING and "the disk is full" in held.hold.problem
    assert str(disk.path) in held.hold.problem and "\n" not in held.hold.problem
    assert made.method == "full"
    assert len(decode_all(published_file(result, video)).frames) == 100 * 30
