from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

import config


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every directory setting into tmp_path and reload settings; yields tmp_path.

    Tests change more settings with `monkeypatch.setenv(...)` followed by
    `config.get_settings.cache_clear()`.
    """
    monkeypatch.chdir(tmp_path)
    for name, sub in {
        "INPUT_DIR": "videos",
        "WORKSPACE_DIR": "workspace",
        "COMPLETED_DIR": "completed",
        "PUBLISH_DIR": "published",
        "TEMPORAL_DATA_DIR": "temporal-data",
    }.items():
        monkeypatch.setenv(name, str(tmp_path / sub))
    (tmp_path / "videos").mkdir()
    monkeypatch.delenv("APP_ENV", raising=False)
    config.get_settings.cache_clear()
    yield tmp_path
    config.get_settings.cache_clear()


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder for encoded clips that several tests copy."""
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    # imported here: the stage tests need not load the Temporal layer
    from temporal.dev_server import temporal_binary
    from temporal.workflows import VIDEO_STAGE

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=[VIDEO_STAGE],
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
def pipeline_env(env: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Settings for one test: its own task queue; returns a setter for more settings."""
    monkeypatch.setenv("TEMPORAL_TASK_QUEUE", f"videos-{uuid.uuid4().hex[:8]}")

    def setenv(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        config.get_settings.cache_clear()

    setenv()
    return setenv
