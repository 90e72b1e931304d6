"""Operator CLI for the durable, Temporal-orchestrated pipeline.

./cafe up            server + worker + every video as it arrives, on one machine
./cafe start         queue every video in INPUT_DIR that has settled
./cafe pending       videos waiting for a thumbnail choice, a person or the quota
./cafe select [N]    open the chooser (for each waiting video in turn); the choice
                     is sent to the workflow
./cafe status [N]    recent videos, or one in detail
./cafe web           the web chooser, for a phone or any browser
./cafe retry NAME    run a waiting step again now (--all: every one)
./cafe watermark     the logo as the channel's YouTube watermark (also by `auth`)

A video is named by the number `pending` prints, its file name or the start of its workflow id.

Each command parses, calls the operator API (`temporal.client`) and prints what `operator_cli`
renders. Each imports what it uses when it runs: `--help` loads nothing but Typer, `pending`,
`status` and `select --pick` never the stages and their decoders (OpenCV, PyAV, the YouTube
client), which only `start`, `worker`, `up` and `auth` need.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer

from operator_cli.process import run_then_exit

app = typer.Typer(
    help="Badminton café uploader on Temporal: one durable workflow per match video.",
    no_args_is_help=True,
    rich_markup_mode=None,  # click's plain help: rewrapped paragraphs, and no rich to load
    add_completion=False,
)
T = TypeVar("T")


@app.callback()
def _load_settings() -> None:
    from cli_support import load_settings_or_exit

    load_settings_or_exit()


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run async CLI work; a known problem becomes one line and a non-zero exit."""
    from temporalio.service import RPCError

    from cli_support import fail
    from errors import PipelineError
    from operator_cli.remedies import error_line
    from temporal.client import OperatorError
    from temporal.dev_server import TemporalBinaryMissingError

    try:
        return asyncio.run(work())
    except (PipelineError, OperatorError, TemporalBinaryMissingError, RPCError) as error:
        raise fail(error_line(error)) from None
    except KeyboardInterrupt:  # Ctrl+C where no handler of ours runs (a chooser window)
        raise fail("Stopped; nothing more was sent.", 130) from None


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
    from cli_support import input_videos, require_known_template, require_upload_auth
    from config import get_settings
    from operator_cli.connecting import connect
    from operator_cli.output import say
    from operator_cli.starting import start_videos  # reads the files: the decoders
    from remedies import for_temporal

    videos = list(paths) if paths else input_videos()
    require_known_template()
    require_upload_auth("Nothing was started.", for_temporal)

    async def work():
        client = await connect()
        return await start_videos(client, videos, get_settings(), say, retry_failed, rechoose)

    if any(outcome.refused for outcome in run(work)):
        raise typer.Exit(1)


