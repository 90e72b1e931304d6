"""Taking videos as they arrive: each file of INPUT_DIR becomes a workflow once it has settled.

`ingest_file` checks one file (name, readable video, content fingerprint) and starts its
workflow through `temporal.client`; `start` runs it once per file, `FolderWatcher` at every scan
for the files that settled since. Every outcome is reported once per file content: a refused file
is not refused again at every scan, an unreachable server is logged once until it answers again.
Several watchers (on several hosts) may watch one folder: the workflow id, from the content,
settles who starts a video. New content at the path of a running video (a copy that went on
after it was started, a file copied over) supersedes that run unless it began publishing
(`temporal.client.start_video`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError

import ingest
from config import Settings
from errors import PipelineError
from temporal.client.start import StartOutcome, start_video

log = logging.getLogger(__name__)


async def ingest_file(
    client: Client,
    video: Path,
    settings: Settings,
    retry_failed: bool = False,
    rechoose: bool = False,
) -> StartOutcome:
    """Check `video` (settled, then its name, then a readable video) and start its workflow; a
    file still being copied waits, a bad file is refused with what is wrong and how to fix it,
    and nothing starts."""
    settle = settings.ingest_settle_seconds
    try:
        if waiting := ingest.still_being_copied(video, settle):  # not refused as cut off
            return StartOutcome(video.name, f"skipped: {waiting}")
        incoming = await asyncio.to_thread(ingest.examine, video)
        waiting = ingest.still_being_copied(video, settle)
    except ingest.ChangedWhileReadError:
        waiting = ingest.still_copying(settle, None)
        return StartOutcome(video.name, f"skipped: {waiting}")
    except PipelineError as error:
        return StartOutcome(video.name, f"skipped: {ingest.refusal(video, error)}", refused=True)
    except FileNotFoundError:  # removed or moved away since it was seen
        return StartOutcome(video.name, "skipped: it is gone (moved away meanwhile)")
    except OSError as error:
        reason = f"skipped: cannot read it ({error.strerror}); let this user read it"
        return StartOutcome(video.name, reason, refused=True)
    if waiting:  # it changed since it was seen settled, even if it was read whole
        return StartOutcome(video.name, f"skipped: {waiting}")
    return await start_video(
        client,
        video,
        settings,
        retry_failed,
        rechoose,
        fingerprint=incoming.fingerprint,
        summary=incoming.summary,
    )


def log_outcome(outcome: StartOutcome) -> None:
    level = logging.WARNING if outcome.refused else logging.INFO
    where = f" ({outcome.workflow_id})" if outcome.workflow_id else ""
    log.log(level, "%s: %s%s", outcome.video, outcome.message, where)


class FolderWatcher:
    """Scans INPUT_DIR every WATCH_INTERVAL seconds and starts what settled since."""

    def __init__(
        self,
        client: Client,
        settings: Settings,
        report: Callable[[StartOutcome], None] = log_outcome,
    ):
        self._client = client
        self._settings = settings
        self._report = report
        self._tracker = ingest.FolderTracker(settings.ingest_settle_seconds)
        self._problem = ""  # the last problem logged, so it is logged once
        self.workflow_ids: list[str] = []  # of every file seen, started here or before
        self.settling: list[Path] = []  # files still being copied at the last scan

    async def run(self, stop: asyncio.Event) -> None:
        log.info(
            "watching %s every %g s (a file starts once unchanged for %g s)",
            self._settings.input_dir,
            self._settings.watch_interval_seconds,
            self._settings.ingest_settle_seconds,
        )
        while not stop.is_set():
            await self.scan_once()
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._settings.watch_interval_seconds)

    async def scan_once(self) -> None:
        folder = self._settings.input_dir
        try:
            scan = await asyncio.to_thread(self._tracker.scan, folder)
        except OSError as error:
            self._log_problem(f"cannot read INPUT_DIR {folder} ({error.strerror}); still watching")
            return
        self.settling = scan.settling
        for skipped in scan.newly_settling:
            self._report(StartOutcome(skipped.path.name, f"skipped: {skipped.reason}"))
        for video in scan.ready:
            try:
                outcome = await ingest_file(self._client, video, self._settings)
            except (RPCError, RuntimeError) as error:  # the server is away: try at next scan
                self._log_problem(f"cannot start videos now ({error}); trying again")
                return
            except Exception:  # a bug must not stop the watching of the other files
                log.exception("%s: could not be started", video.name)
                self._tracker.mark_handled([video])
                continue
            self._problem = ""
            self._tracker.mark_handled([video])
            if outcome.workflow_id and outcome.workflow_id not in self.workflow_ids:
                self.workflow_ids.append(outcome.workflow_id)
            for replaced in outcome.superseded:  # its content is gone: the new one counts
                if replaced in self.workflow_ids:
                    self.workflow_ids.remove(replaced)
            self._report(outcome)

    def _log_problem(self, problem: str) -> None:
        if problem != self._problem:
            log.warning("%s", problem)
            self._problem = problem
