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
import notify
from config import Settings
from errors import PipelineError
from temporal.client.inbox import inbox_of, send_inbox
from temporal.client.start import StartOutcome, start_video
from temporal.messages import FILE_REFUSED, FILE_WAITING, InboxFile

log = logging.getLogger(__name__)


async def ingest_file(
    client: Client,
    video: Path,
    settings: Settings,
    retry_failed: bool = False,
    rechoose: bool = False,
) -> StartOutcome:
    """Check `video` (its name, then settled, then a readable video) and start its workflow; a
    file still being copied waits, a bad file is refused with what is wrong and how to fix it,
    and nothing starts."""
    settle = settings.ingest_settle_seconds
    try:
        ingest.check_name(video)  # a wrong name is refused at once, settled or not
        if waiting := ingest.still_being_copied(video, settle):  # not refused as cut off
            return StartOutcome(video.name, f"waiting: {waiting}")
        incoming = await asyncio.to_thread(ingest.examine, video)
        waiting = ingest.still_being_copied(video, settle)
    except ingest.ChangedWhileReadError:
        waiting = ingest.still_copying(settle, None)
        return StartOutcome(video.name, f"waiting: {waiting}")
    except PipelineError as error:
        return StartOutcome(video.name, f"skipped: {ingest.refusal(video, error)}", refused=True)
    except FileNotFoundError:  # removed or moved away since it was seen
        return StartOutcome(video.name, "skipped: it is gone (moved away meanwhile)")
    except OSError as error:
        reason = f"skipped: cannot read it ({error.strerror}); let this user read it"
        return StartOutcome(video.name, reason, refused=True)
    if waiting:  # it changed since it was seen settled, even if it was read whole
        return StartOutcome(video.name, f"waiting: {waiting}")
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
        self._inbox: dict[Path, InboxFile] = {}  # the files that did not start, as they are
        self._sent: list[InboxFile] | None = None  # what this host's inbox holds
        self._notified: set[tuple[str, str]] = set()  # (path, problem) told to the people

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
        for bad in scan.refused_names:  # at once: no copy makes a wrong name right
            outcome = StartOutcome(bad.path.name, f"skipped: {bad.reason}", refused=True)
            self._note(bad.path, outcome)
            self._report(outcome)
        for skipped in scan.newly_settling:
            self._report(StartOutcome(skipped.path.name, f"waiting: {skipped.reason}"))
            self._inbox[skipped.path] = self._inbox_file(skipped.path, FILE_WAITING, skipped.reason)
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
            self._note(video, outcome)
            self._report(outcome)
        await self._send_inbox()

    def _inbox_file(self, path: Path, kind: str, problem: str) -> InboxFile:
        return InboxFile(path.name, self._settings.worker_name, kind, problem, str(path))

    def _note(self, video: Path, outcome: StartOutcome) -> None:
        """Keep in the inbox a file that did not start, with why; drop one that did."""
        problem = outcome.message.removeprefix("skipped: ").removeprefix("waiting: ")
        if outcome.refused:
            self._inbox[video] = self._inbox_file(video, FILE_REFUSED, problem)
        elif outcome.second_copy:
            problem = f"{problem}: this copy is not needed, remove it"
            self._inbox[video] = self._inbox_file(video, FILE_REFUSED, problem)
        elif outcome.message.startswith("waiting: "):
            self._inbox[video] = self._inbox_file(video, FILE_WAITING, problem)
        else:
            self._inbox.pop(video, None)

    async def _send_inbox(self) -> None:
        """Tell this host's inbox what did not start when that changed (a file fixed, renamed
        or removed leaves it), and the people once of each file refused."""
        for path in [path for path in self._inbox if not path.is_file()]:
            del self._inbox[path]
        files = list(self._inbox.values())
        queue, host = self._settings.temporal_task_queue, self._settings.worker_name
        try:
            if self._sent is None:  # a watcher started again: what it told already stays told
                earlier = await inbox_of(self._client, queue, host)
                self._notified |= {(file.path, file.problem) for file in earlier}
            if files != self._sent:
                await send_inbox(self._client, queue, host, files)
                self._sent = files
        except (RPCError, RuntimeError) as error:
            self._log_problem(f"cannot list the files that did not start now ({error})")
            return
        refused = [file for file in files if file.kind == FILE_REFUSED]
        new = [file for file in refused if (file.path, file.problem) not in self._notified]
        if new and self._settings.notify_urls:
            message = notify.refused_message(new, notify.chooser_link(self._settings))
            await asyncio.to_thread(notify.send, message, self._settings.notify_urls)
        self._notified |= {(file.path, file.problem) for file in new}

    def _log_problem(self, problem: str) -> None:
        if problem != self._problem:
            log.warning("%s", problem)
            self._problem = problem
