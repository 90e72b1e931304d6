"""Operator CLI for the durable, Temporal-orchestrated pipeline.

python main_temporal.py up            server + worker + every video as it arrives, on one machine
python main_temporal.py start         queue every video in INPUT_DIR that has settled
python main_temporal.py pending       videos waiting for a thumbnail choice, a person or the quota
python main_temporal.py select ID     open the chooser; the choice is sent to the workflow
python main_temporal.py status [ID]   recent videos, or one in detail
python main_temporal.py web           the web chooser, for a phone or any browser
python main_temporal.py retry ID      run a waiting step again now (--all: every one)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TypeVar

import typer
from rich.table import Table
from rich.text import Text
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

# thumbnail_selector (OpenCV) before anything importing PyAV: see its _check_opencv_libraries
import thumbnail_selector  # noqa: F401

# isort: split
import ingest
from cli_support import (
    console,
    fail,
    input_videos,
    load_settings_or_exit,
    require_display_or_exit,
    require_known_template,
    require_upload_auth,
)
from config import Settings, get_settings
from errors import PipelineError, Step
from remedies import for_temporal
from temporal import client as temporal_client
from temporal.client import NoWorkerError, OperatorError, WorkflowEndedError
from temporal.dev_server import (
    TemporalBinaryMissingError,
    is_serving,
    server_log,
    start_server,
    wait_until_serving,
)
from temporal.messages import (
    WAITING_FOR_QUOTA,
    WAITING_FOR_SELECTION,
    Hold,
    VideoStatus,
)
from temporal.watcher import FolderWatcher, IngestOutcome, ingest_file

app = typer.Typer(
    help="Badminton café uploader on Temporal: one durable workflow per match video.",
    no_args_is_help=True,
    add_completion=False,
)
T = TypeVar("T")


@app.callback()
def _load_settings() -> None:
    load_settings_or_exit()


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run async CLI work; a known problem becomes one line and a non-zero exit."""
    try:
        return asyncio.run(work())
    except PipelineError as error:
        raise fail(for_temporal(error)) from None
    except (OperatorError, TemporalBinaryMissingError) as error:
        raise fail(str(error)) from None
    except RPCError as error:  # the server refused: a missing namespace, a permission...
        raise fail(f"Temporal refused the request: {error.message}") from None


async def connect() -> Client:
    address = temporal_client.connect_config()["target_host"]
    try:
        return await temporal_client.connect()
    except RuntimeError:  # the SDK's connection error
        raise fail(
            f"Cannot reach Temporal at {address}: start it with `python main_temporal.py "
            "server` (or `up`), or set TEMPORAL_ADDRESS.",
            2,
        ) from None


def videos_to_start(paths: list[Path] | None) -> list[Path]:
    """The named files, else every video in INPUT_DIR (exit code 2 when it is no folder)."""
    return list(paths) if paths else input_videos()


def print_outcome(outcome: IngestOutcome) -> None:
    style = "green" if outcome.started else "red" if outcome.refused else "yellow"
    line = Text(outcome.video, style=style) + f": {outcome.message}"
    if outcome.workflow_id:
        line += f" ({outcome.workflow_id})"
    console.print(line)


async def start_videos(
    client: Client, videos: list[Path], retry_failed: bool = False, rechoose: bool = False
) -> list[IngestOutcome]:
    """Start a workflow for each video that has settled and passes its checks; print what
    happened to each."""
    settings = get_settings()
    outcomes = []
    for video in videos:
        if not video.is_file():
            outcome = IngestOutcome(
                str(video), "skipped: no such file; check the path", refused=True
            )
        elif waiting := ingest.still_being_copied(video, settings.ingest_settle_seconds):
            outcome = IngestOutcome(video.name, f"skipped: {waiting}")
        else:
            outcome = await ingest_file(client, video, settings, retry_failed, rechoose)
        print_outcome(outcome)
        outcomes.append(outcome)
    return outcomes


@app.command()
def start(
    paths: list[Path] = typer.Argument(None, help="Videos to queue (default: all in INPUT_DIR)."),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="Run again the videos whose workflow failed or was cancelled."
    ),
    rechoose: bool = typer.Option(
        False, "--rechoose", help="With --retry-failed: ask for the thumbnail choice again."
    ),
) -> None:
    """Queue a durable workflow for every settled, well-named video; never twice for one video."""
    videos = videos_to_start(paths)
    require_known_template()
    require_upload_auth("Nothing was started.", for_temporal)

    async def work() -> list[IngestOutcome]:
        return await start_videos(await connect(), videos, retry_failed, rechoose)

    if any(outcome.refused for outcome in run(work)):
        raise typer.Exit(1)


