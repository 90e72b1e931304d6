"""One worker of a name on a machine: a second `worker` or `up` of the same WORKER_NAME (and
task queue) would share its queue and run this machine's steps twice as often, unseen. The
first holds a lock file for as long as it runs (the system frees it when the process ends, even
killed); the second is refused in one line. POSIX locks (`fcntl.flock`): Linux and macOS; on
Windows no lock is taken."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import IO

_held: list[IO[str]] = []  # the lock files of this process, open until it ends


class WorkerRunningError(Exception):
    pass


def lock_path(task_queue: str, worker_name: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9._@-]", "_", f"{task_queue}@{worker_name}")
    return Path(tempfile.gettempdir()) / "cafe-uploader-workers" / f"{name}.lock"


def hold_worker_lock(task_queue: str, worker_name: str) -> None:
    """Take this machine's lock of the worker `worker_name`, or raise WorkerRunningError."""
    try:
        import fcntl
    except ImportError:  # Windows: no POSIX locks (not tried there)
        return
    path = lock_path(task_queue, worker_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        handle.close()
        raise WorkerRunningError(
            f"A worker named {worker_name} already runs on this machine (process {pid}): stop "
            "it first, or give this one another WORKER_NAME."
        ) from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    _held.append(handle)
