"""The CLI process itself: stopping on Ctrl+C and SIGTERM, and leaving without the
interpreter's shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable


def stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl+C and SIGTERM set `stop`. Where the event loop cannot watch signals (Windows), a
    plain signal handler hands them to the loop instead."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except NotImplementedError:
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))


def run_then_exit(app: Callable[[], object]) -> None:
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
