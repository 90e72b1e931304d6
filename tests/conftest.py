from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
