"""Reaching Temporal with its standard environment configuration (`TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`, `TEMPORAL_PROFILE` and the profile
file), so a self-hosted cluster or Temporal Cloud works by setting the usual variables."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.envconfig import ClientConfig

from config import temporal_environment
from temporal.client.errors import OperatorError

DEFAULT_ADDRESS = "localhost:7233"


def connect_config() -> dict:
    """Temporal's standard environment configuration (TEMPORAL_* variables of the environment or
    the `.env` file, profile file)."""
    try:
        environment = temporal_environment()
        config = dict(ClientConfig.load_client_connect_config(override_env_vars=environment))
    except RuntimeError as error:  # the SDK's ConfigError: a missing profile, a bad file
        raise OperatorError(
            f"Temporal client configuration: {error}; fix TEMPORAL_PROFILE or the profile "
            "file (TEMPORAL_CONFIG_FILE)."
        ) from None
    config.setdefault("target_host", DEFAULT_ADDRESS)
    return config


async def connect() -> Client:
    return await Client.connect(**connect_config())
