"""`up`, one machine and one command: the embedded Temporal server when none answers, a worker,
the folder watcher starting every video as it arrives, the web chooser (with `--web`), and what
happens to each video said as it happens; a choice by rank or in a window (`--pick`,
`--select`) as each video becomes ready. `run_up` composes them until `stop` is set or, with
`exit_when_done`, every video it started has ended."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus

from config import Settings
from operator_cli.choosing import choose_or_say_why
from operator_cli.connecting import connect, temporal_target
from operator_cli.events import event_line, outcome_lines, still_wait_line
from operator_cli.lines import Line
from operator_cli.starting import start_line
from temporal import client as temporal_client
from temporal import feed
from temporal.dev_server import embedded_server, is_serving, ui_address
from temporal.messages import CHOSEN, WAITING, VideoEvent, host_task_queue
from temporal.watcher import FolderWatcher

Say = Callable[[Line], None]
COMPLETED = WorkflowExecutionStatus.COMPLETED


@dataclass(frozen=True)
class UpOptions:
    pick: int | None = None  # choose rank N for each video as it becomes ready
    select_each: bool = False  # open the chooser window for each (in a process of its own)
    exit_when_done: bool = False  # stop once every video started has ended
    with_web: bool = False  # serve the web chooser too
    chooser_command: tuple[str, ...] = ()  # `select`, run with a workflow id, for `select_each`


def polling_line(settings: Settings) -> Line:
    own = host_task_queue(settings.temporal_task_queue, settings.worker_name)
    return Line(
        f"Worker {settings.worker_name} polling {settings.temporal_task_queue} and {own}; "
        "Ctrl+C to stop."
    )


async def web_chooser(client: Client, settings: Settings, stop: asyncio.Event, say: Say) -> None:
    from web.server import serve_chooser  # the web's own dependencies, only when it serves

    await serve_chooser(client, settings, stop, lambda text: say(Line(text)))


class _Session:
    """The running parts of `up`, and what it does as each video moves on."""

    def __init__(
        self, client: Client, settings: Settings, options: UpOptions, stop: asyncio.Event, say: Say
    ):
        self.client = client
        self.settings = settings
        self.options = options
        self.stop = stop
        self.say = say
        self.watching = settings.watch_interval_seconds > 0
        self.watcher = FolderWatcher(client, settings, report=lambda o: say(start_line(o)))
        self.chosen_here: set[str] = set()  # the videos chosen by this `up`, which said so
        self.tasks: list[asyncio.Task] = []

    def start_tasks(self) -> None:
        from temporal.worker import run_worker  # the stages and their decoders

        watcher = self.watcher if self.watching else None
        self.tasks.append(
            asyncio.create_task(run_worker(self.client, self.settings, self.stop, watcher))
        )
        if self.options.with_web:
            self.tasks.append(
                asyncio.create_task(web_chooser(self.client, self.settings, self.stop, self.say))
            )

    async def report(self, event: VideoEvent) -> None:
        if event.kind == CHOSEN and event.workflow_id in self.chosen_here:
            return  # the chooser said it already
        self.say(event_line(event, self.settings.cafe_timezone))
        if event.kind == WAITING and (self.options.select_each or self.options.pick is not None):
            self.chosen_here.add(event.workflow_id)
            await self.choose(event.workflow_id)

    async def choose(self, workflow_id: str) -> None:
        """`--pick N` chooses here; `--select` opens the chooser in a process of its own, so
        that the window never holds up the worker."""
        if self.options.pick is not None:
            await choose_or_say_why(self.client, workflow_id, self.options.pick, self.say)
            return
        chooser = await asyncio.create_subprocess_exec(*self.options.chooser_command, workflow_id)
        await chooser.wait()

    async def until(self) -> bool:
        if any(task.done() for task in self.tasks):
            return True  # one failed: its error ends `up`, when it is awaited
        if not self.options.exit_when_done or (self.watching and self.watcher.settling):
            return False
        return await temporal_client.all_done(self.client, self.watcher.workflow_ids)

    async def stop_tasks(self) -> None:
        self.stop.set()
        for task in self.tasks:
            await task


async def _serve_or_use(stack: AsyncExitStack, settings: Settings, say: Say) -> Line:
    """The embedded server, unless one answers already; the line saying where it is."""
    address, namespace = temporal_target()
    if await is_serving(temporal_client.connect_config()):
        # another server: its Web UI is wherever its owner serves it
        return Line(f"Temporal server at {address}, namespace {namespace}")
    await stack.enter_async_context(embedded_server(settings, address, namespace))
    say(Line(f"Embedded Temporal server at {address}"))
    return Line(f"Web UI: {ui_address(settings, address, namespace)}")


async def run_up(settings: Settings, options: UpOptions, stop: asyncio.Event, say: Say) -> int:
    """Until `stop` is set, or (with `exit_when_done`) every video started here has ended;
    returns how many of those did not complete (0 when stopped)."""
    from temporal.worker import ensure_search_attributes

    async with AsyncExitStack() as server:
        server_line = await _serve_or_use(server, settings, say)
        client = await connect()
        await ensure_search_attributes(client)
        session = _Session(client, settings, options, stop, say)
        await session.watcher.scan_once()
        session.start_tasks()
        try:
            say(server_line)
            say(polling_line(settings))
            if session.watching:
                say(Line(f"Watching {settings.input_dir} for new videos."))
            videos = feed.VideoFeed(client)
            done = await feed.follow(videos, session.report, stop, session.until)
        finally:
            await session.stop_tasks()
        if done and options.exit_when_done:
            ended = await temporal_client.outcomes(client, session.watcher.workflow_ids)
            for line in outcome_lines(ended):
                say(line)
            return sum(1 for outcome in ended if outcome.execution_status != COMPLETED)
        say(still_wait_line(await temporal_client.count_in_progress(client)))
        return 0
