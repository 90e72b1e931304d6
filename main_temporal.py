"""Operator CLI for the durable, Temporal-orchestrated pipeline.

python main_temporal.py up            server + worker + every video as it arrives, on one machine
python main_temporal.py start         queue every video in INPUT_DIR that has settled
python main_temporal.py pending       videos waiting for a thumbnail choice, a person or the quota
python main_temporal.py select [N]    open the chooser (for each waiting video in turn); the choice
                                      is sent to the workflow
python main_temporal.py status [N]    recent videos, or one in detail
python main_temporal.py web           the web chooser, for a phone or any browser
python main_temporal.py retry NAME    run a waiting step again now (--all: every one)

A video is named by the number `pending` prints, its file name or the start of its workflow id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import asdict
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TypeVar

import typer
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from temporalio.client import Client
from temporalio.service import RPCError

# thumbnail_selector (OpenCV) before anything importing PyAV: see its _check_opencv_libraries
import thumbnail_selector  # noqa: F401

# isort: split
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
from temporal import feed
from temporal.client import OperatorError
from temporal.dev_server import (
    NAMESPACE,
    TemporalBinaryMissingError,
    embedded_server,
    is_serving,
    server_log,
    ui_address,
)
from temporal.feed import VideoEvent
from temporal.messages import (
    WAITING_FOR_QUOTA,
    WAITING_FOR_SELECTION,
    Hold,
    VideoStatus,
    host_task_queue,
)
from temporal.watcher import FolderWatcher, IngestOutcome, ingest_file

app = typer.Typer(
    help="Badminton café uploader on Temporal: one durable workflow per match video.",
    no_args_is_help=True,
    rich_markup_mode="markdown",  # a docstring's line breaks are not kept in the help
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
    except KeyboardInterrupt:  # Ctrl+C where no handler of ours runs (a chooser window)
        raise fail("Stopped; nothing more was sent.", 130) from None


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
    console.print(line + outcome.note)


def not_startable(video: Path, settings: Settings) -> IngestOutcome | None:
    """Why `start` cannot take this path (a folder, no such file), or None when it is a file."""
    if video.is_dir():
        return IngestOutcome(
            str(video),
            "skipped: it is a folder; name the videos in it (`start FOLDER/*.mp4`), or name "
            "none for every video in INPUT_DIR",
            refused=True,
        )
    if not video.is_file():
        return IngestOutcome(
            str(video),
            f"skipped: no such file on this machine ({settings.worker_name}); check the "
            "path, or run `start` on the machine that holds it",
            refused=True,
        )
    return None


async def start_videos(
    client: Client, videos: list[Path], retry_failed: bool = False, rechoose: bool = False
) -> list[IngestOutcome]:
    """Start a workflow for each video that has settled and passes its checks; print what
    happened to each. They run on this machine's worker (WORKER_NAME)."""
    settings = get_settings()
    outcomes = []
    for video in videos:
        outcome = not_startable(video, settings)
        if outcome is None:
            outcome = await ingest_file(client, video, settings, retry_failed, rechoose)
        print_outcome(outcome)
        outcomes.append(outcome)
    if any(outcome.started for outcome in outcomes):
        host = await temporal_client.host_state(
            client, settings.temporal_task_queue, settings.worker_name
        )
        if host.running is False:
            console.print(
                f"No worker named {host.name} is running: these videos wait until `python "
                "main_temporal.py worker` (or `up`) runs on this machine.",
                style="yellow",
            )
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
    """Queue a durable workflow for every settled, well-named video; never twice for one video.
    Its steps run on this machine's worker, where the file is."""
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


def local_time(iso: str | datetime, zone: tzinfo) -> str:
    """`Fri 26 Dec 15:12 (Asia/Ho_Chi_Minh)`: a time as the café reads it (CAFE_TIMEZONE)."""
    moment = (datetime.fromisoformat(iso) if isinstance(iso, str) else iso).astimezone(zone)
    name = getattr(zone, "key", None) or moment.tzname()
    return f"{moment:%a %d %b %H:%M} ({name})"


