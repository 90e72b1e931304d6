"""Which Temporal the CLI talks to, and reaching it (one clear line when it cannot)."""

from __future__ import annotations

from temporalio.client import Client

from cli_support import fail
from operator_cli.remedies import CLI
from temporal import client as temporal_client
from temporal.dev_server import NAMESPACE


def temporal_target() -> tuple[str, str]:
    """The address and namespace this machine's settings connect to (TEMPORAL_* variables)."""
    config = temporal_client.connect_config()
    return config["target_host"], config.get("namespace") or NAMESPACE


async def connect() -> Client:
    """The client, or exit code 2 with how to reach a server."""
    address = temporal_client.connect_config()["target_host"]
    try:
        return await temporal_client.connect()
    except RuntimeError:  # the SDK's connection error
        raise fail(
            f"Cannot reach Temporal at {address}: start it with `{CLI} server` (or `up`), or "
            "set TEMPORAL_ADDRESS.",
            2,
        ) from None
