"""Settings: defaults, .env and .env.production, the environment winning, every problem reported
at once, nothing happening at import, durations."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import config
from config import ConfigError, Settings, get_settings, load_settings, parse_duration

REPO = Path(__file__).resolve().parent.parent
SETTING_VARIABLES = [variable for variable, _, _ in config._SPEC.values()]


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No setting in the environment, an empty working folder; yields that folder."""
    for variable in [*SETTING_VARIABLES, "APP_ENV"]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    config.get_settings.cache_clear()
    yield tmp_path
    config.get_settings.cache_clear()


def reload() -> Settings:
    get_settings.cache_clear()
    return get_settings()


def test_defaults_are_the_documented_ones(clean_env: Path) -> None:
    settings = reload()

    assert settings.input_dir == Path("videos")
    assert settings.workspace_dir == Path("workspace")
    assert settings.completed_dir == Path("completed")
    assert settings.candidate_thumbnail_num == 30
    assert settings.top_ranked_candidates_num == 6
    assert settings.video_privacy_status == "private"
    assert settings.google_client_secrets == Path("client_secrets.json")
    assert settings.upload_target == "local"
    assert settings.selection_timeout_seconds is None
    assert settings.logo_path is None
    assert settings.log_level == "INFO"


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [variable for variable in SETTING_VARIABLES if f"| `{variable}` |" not in readme]
    assert not missing, f"README's configuration table lacks {missing}"


def test_dot_env_file_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text(
        'INPUT_DIR="/srv/cafe/match videos"\n'
        "TOP_RANKED_CANDIDATES_NUM=4\n"
        "# the café's camera folder\n"
        "CANDIDATE_THUMBNAIL_NUM = 50\n"
        "LOGO_PATH=\n"
    )

    settings = reload()

    assert settings.input_dir == Path("/srv/cafe/match videos")
    assert settings.top_ranked_candidates_num == 4
    assert settings.candidate_thumbnail_num == 50
    assert settings.logo_path is None