def format_wait(since: datetime | None) -> str:
    if since is None:
        return "-"
    minutes = int((datetime.now(UTC) - since).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def local_time(iso: str, zone: tzinfo) -> str:
    """`Fri 26 Dec 15:12 (Asia/Ho_Chi_Minh)`: a time as the café reads it (CAFE_TIMEZONE)."""
    moment = datetime.fromisoformat(iso).astimezone(zone)
    name = getattr(zone, "key", None) or moment.tzname()
    return f"{moment:%a %d %b %H:%M} ({name})"


def hold_line(hold: Hold, zone: tzinfo) -> str:
    """When a held step runs again, in the café's time."""
    when = local_time(hold.retry_at, zone)
    if hold.stage == WAITING_FOR_QUOTA:
        return f"waiting for YouTube's daily limit until {when}, then {hold.step} goes on"
    return f"needs attention: {hold.step} is tried again at {when}"


@app.command()
def pending(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the videos waiting for a thumbnail choice, then those waiting for a person or for
    YouTube's quota."""

    async def work() -> tuple[list[temporal_client.WaitingVideo], list[temporal_client.HeldVideo]]:
        client = await connect()
        return await temporal_client.list_waiting(client), await temporal_client.list_held(client)

    waiting, held = run(work)
    if as_json:
        rows = [
            {
                "workflow_id": video.workflow_id,
                "video": video.video_file,
                "stage": WAITING_FOR_SELECTION,
                "waiting_since": video.waiting_since.isoformat() if video.waiting_since else None,
            }
            for video in waiting
        ] + [
            {
                "workflow_id": video.workflow_id,
                "video": video.video_file,
                "stage": video.hold.stage,
                "waiting_since": video.hold.since,
                "retry_at": video.hold.retry_at,
                "reason": video.hold.reason,
            }
            for video in held
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not waiting:
        console.print("No video is waiting for a thumbnail choice.")
    else:
        console.print("Pending thumbnail selections:")
        for number, video in enumerate(waiting, 1):
            console.print(
                f"  {number}. workflow_id: {video.workflow_id} | video: {video.video_file} | "
                f"waiting {format_wait(video.waiting_since)}",
                highlight=False,
            )
        console.print("Choose with: python main_temporal.py select <workflow_id>")
    if held:
        zone = get_settings().cafe_timezone
        console.print("Waiting for a person or for YouTube's quota:")
        for video in held:
            console.print(
                f"  workflow_id: {video.workflow_id} | video: {video.video_file} | "
                f"{hold_line(video.hold, zone)}\n    {video.hold.reason}",
                highlight=False,
            )


def choose_candidate(status: VideoStatus, pick: int | None) -> str | None:
    from thumbnail_selector import SelectableCandidate, choose, pick_by_rank

    candidates = [
        SelectableCandidate(c.id, c.rank, c.score, c.timestamp, Path(c.file))
        for c in status.candidates
    ]
    if pick is not None:
        return pick_by_rank(candidates, pick)
    return choose(candidates, Path(status.video_path).name)


async def select_for(client: Client, workflow_id: str, pick: int | None) -> None:
    detail = await temporal_client.describe_video(client, workflow_id)
    if detail.execution_status != "RUNNING":
        raise WorkflowEndedError(workflow_id, detail.execution_status, "nothing to choose")
    if detail.status is None:
        raise NoWorkerError(workflow_id)
    status = detail.status
    if status.stage != WAITING_FOR_SELECTION:
        raise fail(f"{workflow_id} is not waiting for a selection (stage {status.stage}).")
    chosen = choose_candidate(status, pick)
    if chosen is None:
        console.print("Cancelled: nothing was chosen; the video keeps waiting.")
        return
    taken = await temporal_client.choose(client, workflow_id, status.video_path, chosen)
    console.print(f"Chose {taken} for {Path(status.video_path).name}.")


@app.command()
def select(
    workflow_id: str = typer.Argument(..., help="From `pending`."),
    pick: int = typer.Option(None, "--pick", min=1, help="Choose rank N without a window."),
) -> None:
    """Open the chooser for a waiting video and signal the choice to its workflow."""

    async def work() -> None:
        await select_for(await connect(), workflow_id, pick)

    run(work)


def print_detail(detail: temporal_client.VideoDetail) -> None:
    status = detail.status
    if status is None:
        name = Text(detail.video_file, style="bold") + " " if detail.video_file else Text("")
        console.print(name + f"({detail.workflow_id}): {detail.execution_status}")
        console.print(
            f"  stage: {detail.stage} (no worker answered: start one with `python "
            "main_temporal.py worker` for the candidates and progress)"
        )
    else:
        name = Text(Path(status.video_path).name, style="bold")
        console.print(name + f" ({detail.workflow_id}): {detail.execution_status}")
        print_status(status)
    hold = (status.hold if status else None) or detail.hold
    if hold:
        console.print(f"  {hold_line(hold, get_settings().cafe_timezone)}", style="yellow")
        console.print(f"  {hold.reason}", style="yellow")
    if detail.failure:
        console.print(f"  failed: {detail.failure}", style="red")


def print_status(status: VideoStatus) -> None:
    console.print(f"  stage: {status.stage}")
    if status.title:
        console.print(f"  title: {status.title}")
    if status.progress:
        progress = status.progress
        console.print(f"  progress: {progress.activity} {progress.percent}%")
    if status.candidates:
        table = Table("rank", "id", "score", "time")
        for candidate in status.candidates:
            table.add_row(
                str(candidate.rank),
                candidate.id,
                f"{candidate.score:.2f}",
                f"{candidate.timestamp:.1f}s",
            )
        console.print(table)
    if status.selected_candidate_id:
        again = " (kept from the failed run)" if status.choice_reused else ""
        console.print(f"  chosen: {status.selected_candidate_id}{again}")
    if status.rejected_selection:
        console.print(f"  last rejected choice: {status.rejected_selection.reason}")
    if status.published:
        console.print(f"  published: {status.published.url or status.published.video_id}")


def problem_of(summary: temporal_client.WorkflowSummary, zone: tzinfo) -> str:
    if summary.hold:
        return f"{hold_line(summary.hold, zone)}: {summary.hold.reason}"
    return summary.failure or ""


def print_recent(summaries: list[temporal_client.WorkflowSummary]) -> None:
    if not summaries:
        console.print("No workflows yet: `python main_temporal.py start` queues the videos.")
        return
    zone = get_settings().cafe_timezone
    table = Table("video", "stage", "status", "age", "workflow id", "problem")
    for column in table.columns:  # the id is copied into `select`: never cut it short
        column.overflow = "fold"
    for summary in summaries:
        stage = summary.stage
        if summary.progress_percent is not None:
            stage = f"{stage} {summary.progress_percent}%"
        age = format_wait(summary.started_at) if summary.started_at else "-"
        table.add_row(
            summary.video_file,
            stage,
            summary.execution_status,
            age,
            summary.workflow_id,
            problem_of(summary, zone),
        )
    console.print(table)


@app.command()
def status(
    workflow_id: str = typer.Argument(None, help="One workflow in detail."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The recent videos and their stage, or one workflow in detail."""

    async def one() -> temporal_client.VideoDetail:
        return await temporal_client.describe_video(await connect(), workflow_id)

    async def recent() -> list[temporal_client.WorkflowSummary]:
        return await temporal_client.recent_workflows(await connect())

    if workflow_id:
        detail = run(one)
        if as_json:
            print(json.dumps(asdict(detail), indent=2, ensure_ascii=False))
        else:
            print_detail(detail)
        return
    summaries = run(recent)
    if as_json:
        rows = [
            {**asdict(s), "started_at": s.started_at.isoformat() if s.started_at else None}
            for s in summaries
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print_recent(summaries)


@app.command()
def cancel(workflow_id: str = typer.Argument(..., help="The workflow to stop.")) -> None:
    """Cancel a video's workflow: it stops at its next step; the source video stays in place."""

    async def work() -> None:
        await temporal_client.cancel(await connect(), workflow_id)

    run(work)
    console.print(f"Cancellation requested for {workflow_id}.")


@app.command()
def retry(
    workflow_id: str = typer.Argument(None, help="A video waiting for a person or the quota."),
    every: bool = typer.Option(False, "--all", help="Every video waiting for a retry."),
) -> None:
    """Run a waiting step again now (NEEDS_ATTENTION once fixed, or WAITING_FOR_QUOTA)."""
    if bool(workflow_id) == every:
        raise fail("Name one workflow (`python main_temporal.py pending` lists them) or --all.")

    async def one() -> None:
        stage = await temporal_client.retry(await connect(), workflow_id)
        console.print(f"{workflow_id}: was {stage}; its step runs again now.")

    async def all_held() -> None:
        retried = await temporal_client.retry_held(await connect())
        for video in retried:
            console.print(f"{video.workflow_id}: was {video.hold.stage}; its step runs again now.")
        if not retried:
            console.print("No video is waiting for a retry.")

    run(all_held if every else one)


@app.command()
def auth() -> None:
    """Authorize YouTube uploads (prints the consent URL; saves the token with mode 0600); the
    videos waiting for it go on."""
    from uploader import run_auth_flow

    try:
        run_auth_flow()
    except PipelineError as error:
        raise fail(for_temporal(error)) from None
    console.print("Authorized.")

    async def retry_waiting() -> None:
        try:
            client = await asyncio.wait_for(temporal_client.connect(), 10)
        except (RuntimeError, TimeoutError):
            console.print(
                "Temporal is not reachable now: the videos waiting for the token go on at their "
                "next retry, or with `python main_temporal.py retry --all`."
            )
            return
        for video in await temporal_client.retry_held(client, redo=Step.AUTH):
            console.print(f"{video.workflow_id} ({video.video_file}): goes on now.")

    run(retry_waiting)


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)


def folder_watcher(client: Client, settings: Settings) -> FolderWatcher | None:
    """The watcher of INPUT_DIR, unless WATCH_INTERVAL=0 turned it off."""
    if settings.watch_interval_seconds <= 0:
        return None
    return FolderWatcher(client, settings)


@app.command()
def worker() -> None:
    """Run a worker (and the INPUT_DIR watcher, unless WATCH_INTERVAL=0) until Ctrl+C or
    SIGTERM (running activities get a few seconds to finish)."""
    from temporal.worker import run_worker

    async def work() -> None:
        client = await connect()
        settings = get_settings()
        stop = asyncio.Event()
        stop_on_signals(stop)
        console.print(f"Worker polling {settings.temporal_task_queue}; Ctrl+C to stop.")
        await run_worker(client, settings, stop, folder_watcher(client, settings))

    run(work)


def ui_address(settings: Settings) -> str:
    return (
        f"http://localhost:{settings.temporal_ui_port}/namespaces/default/workflows"
        f"?query=VideoStage%3D%22{WAITING_FOR_SELECTION}%22"
    )


@app.command()
def server() -> None:
    """Run the embedded Temporal dev server (SQLite in TEMPORAL_DATA_DIR) until Ctrl+C."""
    settings = get_settings()
    address = temporal_client.connect_config()["target_host"]

    async def work() -> None:
        if await is_serving(temporal_client.connect_config()):
            raise fail(
                f"A Temporal server already answers at {address}: use it, or set "
                "TEMPORAL_ADDRESS to a free port for this one.",
                2,
            )
        stop = asyncio.Event()
        stop_on_signals(stop)  # SIGTERM too (systemd, pkill): the server must not be orphaned
        process = start_server(settings, address)
        try:
            await wait_until_serving(address, process, server_log(settings))
            console.print(f"Temporal at {address}; Web UI at {ui_address(settings)}")
            console.print(f"Its log: {server_log(settings)}. Ctrl+C to stop.")
            exited = asyncio.create_task(asyncio.to_thread(process.wait))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([exited, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_process(process)
        if not stop.is_set():
            raise fail(f"The Temporal dev server exited with code {process.returncode}.")
        console.print("Temporal server stopped.")

    run(work)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def choose_when_ready(client: Client, pick: int | None, handled: set[str]) -> None:
    """Open the chooser (or pick headless) for each video as it starts waiting."""
    for video in await temporal_client.list_waiting(client):
        if video.workflow_id in handled:
            continue
        handled.add(video.workflow_id)
        if pick is not None:
            await select_for(client, video.workflow_id, pick)
        else:
            chooser = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "select", video.workflow_id
            )
            await chooser.wait()


async def report_results(client: Client, workflow_ids: list[str]) -> int:
    """One line per finished video; returns how many did not complete."""
    failures = 0
    for workflow_id in workflow_ids:
        handle = client.get_workflow_handle(workflow_id)
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            console.print(f"{workflow_id}: completed", style="green")
            continue
        failures += 1
        reason = await temporal_client.failure_reason(handle)
        name = description.status.name if description.status else "closed"
        console.print(f"{workflow_id}: {name} {reason}", style="red")
    return failures


@app.command()
def up(
    select_each: bool = typer.Option(
        False, "--select", help="Open the chooser for each video as it becomes ready."
    ),
    pick: int = typer.Option(
        None, "--pick", min=1, help="Choose rank N for each video without a window."
    ),
    exit_when_done: bool = typer.Option(
        False, "--exit-when-done", help="Stop once every video started has finished."
    ),
    with_web: bool = typer.Option(
        False, "--web", help="Serve the web chooser too (WEB_HOST:WEB_PORT)."
    ),
) -> None:
    """One machine, one command: the embedded server if none answers, a worker, and every video
    of INPUT_DIR started as it arrives (WATCH_INTERVAL; 0: only those there now)."""
    from temporal.worker import ensure_search_attributes, run_worker

    settings = get_settings()
    input_videos()  # INPUT_DIR must be a folder
    if select_each and pick is None:
        require_display_or_exit()
    require_known_template()
    require_upload_auth("Nothing was started.", for_temporal)
    if with_web:
        require_safe_web(settings)
    address = temporal_client.connect_config()["target_host"]

    async def work() -> int:
        server_process = None
        if not await is_serving(temporal_client.connect_config()):
            server_process = start_server(settings, address)
            await wait_until_serving(address, server_process, server_log(settings))
            console.print(f"Embedded Temporal server at {address}")
        client = await connect()
        stop = asyncio.Event()
        stop_on_signals(stop)
        await ensure_search_attributes(client)
        watcher = FolderWatcher(client, settings, report=print_outcome)
        await watcher.scan_once()
        watching = settings.watch_interval_seconds > 0
        worker_task = asyncio.create_task(
            run_worker(client, settings, stop, watcher if watching else None)
        )
        web_task = asyncio.create_task(web_chooser(client, settings, stop)) if with_web else None
        try:
            console.print(f"Web UI: {ui_address(settings)}")
            console.print("Choose thumbnails with: python main_temporal.py pending / select <id>")
            if watching:
                console.print(f"Watching {settings.input_dir} for new videos; Ctrl+C to stop.")
            handled: set[str] = set()
            while not stop.is_set():
                if worker_task.done():  # it failed: its error ends `up`, in the finally
                    break
                if web_task and web_task.done():
                    break
                if select_each or pick is not None:
                    await choose_when_ready(client, pick, handled)
                ids = watcher.workflow_ids
                settling = watching and watcher.settling
                if exit_when_done and not settling and await all_closed(client, ids):
                    return await report_results(client, ids)
                await asyncio.sleep(1)
            return 0
        finally:
            stop.set()
            await worker_task
            if web_task:
                await web_task
            if server_process:
                stop_process(server_process)

    failures = run(work)
    if failures:
        raise typer.Exit(1)


def require_safe_web(settings: Settings) -> None:
    """Stop (exit code 2) before anything starts when the chooser would be open to others."""
    from web.auth import UnsafeAddressError, require_safe_address

    try:
        require_safe_address(settings.web_host, settings.web_password)
    except UnsafeAddressError as error:
        raise fail(str(error), 2) from None


async def web_chooser(client: Client, settings: Settings, stop: asyncio.Event) -> None:
    from web.server import serve_chooser

    await serve_chooser(client, settings, stop, console.print)


@app.command()
def web() -> None:
    """Serve the web chooser on WEB_HOST:WEB_PORT (127.0.0.1:8280) until Ctrl+C."""
    settings = get_settings()
    require_safe_web(settings)

    async def work() -> None:
        client = await connect()
        stop = asyncio.Event()
        stop_on_signals(stop)
        await web_chooser(client, settings, stop)

    run(work)


async def all_closed(client: Client, workflow_ids: list[str]) -> bool:
    for workflow_id in workflow_ids:
        if (await client.get_workflow_handle(workflow_id).describe()).close_time is None:
            return False
    return True


def main() -> None:
    """Run the CLI, then leave without the interpreter's shutdown: the Temporal client's Rust
    threads can still call into Python while it finalizes, which aborts the process with "Fatal
    Python error: PyGILState_Release" (temporalio/sdk-python#300) after the work is done."""
    try:
        app()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