@app.command()
def pending(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the videos waiting for a thumbnail choice, then those waiting for a person or for
    YouTube's quota, numbered for `select`, `retry`, `status` and `cancel`."""
    from config import get_settings
    from operator_cli.connecting import connect
    from operator_cli.lines import utc_now
    from operator_cli.output import print_json, show
    from operator_cli.videos import inbox_json, inbox_lines, pending_json, pending_lines
    from temporal import client as temporal_client

    async def work() -> temporal_client.Pending:
        return await temporal_client.pending(await connect())

    found = run(work)
    if as_json:
        print_json(pending_json(found.waiting, found.held) + inbox_json(found.files))
    else:
        zone = get_settings().cafe_timezone
        show(pending_lines(found.waiting, found.held, found.hosts, zone, utc_now()))
        show(inbox_lines(found.files))


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
    workflow; for a published video, change its thumbnail (within RECHOOSE_DAYS). Works on any
    machine that reaches Temporal."""
    from operator_cli.choosing import choose_each, choose_one
    from operator_cli.connecting import connect
    from operator_cli.output import say
    from temporal import client as temporal_client

    async def work() -> int:
        client = await connect()
        if video is None:
            return await choose_each(client, pick, say)
        workflow_id = await temporal_client.resolve(client, video, temporal_client.Wanted.WAITING)
        await choose_one(client, workflow_id, pick, say)
        return 0

    if run(work):
        raise typer.Exit(1)


@app.command()
def stats(
    days: float = typer.Option(7, "--days", min=0.01, help="Count the videos of the last N days."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """How the videos went: published, failed (by reason), cancelled; who chose which rank and
    how often a thumbnail was changed after publishing; how long choosing and publishing took;
    YouTube quota units a day."""
    from operator_cli.connecting import connect
    from operator_cli.output import print_json, show
    from operator_cli.stats import stats_json, stats_lines
    from temporal.client.stats import video_stats

    async def work():
        return await video_stats(await connect(), days)

    found = run(work)
    print_json(stats_json(found)) if as_json else show(stats_lines(found))


@app.command()
def status(
    video: str = typer.Argument(
        None, help="One video in detail: a number from `pending`, a file name or an id."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The recent videos, their host and stage, or one video in detail."""
    from config import get_settings
    from operator_cli.connecting import connect
    from operator_cli.lines import utc_now
    from operator_cli.output import print_json, show
    from operator_cli.service import installed, service_line
    from operator_cli.videos import (
        detail_json,
        detail_lines,
        inbox_file_lines,
        inbox_json,
        recent_json,
        recent_lines,
    )
    from temporal import client as temporal_client
    from temporal.messages import InboxFile

    zone = get_settings().cafe_timezone

    async def one() -> temporal_client.VideoDetail | InboxFile:
        client = await connect()
        try:
            workflow_id = await temporal_client.resolve(client, video)
        except temporal_client.NoMatchError:  # a file that did not start is one too
            files = temporal_client.matching(await temporal_client.inbox_files(client), video)
            if not files:
                raise
            return files[0]
        return await temporal_client.describe_video(client, workflow_id)

    async def recent() -> list[temporal_client.WorkflowSummary]:
        return await temporal_client.recent_workflows(await connect())

    if video:
        detail = run(one)
        if isinstance(detail, InboxFile):
            print_json(inbox_json([detail])[0]) if as_json else show(inbox_file_lines(detail))
            return
        print_json(detail_json(detail)) if as_json else show(detail_lines(detail, zone))
        return
    summaries = run(recent)
    if as_json:
        print_json(recent_json(summaries))
        return
    show(recent_lines(summaries, zone, utc_now()))
    if service := installed(CHECKOUT, Path.home()):
        show([service_line(service)])
    if get_settings().video_watermark == "youtube":
        from operator_cli.output import say
        from operator_cli.watermark import watermark_line
        from youtube.watermark import load_record

        say(watermark_line(load_record(get_settings().youtube_token_file), zone))


@app.command()
def cancel(
    video: str = typer.Argument(..., help="A number from `pending`, a file name or an id."),
) -> None:
    """Cancel a video's workflow: it stops at its next step; the source video stays in place."""
    from operator_cli.connecting import connect
    from operator_cli.lines import Line
    from operator_cli.output import say
    from temporal import client as temporal_client

    async def work() -> str:
        client = await connect()
        workflow_id = await temporal_client.resolve(client, video)
        await temporal_client.cancel(client, workflow_id)
        return workflow_id

    say(Line(f"Cancellation requested for {run(work)}."))


@app.command()
def retry(
    video: str = typer.Argument(
        None,
        help="A video waiting for a person or the quota (or published without its playlist): "
        "the number `pending` prints, a file name or the start of a workflow id.",
    ),
    every: bool = typer.Option(False, "--all", help="Every video waiting for a retry."),
) -> None:
    """Run a waiting step again now (NEEDS_ATTENTION once fixed, or WAITING_FOR_QUOTA); for a
    video published without the playlist YouTube refused, its playlist step."""
    from cli_support import fail
    from operator_cli.connecting import connect
    from operator_cli.lines import Line
    from operator_cli.output import say
    from operator_cli.remedies import CLI
    from temporal import client as temporal_client
    from temporal.messages import COMPLETED

    if bool(video) == every:
        raise fail(f"Name one video (`{CLI} pending` lists them) or --all.")

    async def one() -> list[tuple[str, str]]:
        client = await connect()
        workflow_id = await temporal_client.resolve(client, video, temporal_client.Wanted.HELD)
        return [(workflow_id, await temporal_client.retry(client, workflow_id))]

    async def all_held() -> list[tuple[str, str]]:
        retried = await temporal_client.retry_held(await connect())
        return [(held.workflow_id, held.hold.video_stage) for held in retried]

    retried = run(all_held if every else one)
    for workflow_id, stage in retried:
        if stage == COMPLETED:  # published without the playlist YouTube refused
            say(Line(f"{workflow_id}: its playlist step runs again now (`{CLI} status` says how)."))
        else:
            say(Line(f"{workflow_id}: was {stage}; its step runs again now."))
    if not retried:
        say(Line("No video is waiting for a retry."))


@app.command()
def auth() -> None:
    """Authorize YouTube uploads on this machine (prints the consent URL; saves the token with
    mode 0600); the videos of this machine waiting for it go on."""
    from cli_support import fail
    from config import get_settings
    from errors import PipelineError, Remedy
    from operator_cli.lines import Line
    from operator_cli.output import say
    from operator_cli.remedies import CLI, error_line
    from remedies import token_rule_note
    from temporal import client as temporal_client
    from uploader import run_auth_flow, token_authorized_at

    try:
        run_auth_flow()
    except PipelineError as error:
        raise fail(error_line(error)) from None
    say(Line("Authorized."))
    if authorized_at := token_authorized_at():
        say(Line(token_rule_note(authorized_at, get_settings().cafe_timezone), "yellow"))
    if get_settings().video_watermark == "youtube":
        set_watermark_and_say()

    async def retry_waiting() -> None:
        try:
            client = await asyncio.wait_for(temporal_client.connect(), 10)
        except (RuntimeError, TimeoutError):
            say(
                Line(
                    "Temporal is not reachable now: the videos waiting for the token go on at "
                    f"their next retry, or with `{CLI} retry --all`."
                )
            )
            return
        host = get_settings().worker_name
        waiting = [v for v in await temporal_client.list_held(client) if v.hold.redo == Remedy.AUTH]
        here = [video for video in waiting if temporal_client.runs_on(video, host)]
        for video in await temporal_client.retry_videos(client, here):
            say(Line(f"{video.workflow_id} ({video.video_file}): goes on now."))
        for video in waiting:
            if video not in here:
                say(
                    Line(
                        f"{video.workflow_id} ({video.video_file}): waits for `{CLI} auth` on "
                        f"{video.host}, whose token it uploads with."
                    )
                )

    run(retry_waiting)


def set_watermark_and_say() -> None:
    from channel_watermark import set_channel_watermark
    from cli_support import fail
    from config import get_settings
    from errors import PipelineError
    from operator_cli.output import say
    from operator_cli.remedies import error_line
    from operator_cli.watermark import watermark_line

    try:
        record, just_set = set_channel_watermark()
    except PipelineError as error:
        raise fail(error_line(error)) from None
    say(watermark_line(record, get_settings().cafe_timezone, just_set))


@app.command()
def watermark() -> None:
    """Make the logo (LOGO_PATH) the channel's YouTube watermark, shown by YouTube's player on
    every video (VIDEO_WATERMARK=youtube; once per channel: again only for another logo)."""
    set_watermark_and_say()


@app.command()
def worker() -> None:
    """Run this machine's worker (WORKER_NAME): workflows of any machine, and the steps of the
    videos started here; and the INPUT_DIR watcher, unless WATCH_INTERVAL=0. Until Ctrl+C or
    SIGTERM (running activities get a few seconds to finish)."""
    from cli_support import make_folders
    from config import get_settings
    from operator_cli.connecting import connect
    from operator_cli.output import say
    from operator_cli.process import stop_on_signals
    from operator_cli.starting import log_start
    from operator_cli.up import polling_line
    from temporal.watcher import FolderWatcher
    from temporal.worker import run_worker

    settings = get_settings()
    require_only_worker(settings)
    make_folders()

    async def work() -> None:
        client = await connect()
        stop = asyncio.Event()
        stop_on_signals(stop)
        say(polling_line(settings))
        watching = settings.watch_interval_seconds > 0
        watcher = FolderWatcher(client, settings, report=log_start) if watching else None
        await run_worker(client, settings, stop, watcher)

    run(work)


@app.command()
def server() -> None:
    """Run the embedded Temporal dev server (SQLite in TEMPORAL_DATA_DIR) until Ctrl+C."""
    from cli_support import fail
    from config import get_settings
    from operator_cli.connecting import temporal_target
    from operator_cli.lines import Line
    from operator_cli.output import say
    from operator_cli.process import stop_on_signals
    from temporal import client as temporal_client
    from temporal.dev_server import embedded_server, is_serving, server_log, ui_address

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
            say(
                Line(f"Temporal at {address}; Web UI at {ui_address(settings, address, namespace)}")
            )
            say(Line(f"Its log: {server_log(settings)}. Ctrl+C to stop."))
            exited = asyncio.create_task(asyncio.to_thread(process.wait))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([exited, stopping], return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():
            raise fail(f"The Temporal dev server exited with code {process.returncode}.")
        say(Line("Temporal server stopped."))

    run(work)


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
    from cli_support import (
        input_videos,
        require_display_or_exit,
        require_known_template,
        require_upload_auth,
    )
    from config import get_settings
    from operator_cli.output import say
    from operator_cli.process import stop_on_signals
    from operator_cli.up import UpOptions, run_up
    from remedies import for_temporal

    settings = get_settings()
    require_only_worker(settings)
    input_videos()  # INPUT_DIR must be a folder
    if select_each and pick is None:
        require_display_or_exit()
    require_known_template()
    require_upload_auth("Nothing was started.", for_temporal)
    if with_web:
        require_safe_web(settings)
    chooser = (sys.executable, str(Path(__file__).resolve()), "select")
    options = UpOptions(pick, select_each, exit_when_done, with_web, chooser)

    async def work() -> int:
        stop = asyncio.Event()
        stop_on_signals(stop)
        return await run_up(settings, options, stop, say)

    if run(work):
        raise typer.Exit(1)


def require_only_worker(settings) -> None:
    """Stop (exit code 2) when a worker of this name already runs on this machine."""
    from cli_support import fail
    from operator_cli.single_worker import WorkerRunningError, hold_worker_lock

    try:
        hold_worker_lock(settings.temporal_task_queue, settings.worker_name)
    except WorkerRunningError as error:
        raise fail(str(error), 2) from None


def require_safe_web(settings) -> None:
    """Stop (exit code 2) before anything starts when the chooser would be open to others."""
    from cli_support import fail
    from web.auth import UnsafeAddressError, require_safe_address

    try:
        require_safe_address(settings.web_host, settings.web_password)
    except UnsafeAddressError as error:
        raise fail(str(error), 2) from None


@app.command()
def web() -> None:
    """Serve the web chooser on WEB_HOST:WEB_PORT (127.0.0.1:8280) until Ctrl+C."""
    from config import get_settings
    from operator_cli.connecting import connect
    from operator_cli.output import say
    from operator_cli.process import stop_on_signals
    from operator_cli.up import web_chooser

    settings = get_settings()
    require_safe_web(settings)

    async def work() -> None:
        client = await connect()
        stop = asyncio.Event()
        stop_on_signals(stop)
        await web_chooser(client, settings, stop, say)

    run(work)


service_app = typer.Typer(
    help="Run `up` as this user's service: at login, and again when it fails.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(service_app, name="service")
CHECKOUT = Path(__file__).resolve().parent


@service_app.command("install")
def service_install() -> None:
    """Write and enable a systemd user unit (Linux) or a launchd agent (macOS) that runs `up`
    in this folder at login, restarts it when it fails and appends its output to logs/cafe.log."""
    from cli_support import fail
    from operator_cli import service as services
    from operator_cli.lines import Line
    from operator_cli.output import say

    service = services.service_for(CHECKOUT, Path.home())
    services.write(service)
    say(Line(f"Wrote {service.file}."))
    problem = services.run_each(services.enable_commands(service))
    if problem:
        commands = " && ".join(" ".join(c) for c in services.enable_commands(service))
        raise fail(f"Not enabled ({problem}): run `{commands}` where the service manager runs.")
    say(Line(f"Enabled: `up` runs at login and again if it fails; its log: {service.log}", "green"))
    if service.kind == "systemd":
        say(Line("To start it at boot without a login too: `loginctl enable-linger $USER`."))


@service_app.command("remove")
def service_remove() -> None:
    """Stop and remove the service `service install` wrote; its log stays."""
    from operator_cli import service as services
    from operator_cli.lines import Line
    from operator_cli.output import say

    service = services.installed(CHECKOUT, Path.home())
    if service is None:
        say(Line("No service is installed for this folder: nothing to remove."))
        return
    problem = services.run_each(services.disable_commands(service))
    service.file.unlink()
    services.run_each(services.forget_commands(service))
    said = f" (the service manager said: {problem})" if problem else ""
    say(Line(f"Removed {service.file}{said}; the log stays at {service.log}."))


def main() -> None:
    from remedies import CAFE

    run_then_exit(lambda: app(prog_name=CAFE))


if __name__ == "__main__":
    main()