def test_app_env_production_reads_dot_env_production_instead(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text("VIDEO_PRIVACY_STATUS=unlisted\nTOP_RANKED_CANDIDATES_NUM=2\n")
    (clean_env / ".env.production").write_text("VIDEO_PRIVACY_STATUS=public\n")
    monkeypatch.setenv("APP_ENV", "production")

    settings = reload()

    assert settings.video_privacy_status == "public"
    assert settings.top_ranked_candidates_num == 6, ".env must not be read in production"


def test_app_env_naming_a_missing_file_is_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ENV", "production")

    with pytest.raises(ConfigError, match=r"\.env\.production, which does not exist"):
        reload()


def test_an_env_file_that_is_not_utf8_is_one_clear_message(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_bytes("INPUT_DIR=/srv/Hà Nam\n".encode("cp1258"))

    with pytest.raises(ConfigError, match=r"\.env is not UTF-8 text: save it again as UTF-8"):
        reload()


def test_environment_wins_over_the_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text(
        "VIDEO_PRIVACY_STATUS=public\nCANDIDATE_THUMBNAIL_NUM=not a number\n"
    )
    monkeypatch.setenv("VIDEO_PRIVACY_STATUS", "unlisted")
    monkeypatch.setenv("CANDIDATE_THUMBNAIL_NUM", "12")

    settings = reload()

    assert settings.video_privacy_status == "unlisted"
    assert settings.candidate_thumbnail_num == 12


def test_choices_ignore_case(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEO_PRIVACY_STATUS", "Unlisted")
    monkeypatch.setenv("LOG_LEVEL", "debug")

    settings = reload()

    assert (settings.video_privacy_status, settings.log_level) == ("unlisted", "DEBUG")


def test_every_invalid_value_is_reported_at_once(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env.production").write_text("LOG_LEVEL=LOUD\n")
    monkeypatch.setenv("APP_ENV", "production")
    bad = {
        "CANDIDATE_THUMBNAIL_NUM": ("lots", "expected a whole number from 1 to 500"),
        "TOP_RANKED_CANDIDATES_NUM": ("12", "expected a whole number from 1 to 9"),
        "VIDEO_PRIVACY_STATUS": ("secret", "expected one of: private, unlisted, public"),
        "SELECTION_TIMEOUT": ("soon", "expected a duration like 48h, 30m, 90s or 1h30m"),
        "YOUTUBE_API_ROOT": ("ftp://example.org", "expected an http:// or https:// address"),
        "INPUT_DIR": ("  ", "expected a path"),
    }
    for variable, (value, _) in bad.items():
        monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as raised:
        reload()

    message = str(raised.value)
    assert ".env.production" in message, "the message must say where to fix it"
    for variable, (value, expected) in {**bad, "LOG_LEVEL": ("LOUD", "expected one of")}.items():
        line = next((line for line in message.splitlines() if f"{variable}=" in line), "")
        assert f"{variable}={value!r}" in line and expected in line, f"{variable} in {message}"


IMPORT_EVERY_MODULE = """
import config, errors, workspace, video_prep, thumbnail_ranking, sample_clips, main
import ingest, uploader, cleanup, thumbnail_selector, thumbnail_enhancement
"""


def test_importing_creates_nothing_prints_nothing_and_reads_no_settings(tmp_path: Path) -> None:
    # invalid settings everywhere: any reading of them at import would fail loudly
    (tmp_path / ".env").write_text("TOP_RANKED_CANDIDATES_NUM=many\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "INPUT_DIR": str(tmp_path / "in"),
        "WORKSPACE_DIR": str(tmp_path / "ws"),
        "COMPLETED_DIR": str(tmp_path / "done"),
        "PUBLISH_DIR": str(tmp_path / "pub"),
        "TEMPORAL_DATA_DIR": str(tmp_path / "temporal"),
        "CANDIDATE_THUMBNAIL_NUM": "zero",
    }

    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert sorted(path.name for path in tmp_path.iterdir()) == [".env"]


def test_settings_are_read_on_first_use_and_kept(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOP_RANKED_CANDIDATES_NUM", "3")
    first = reload()
    monkeypatch.setenv("TOP_RANKED_CANDIDATES_NUM", "5")

    assert get_settings() is first
    assert reload().top_ranked_candidates_num == 5


def test_paths_expand_the_home_folder(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(clean_env))
    monkeypatch.setenv("INPUT_DIR", "~/camera")

    assert reload().input_dir == clean_env / "camera"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("48h", 48 * 3600),
        ("30m", 1800),
        ("90s", 90),
        ("2d", 2 * 86400),
        ("1h30m", 5400),
        ("1d2h3m4s", 86400 + 7200 + 180 + 4),
        ("1.5h", 5400),
        (" 2H ", 7200),
        ("", None),
        ("   ", None),
    ],
)
def test_duration_parsing(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "30", "h", "-5m", "1m1h", "0s", "0h0m", "5 m", "2w"])
def test_invalid_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration like 48h|longer than zero"):
        parse_duration(text)


def test_selection_timeout_setting_is_a_duration(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELECTION_TIMEOUT", "1h30m")

    assert reload().selection_timeout_seconds == 5400


def test_load_settings_takes_an_explicit_environment_and_file(tmp_path: Path) -> None:
    env_file = tmp_path / "cafe.env"
    env_file.write_text("UPLOAD_TARGET=youtube\n")

    settings = load_settings({"UPLOAD_CHUNK_MB": "8"}, env_file)

    assert (settings.upload_target, settings.upload_chunk_mb) == ("youtube", 8)


def test_cafe_timezone_is_an_iana_zone_defaulting_to_the_machines(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    assert str(reload().cafe_timezone) == "America/Los_Angeles"

    monkeypatch.setenv("CAFE_TIMEZONE", "Asia/Ho_Chi_Minh")
    assert str(reload().cafe_timezone) == "Asia/Ho_Chi_Minh"

    monkeypatch.setenv("CAFE_TIMEZONE", "Saigon")
    with pytest.raises(ConfigError) as refused:
        reload()
    assert "CAFE_TIMEZONE='Saigon'" in str(refused.value)
    assert "Asia/Ho_Chi_Minh" in str(refused.value)


def test_a_path_with_an_unknown_user_is_one_line(clean_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("INPUT_DIR", "~nosuchuser-here/videos")
    with pytest.raises(ConfigError) as refused:
        reload()
    assert "INPUT_DIR='~nosuchuser-here/videos': its ~ names no user" in str(refused.value)
