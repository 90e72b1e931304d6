from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

import config
from tests.fake_youtube import FakeYouTube
from tests.upload_support import use_youtube


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every directory setting into tmp_path and reload settings; yields tmp_path.

    Tests change more settings with `monkeypatch.setenv(...)` followed by
    `config.get_settings.cache_clear()`. Files start as soon as they are there, and no worker
    watches INPUT_DIR, unless a test sets INGEST_SETTLE and WATCH_INTERVAL.
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
    monkeypatch.setenv("INGEST_SETTLE", "0")
    monkeypatch.setenv("WATCH_INTERVAL", "0")
    (tmp_path / "videos").mkdir()
    monkeypatch.delenv("APP_ENV", raising=False)
    config.get_settings.cache_clear()
    yield tmp_path
    config.get_settings.cache_clear()


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder for encoded clips that several tests copy."""
    return tmp_path_factory.mktemp("clips")


async def start_dev_server(**options) -> WorkflowEnvironment:
    """A real dev server with the embedded server's search attributes and payload limit."""
    # imported here: the stage tests need not load the Temporal layer
    from temporal.dev_server import dynamic_config_args, temporal_binary
    from temporal.messages import SEARCH_ATTRIBUTES

    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        dev_server_extra_args=dynamic_config_args(),  # the embedded server's payload limit
        **options,
    )


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture
async def own_temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server for one test: no video another test left waiting shows in it (for what
    lists or walks every waiting video)."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture
def pipeline_env(env: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Settings for one test: its own task queue; returns a setter for more settings. The
    video is published as it is (VIDEO_TITLES=off) unless the test asks for the titles
    (tests/test_temporal_branding.py)."""
    monkeypatch.setenv("TEMPORAL_TASK_QUEUE", f"videos-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("VIDEO_TITLES", "off")

    def setenv(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        config.get_settings.cache_clear()

    setenv()
    return setenv


@dataclass
class SmallDisk:
    """A small tmpfs mounted for one test: a disk that fills up for real."""

    path: Path

    def fill(self) -> None:
        """Take all the space left with a filler file."""
        with (self.path / "filler.bin").open("wb", buffering=0) as handle, suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)

    def free(self) -> None:
        (self.path / "filler.bin").unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str, int], SmallDisk]]:
    """Mount a small tmpfs at tmp_path/<name>; needs root (CI runs as root) and Linux."""
    mounted: list[Path] = []

    def mount(name: str, size_kib: int) -> SmallDisk:
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            pytest.skip(reason="mounting a small tmpfs (a disk that fills up) needs Linux and root")
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(reason=f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return SmallDisk(point)

    yield mount
    for point in mounted:
        subprocess.run(["umount", "--lazy", str(point)], check=False)


@pytest.fixture
def fake() -> Iterator[FakeYouTube]:
    """The fake YouTube server, running."""
    with FakeYouTube() as server:
        yield server


@pytest.fixture
def youtube(env: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeYouTube) -> FakeYouTube:
    """The fake YouTube server, with this test's pipeline uploading to it."""
    use_youtube(env, monkeypatch, fake)
    return fake
