"""`start`: a workflow for each named file (or every video of INPUT_DIR) that has settled and
passes its checks, run on this machine's worker; what became of each, said as it happens."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from temporalio.client import Client

from config import Settings
from operator_cli.lines import Line
from operator_cli.remedies import START_WORKER, start_text
from temporal import client as temporal_client
from temporal.client import StartOutcome
from temporal.watcher import ingest_file

Say = Callable[[Line], None]
log = logging.getLogger(__name__)


def start_line(outcome: StartOutcome) -> Line:
    style = "green" if outcome.started else "red" if outcome.refused else "yellow"
    return Line(start_text(outcome), style)


def not_startable(video: Path, settings: Settings) -> StartOutcome | None:
    """Why `start` cannot take this path (a folder, no such file), or None when it is a file."""
    if video.is_dir():
        return StartOutcome(
            str(video),
            "skipped: it is a folder; name the videos in it (`start FOLDER/*.mp4`), or name "
            "none for every video in INPUT_DIR",
            refused=True,
        )
    if not video.is_file():
        return StartOutcome(
            str(video),
            f"skipped: no such file on this machine ({settings.worker_name}); check the "
            "path, or run `start` on the machine that holds it",
            refused=True,
        )
    return None


async def start_videos(
    client: Client,
    videos: list[Path],
    settings: Settings,
    say: Say,
    retry_failed: bool = False,
    rechoose: bool = False,
) -> list[StartOutcome]:
    """Start a workflow for each video that has settled and passes its checks, saying what
    happened to each; and whether this machine's worker runs to take them."""
    outcomes = []
    for video in videos:
        outcome = not_startable(video, settings)
        if outcome is None:
            outcome = await ingest_file(client, video, settings, retry_failed, rechoose)
        say(start_line(outcome))
        outcomes.append(outcome)
    if any(outcome.started for outcome in outcomes):
        host = await temporal_client.host_state(
            client, settings.temporal_task_queue, settings.worker_name
        )
        if host.running is False:
            say(
                Line(
                    f"No worker named {host.name} is running: these videos wait until "
                    f"{START_WORKER} runs on this machine.",
                    "yellow",
                )
            )
    return outcomes


def log_start(outcome: StartOutcome) -> None:
    """What the worker's log says of a file its watcher took."""
    log.log(logging.WARNING if outcome.refused else logging.INFO, "%s", start_text(outcome))