def hold_line(hold: Hold, zone: tzinfo) -> str:
    """When a held step runs again, in the café's time."""
    when = local_time(hold.retry_at, zone)
    if hold.stage == WAITING_FOR_QUOTA:
        return f"waiting for YouTube's daily limit until {when}, then {hold.step} goes on"
    return f"needs attention: {hold.step} is tried again at {when}"


def host_text(host: str, state: temporal_client.HostState | None) -> str:
    """`cafe-pc`, `cafe-pc (down)`; `-` for a video any worker runs (started before hosts)."""
    if not host:
        return "-"
    return f"{host} (down)" if state is not None and state.running is False else host


def host_down_line(state: temporal_client.HostState) -> str:
    """What a video whose host is down waits for."""
    since = ""
    if state.last_seen is not None:
        since = f" since {local_time(state.last_seen, get_settings().cafe_timezone)}"
    return (
        f"waits for worker {state.name}: no worker of that name runs{since}; its steps go on "
        f"once `python main_temporal.py worker` runs again on {state.name}"
    )


PENDING_HINT = (
    "Choose with: python main_temporal.py select <number, file name or id>; "
    "without one: each in turn"
)


@app.command()
def pending(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the videos waiting for a thumbnail choice, then those waiting for a person or for
    YouTube's quota, numbered for `select`, `retry`, `status` and `cancel`."""

    async def work() -> tuple[
        list[temporal_client.WaitingVideo],
        list[temporal_client.HeldVideo],
        dict[tuple[str, str], temporal_client.HostState],
    ]:
        client = await connect()
        waiting = await temporal_client.list_waiting(client)
        held = await temporal_client.list_held(client)
        hosts = [(video.task_queue, video.host) for video in [*waiting, *held]]
        return waiting, held, await temporal_client.host_states(client, hosts)

    waiting, held, hosts = run(work)
    if as_json:
        rows = [
            {
                "number": number,
                "workflow_id": video.workflow_id,
                "video": video.video_file,
                "host": video.host,
                "stage": WAITING_FOR_SELECTION,
                "waiting_since": video.waiting_since.isoformat() if video.waiting_since else None,
            }
            for number, video in enumerate(waiting, 1)
        ] + [
            {
                "number": number,
                "workflow_id": video.workflow_id,
                "video": video.video_file,
                "host": video.host,
                "stage": video.hold.stage,
                "waiting_since": video.hold.since,
                "retry_at": video.hold.retry_at,
                "reason": video.hold.reason,
            }
            for number, video in enumerate(held, len(waiting) + 1)
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not waiting:
        console.print("No video is waiting for a thumbnail choice.")
    else:
        console.print("Waiting for a thumbnail choice:")
        for number, video in enumerate(waiting, 1):
            host = host_text(video.host, hosts.get((video.task_queue, video.host)))
            console.print(
                f"  {number}. {video.video_file} | host: {host} | waiting "
                f"{format_wait(video.waiting_since)} | {video.workflow_id}",
                highlight=False,
            )
        console.print(PENDING_HINT)
    if held:
        zone = get_settings().cafe_timezone
        console.print("Waiting for a person or for YouTube's quota:")
        for number, video in enumerate(held, len(waiting) + 1):
            host = host_text(video.host, hosts.get((video.task_queue, video.host)))
            console.print(
                f"  {number}. {video.video_file} | host: {host} | {hold_line(video.hold, zone)} | "
                f"{video.workflow_id}\n    {video.hold.reason}",
                highlight=False,
            )
        console.print(
            "Go on now (once fixed): python main_temporal.py retry <number, file name or id>"
        )


def chosen_line(rank: int | None, candidate_id: str | None, video_file: str) -> str:
    which = f"Rank {rank}" if rank is not None else (candidate_id or "A thumbnail")
    return f"{which} chosen for {video_file}: rendering and publishing"


def pick_candidate(request: temporal_client.ChoiceRequest, pick: int | None) -> str | None:
    """Rank `pick`, else the one chosen in the window (None: cancelled); the window shows the
    previews that came through Temporal, or the candidates' files on the video's own host."""
    from thumbnail_selector import SelectableCandidate, choose, pick_by_rank

    if pick is not None:
        return pick_by_rank(request.candidates, pick)
    candidates = [
        SelectableCandidate(
            c.id, c.rank, c.score, c.timestamp, c.preview or Path(c.file), crop=c.crop
        )
        for c in request.candidates
    ]
    return choose(candidates, request.video_file)


async def choose_one(client: Client, workflow_id: str, pick: int | None) -> None:
    """Open the chooser (or pick rank `pick`) for one waiting video and send the choice."""
    request = await temporal_client.choice_request(client, workflow_id)
    chosen = pick_candidate(request, pick)
    if chosen is None:
        console.print(f"Cancelled: nothing was chosen for {request.video_file}; it keeps waiting.")
        return
    taken = await temporal_client.choose(client, workflow_id, request.video_path, chosen)
    console.print(chosen_line(request.rank_of(taken), taken, request.video_file), style="green")


async def choose_each(client: Client, pick: int | None) -> int:
    """Every video waiting now, oldest first; a problem with one is printed and the next comes.
    Returns how many could not be chosen for."""
    waiting = await temporal_client.list_waiting(client)
    if not waiting:
        console.print("No video is waiting for a thumbnail choice.")
    problems = 0
    for number, video in enumerate(waiting, 1):
        console.print(f"{number}/{len(waiting)}: {video.video_file}", highlight=False)
        try:
            await choose_one(client, video.workflow_id, pick)
        except (OperatorError, PipelineError) as error:
            problems += 1
            message = for_temporal(error) if isinstance(error, PipelineError) else str(error)
            console.print(message, style="red")
    return problems


@app.command()
def select(
    video: str = typer.Argument(
        None,
        help="The number `pending` prints, a file name or the start of a workflow id; "
        "none: every waiting video in turn.",
    ),
    pick: int = typer.Option(None, "--pick", min=1, help="Choose rank N without a window."),
) -> None:
    """Open the chooser for a waiting video (or each in turn) and send the choice to its
    workflow; works on any machine that reaches Temporal."""

    async def work() -> int:
        client = await connect()
        if video is None:
            return await choose_each(client, pick)
        workflow_id = await temporal_client.resolve(client, video, temporal_client.WANTS_WAITING)
        await choose_one(client, workflow_id, pick)
        return 0

    if run(work):
        raise typer.Exit(1)


def print_detail(detail: temporal_client.VideoDetail) -> None:
    status = detail.status
    name = detail.video_file or (Path(status.video_path).name if status else "")
    title = Text(name, style="bold") + " " if name else Text("")
    console.print(title + f"({detail.workflow_id}): {detail.execution_status}")
    console.print(f"  stage: {detail.stage}")
    if detail.host:
        console.print(f"  host: {detail.host}")
    if detail.host_state is not None and detail.host_state.running is False:
        console.print(f"  {host_down_line(detail.host_state)}", style="yellow")
    if detail.unanswered:
        console.print(f"  the workflow could not answer: {detail.unanswered}", style="red")
    elif status is None:
        console.print(
            "  (no worker answered: start one with `python main_temporal.py worker` for the "
            "candidates and progress)"
        )
    else:
        print_status(status)
    hold = (status.hold if status and detail.execution_status == "RUNNING" else None) or detail.hold
    if hold:
        console.print(f"  {hold_line(hold, get_settings().cafe_timezone)}", style="yellow")
        console.print(f"  {hold.reason}", style="yellow")
    for step in detail.retrying:
        console.print(f"  {retrying_line(step)}", style="yellow")
    if detail.failure:
        console.print(f"  failed: {detail.failure}", style="red")
    if detail.cancel_reason:
        console.print(f"  cancelled: {detail.cancel_reason}", style="yellow")


def retrying_line(step: temporal_client.RetryingStep) -> str:
    """`retrying UPLOADING: attempt 3 (no limit), next at ...; last failure: ...`"""
    limit = f"of {step.maximum_attempts}" if step.maximum_attempts else "(no limit)"
    when = ""
    if step.next_attempt_at is not None:
        when = f", next at {local_time(step.next_attempt_at, get_settings().cafe_timezone)}"
    return (
        f"retrying {step.stage}: attempt {step.attempt} {limit}{when}; "
        f"last failure: {step.last_failure}"
    )


def print_status(status: VideoStatus) -> None:
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
        if status.published.publish_at:
            console.print(f"  goes public at: {status.published.publish_at}")


def problem_of(summary: temporal_client.WorkflowSummary, zone: tzinfo) -> str:
    if summary.host_state is not None and summary.host_state.running is False:
        return host_down_line(summary.host_state)
    if summary.hold:
        return f"{hold_line(summary.hold, zone)}: {summary.hold.reason}"
    return summary.failure or ""


def print_recent(summaries: list[temporal_client.WorkflowSummary]) -> None:
    """A table when the terminal is wide enough for it, else a block per video; either way a
    workflow id stays whole on its line, to be copied."""
    if not summaries:
        console.print("No workflows yet: `python main_temporal.py start` queues the videos.")
        return
    zone = get_settings().cafe_timezone
    rows = []
    for summary in summaries:
        stage = summary.stage
        if summary.progress_percent is not None:
            stage = f"{stage} {summary.progress_percent}%"
        rows.append(
            (
                str(summary.number or ""),
                summary.video_file,
                host_text(summary.host, summary.host_state),
                stage,
                format_wait(summary.started_at) if summary.started_at else "-",
                summary.workflow_id,
            )
        )
    table = Table("#", "video", "host", "stage", "age", "workflow id")
    for column in table.columns:
        column.no_wrap = True
    for row in rows:
        table.add_row(*row)
    wanted = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if wanted <= console.width:
        console.print(table)
    else:
        for number, video, host, stage, age, workflow_id in rows:
            mark = f"{number}. " if number else ""
            console.print(f"{mark}{video}: {stage}, {age}, host {host}", highlight=False)
            console.print(f"  {workflow_id}", highlight=False)
    problems = [(s.workflow_id, problem_of(s, zone)) for s in summaries]
    for workflow_id, problem in problems:
        if problem:
            console.print(f"{workflow_id}: {problem}", highlight=False, style="yellow")


@app.command()
def status(
    video: str = typer.Argument(
        None, help="One video in detail: a number from `pending`, a file name or an id."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The recent videos, their host and stage, or one video in detail."""

    async def one() -> temporal_client.VideoDetail:
        client = await connect()
        workflow_id = await temporal_client.resolve(client, video)
        return await temporal_client.describe_video(client, workflow_id)

    async def recent() -> list[temporal_client.WorkflowSummary]:
        return await temporal_client.recent_workflows(await connect())

    if video:
        detail = run(one)
        if as_json:
            print(json.dumps(asdict(detail), indent=2, ensure_ascii=False, default=str))
        else:
            print_detail(detail)
        return
    summaries = run(recent)
    if as_json:
        rows = [
            {**asdict(s), "started_at": s.started_at.isoformat() if s.started_at else None}
            for s in summaries
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
    else:
        print_recent(summaries)


@app.command()
def cancel(
    video: str = typer.Argument(..., help="A number from `pending`, a file name or an id."),
) -> None:
    """Cancel a video's workflow: it stops at its next step; the source video stays in place."""

    async def work() -> str:
        client = await connect()
        workflow_id = await temporal_client.resolve(client, video)
        await temporal_client.cancel(client, workflow_id)
        return workflow_id

    console.print(f"Cancellation requested for {run(work)}.")


@app.command()
def retry(
    video: str = typer.Argument(
        None,
        help="A video waiting for a person or the quota: the number `pending` prints, a file "
        "name or the start of a workflow id.",
    ),
    every: bool = typer.Option(False, "--all", help="Every video waiting for a retry."),
) -> None:
    """Run a waiting step again now (NEEDS_ATTENTION once fixed, or WAITING_FOR_QUOTA)."""
    if bool(video) == every:
        raise fail("Name one video (`python main_temporal.py pending` lists them) or --all.")

    async def one() -> None:
        client = await connect()
        workflow_id = await temporal_client.resolve(client, video, temporal_client.WANTS_HELD)
        stage = await temporal_client.retry(client, workflow_id)
        console.print(f"{workflow_id}: was {stage}; its step runs again now.")

    async def all_held() -> None:
        retried = await temporal_client.retry_held(await connect())
        for held in retried:
            console.print(f"{held.workflow_id}: was {held.hold.stage}; its step runs again now.")
        if not retried:
            console.print("No video is waiting for a retry.")

    run(all_held if every else one)


@app.command()
def auth() -> None:
    """Authorize YouTube uploads on this machine (prints the consent URL; saves the token with
    mode 0600); the videos of this machine waiting for it go on."""
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
        host = get_settings().worker_name
        held = await temporal_client.list_held(client)
        waiting = [video for video in held if video.hold.redo == Step.AUTH]
        here = [video for video in waiting if temporal_client.runs_on(video, host)]
        for video in await temporal_client.retry_videos(client, here):
            console.print(f"{video.workflow_id} ({video.video_file}): goes on now.")
        for video in waiting:
            if video not in here:
                console.print(
                    f"{video.workflow_id} ({video.video_file}): waits for `python "
                    f"main_temporal.py auth` on {video.host}, whose token it uploads with.",
                    highlight=False,
                )

    run(retry_waiting)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl+C and SIGTERM set `stop`. Where the event loop cannot watch signals (Windows), a
    plain signal handler hands them to the loop instead."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except NotImplementedError:
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))


def folder_watcher(client: Client, settings: Settings) -> FolderWatcher | None:
    """The watcher of INPUT_DIR, unless WATCH_INTERVAL=0 turned it off."""
    if settings.watch_interval_seconds <= 0:
        return None
    return FolderWatcher(client, settings)


def polling_line(settings: Settings) -> str:
    own = host_task_queue(settings.temporal_task_queue, settings.worker_name)
    return (
        f"Worker {settings.worker_name} polling {settings.temporal_task_queue} and {own}; "
        "Ctrl+C to stop."
    )


@app.command()
def worker() -> None:
    """Run this machine's worker (WORKER_NAME): workflows of any machine, and the steps of the
    videos started here; and the INPUT_DIR watcher, unless WATCH_INTERVAL=0. Until Ctrl+C or
    SIGTERM (running activities get a few seconds to finish)."""
    from temporal.worker import run_worker

    async def work() -> None:
        client = await connect()
        settings = get_settings()
        stop = asyncio.Event()
        stop_on_signals(stop)
        console.print(polling_line(settings))
        await run_worker(client, settings, stop, folder_watcher(client, settings))

    run(work)


def temporal_target() -> tuple[str, str]:
    """The address and namespace this machine's settings connect to (TEMPORAL_* variables)."""
    config = temporal_client.connect_config()
    return config["target_host"], config.get("namespace") or NAMESPACE


@app.command()
def server() -> None:
    """Run the embedded Temporal dev server (SQLite in TEMPORAL_DATA_DIR) until Ctrl+C."""
    settings = get_settings()
    address, namespace = temporal_target()

    async def work() -> None:
        if await is_serving(temporal_client.connect_config()):
            raise fail(
                f"A Temporal server already answers at {address}: use it, or set "
                "TEMPORAL_ADDRESS to a free port for this one.",
                2,
            )
        stop = asyncio.Event()
        stop_on_signals(stop)  # SIGTERM too (systemd, pkill): the server must not be orphaned
        async with embedded_server(settings, address, namespace) as process:
            console.print(
                f"Temporal at {address}; Web UI at {ui_address(settings, address, namespace)}"
            )
            console.print(f"Its log: {server_log(settings)}. Ctrl+C to stop.")
            exited = asyncio.create_task(asyncio.to_thread(process.wait))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([exited, stopping], return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():
            raise fail(f"The Temporal dev server exited with code {process.returncode}.")
        console.print("Temporal server stopped.")

    run(work)


def event_line(event: VideoEvent) -> tuple[str, str]:
    """What `up` prints when something happens to a video, and its colour."""
    zone = get_settings().cafe_timezone
    if event.kind == feed.WAITING:
        return f"waiting for your choice: select {event.number} ({event.video_file})", "cyan"
    if event.kind == feed.CHOSEN:
        return chosen_line(event.rank, event.candidate_id, event.video_file), "green"
    if event.kind == feed.HELD and event.hold is not None:
        return f"{event.video_file}: {hold_line(event.hold, zone)}: {event.hold.reason}", "yellow"
    if event.kind == feed.PUBLISHED:
        return f"published {event.video_file}: {event.detail}", "green"
    if event.kind == feed.FAILED:
        return f"{event.video_file} failed: {event.detail}", "red"
    return f"{event.video_file}: {event.detail}", "yellow"


def still_wait_line(count: int) -> str:
    if not count:
        return "No video is in progress."
    videos = "1 video still waits" if count == 1 else f"{count} videos still wait"
    return f"{videos}; run `up` again to go on"


def print_outcomes(outcomes: list[temporal_client.VideoOutcome]) -> int:
    """One line per video `up` started; returns how many did not complete."""
    failures = 0
    for outcome in outcomes:
        name = f"{outcome.video_file} ({outcome.workflow_id})"
        if outcome.execution_status == "COMPLETED":
            console.print(f"{name}: completed", style="green")
            continue
        failures += 1
        reason = f" {outcome.failure}" if outcome.failure else ""
        console.print(f"{name}: {outcome.execution_status}{reason}", style="red")
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
    of INPUT_DIR started as it arrives (WATCH_INTERVAL; 0: only those there now). It says when a
    video waits for you, needs attention, fails or is published."""
    from temporal.worker import ensure_search_attributes, run_worker

    settings = get_settings()
    input_videos()  # INPUT_DIR must be a folder
    if select_each and pick is None:
        require_display_or_exit()
    require_known_template()
    require_upload_auth("Nothing was started.", for_temporal)
    if with_web:
        require_safe_web(settings)
    address, namespace = temporal_target()

    async def work() -> int:
        async with AsyncExitStack() as server:
            if await is_serving(temporal_client.connect_config()):
                # another server: its Web UI is wherever its owner serves it
                server_line = f"Temporal server at {address}, namespace {namespace}"
            else:
                await server.enter_async_context(embedded_server(settings, address, namespace))
                console.print(f"Embedded Temporal server at {address}")
                server_line = f"Web UI: {ui_address(settings, address, namespace)}"
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
            web_task = (
                asyncio.create_task(web_chooser(client, settings, stop)) if with_web else None
            )
            chosen_here: set[str] = set()

            async def report(event: VideoEvent) -> None:
                if event.kind == feed.CHOSEN and event.workflow_id in chosen_here:
                    return  # the chooser said it already
                line, style = event_line(event)
                console.print(line, style=style, highlight=False)
                if event.kind == feed.WAITING and (select_each or pick is not None):
                    chosen_here.add(event.workflow_id)
                    await choose_while_up(client, event.workflow_id, pick)

            async def until() -> bool:
                if worker_task.done() or (web_task is not None and web_task.done()):
                    return True  # it failed: its error ends `up`, below
                if not exit_when_done or (watching and watcher.settling):
                    return False
                return await temporal_client.all_done(client, watcher.workflow_ids)

            try:
                console.print(server_line)
                console.print(polling_line(settings))
                if watching:
                    console.print(f"Watching {settings.input_dir} for new videos.")
                done = await feed.follow(feed.VideoFeed(client), report, stop, until)
            finally:
                stop.set()
                await worker_task
                if web_task:
                    await web_task
            if done and exit_when_done:
                outcomes = await temporal_client.outcomes(client, watcher.workflow_ids)
                return print_outcomes(outcomes)
            console.print(still_wait_line(await temporal_client.count_in_progress(client)))
            return 0

    failures = run(work)
    if failures:
        raise typer.Exit(1)


async def choose_while_up(client: Client, workflow_id: str, pick: int | None) -> None:
    """`up --pick N` chooses here; `up --select` opens the chooser in a process of its own, so
    that the window never holds up the worker."""
    try:
        if pick is not None:
            await choose_one(client, workflow_id, pick)
            return
        chooser = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "select", workflow_id
        )
        await chooser.wait()
    except (OperatorError, PipelineError) as error:
        message = for_temporal(error) if isinstance(error, PipelineError) else str(error)
        console.print(message, style="red")


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
