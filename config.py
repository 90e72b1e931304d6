"""Every setting of the pipeline, read from the environment and an optional `.env` file.

`APP_ENV=production` reads `.env.production` instead of `.env`. Variables already in the
environment win over the file. Nothing happens at import: settings are loaded (and validated,
all problems reported at once) on the first call to `get_settings()`.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from formats.cleaning import clean_text
from formats.publish_at import check_publish_at
from formats.templates import check_line_template, read_description_template
from formats.youtube_fields import PRIVACY_STATUSES, check_language

UPLOAD_TARGETS = ("local", "youtube")
CLEANUP_MODES = ("move", "keep")
TIMEOUT_ACTIONS = ("autopick", "fail")
CHOICE_MODES = ("wait", "auto")
SECONDS_A_DAY = 86400
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
WATERMARK_MODES = ("off", "burn", "youtube")
OUTRO_TEXT_MAX_CHARS = 60


class ConfigError(Exception):
    """One or more settings are invalid; the message lists each with how to fix it."""


@dataclass(frozen=True)
class Settings:
    input_dir: Path
    workspace_dir: Path
    completed_dir: Path
    publish_dir: Path
    candidate_thumbnail_num: int
    top_ranked_candidates_num: int
    thumbnail_template: str
    logo_path: Path | None
    video_privacy_status: str
    upload_target: str
    upload_chunk_mb: int
    google_client_secrets: Path
    youtube_token_file: Path
    youtube_api_root: str | None
    youtube_auth_port: int
    cleanup_mode: str
    temporal_task_queue: str
    max_concurrent_activities: int
    selection_timeout_seconds: float | None
    selection_timeout_action: str
    temporal_data_dir: Path
    temporal_ui_port: int
    log_level: str
    cafe_timezone: tzinfo
    youtube_playlist: str
    description_template: str
    publish_at: str | None
    video_language: str | None
    made_for_kids: bool
    web_host: str
    web_port: int
    web_password: str | None
    web_public_url: str | None
    notify_urls: tuple[str, ...]
    watch_interval_seconds: float
    ingest_settle_seconds: float
    attention_retry_seconds: float
    notify_waiting_interval_seconds: float
    worker_name: str
    video_titles: bool
    video_title_seconds: float
    video_outro_text: str
    video_watermark: str
    choice_mode: str
    rechoose_seconds: float


def parse_duration(text: str) -> float | None:
    """`48h`, `30m`, `90s`, `2d`, `1h30m` -> seconds; empty -> None (wait forever)."""
    text = text.strip().lower()
    if not text:
        return None
    parts = re.fullmatch(
        r"(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?"
        r"(?:(\d+(?:\.\d+)?)s)?",
        text,
    )
    if not parts or not any(parts.groups()):
        raise ValueError("expected a duration like 48h, 30m, 90s or 1h30m (empty waits forever)")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in parts.groups())
    total = days * 86400 + hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError("must be longer than zero (leave it empty to wait forever)")
    return total


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return value

    return parse


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in [c.lower() for c in choices]:
            raise ValueError(f"expected one of: {', '.join(choices)}")
        return next(c for c in choices if c.lower() == value)

    return parse


def _path(text: str) -> Path:
    if not text.strip():
        raise ValueError("expected a path")
    return _expanded(text)


def _optional_path(text: str) -> Path | None:
    return _expanded(text) if text.strip() else None


def _expanded(text: str) -> Path:
    """`~/videos` in the home folder; `~someone` must name a user of this machine."""
    try:
        return Path(text).expanduser()
    except RuntimeError:  # pathlib's "Could not determine home directory"
        raise ValueError("its ~ names no user of this machine: write the full path") from None


def _optional_url(text: str) -> str | None:
    text = text.strip().rstrip("/")
    if not text:
        return None
    if not re.match(r"https?://", text):
        raise ValueError("expected an http:// or https:// address, e.g. http://127.0.0.1:8080")
    return text + "/"


def machine_timezone() -> tzinfo:
    """This machine's own zone: `TZ`, else the zone /etc/localtime links to (Linux, macOS), else
    the current fixed offset (also for a `TZ` rule that is no zone name, such as `ICT-7`: like
    the C library, it then ignores /etc/localtime)."""
    rule = os.environ.get("TZ", "").lstrip(":")
    for name in (rule, "" if rule else _zone_of_localtime()):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.now().astimezone().tzinfo or ZoneInfo("UTC")


def _zone_of_localtime() -> str:
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return ""
    _, found, name = target.partition("zoneinfo/")
    return name if found else ""


def _timezone(text: str) -> tzinfo:
    name = text.strip()
    if not name:
        return machine_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder of zones
        raise ValueError(
            "expected an IANA time zone name such as Asia/Ho_Chi_Minh or Europe/Paris "
            "(empty: this machine's zone)"
        ) from None


def _yes_no(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false", "yes", "no", "1", "0"):
        raise ValueError("expected true or false")
    return value in ("true", "yes", "1")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number of seconds, e.g. 10 (0 turns it off)") from None
    if not 0 <= value <= 86400:
        raise ValueError("expected a number of seconds from 0 to 86400")
    return value


def _required_duration(text: str) -> float:
    seconds = parse_duration(text)
    if seconds is None:
        raise ValueError("expected a duration like 10m, 90s or 1h")
    return seconds


def _nonempty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


def _optional_password(text: str) -> str | None:
    if not text:
        return None
    if len(text) < 8:
        raise ValueError("must be at least 8 characters long (empty: no sign-in)")
    return text


def _days(text: str) -> float:
    """A number of days (`7`, `0.5`) -> seconds; 0: none."""
    try:
        days = float(text)
    except ValueError:
        raise ValueError("expected a number of days, e.g. 7 (0: none)") from None
    if not 0 <= days <= 365:
        raise ValueError("expected a number of days from 0 to 365")
    return days * SECONDS_A_DAY


def _worker_name(text: str) -> str:
    """A name for this machine's worker (and its task queue); empty: the host name."""
    name = text.strip() or socket.gethostname()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", name):
        raise ValueError(
            "expected a name of letters, digits, '.', '_' or '-' (at most 63), e.g. cafe-pc "
            "(empty: this machine's host name)"
        )
    return name


def _on_off(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("on", "off", "true", "false", "yes", "no", "1", "0"):
        raise ValueError("expected on or off")
    return value in ("on", "true", "yes", "1")


def _title_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number of seconds from 2 to 60, e.g. 12") from None
    if not 2 <= value <= 60:
        raise ValueError("expected a number of seconds from 2 to 60, e.g. 12")
    return value


def _outro_text(text: str) -> str:
    value = " ".join(clean_text(text).split())
    if not value:
        raise ValueError('must not be empty, e.g. "Thanks for watching"')
    if len(value) > OUTRO_TEXT_MAX_CHARS:
        raise ValueError(f"at most {OUTRO_TEXT_MAX_CHARS} characters (it is {len(value)})")
    return value


def _notify_urls(text: str) -> tuple[str, ...]:
    """Apprise URLs separated by spaces or new lines; each must name a service Apprise knows."""
    urls = tuple(text.split())
    if not urls:
        return ()
    from apprise import Apprise  # loads every service's plugin: only when some are set

    unknown = [
        str(number)
        for number, url in enumerate(urls, 1)
        if Apprise.instantiate(url, suppress_exceptions=True) is None
    ]
    if unknown:
        raise ValueError(
            f"URL number {', '.join(unknown)} is not an Apprise URL Apprise can use "
            "(e.g. tgram://bottoken/ChatID, discord://webhook_id/webhook_token, "
            "ntfy://topic, mailtos://user:password@example.com)"
        )
    return urls


# field name -> (environment variable, default, parser)
_SPEC: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "input_dir": ("INPUT_DIR", "videos", _path),
    "workspace_dir": ("WORKSPACE_DIR", "workspace", _path),
    "completed_dir": ("COMPLETED_DIR", "completed", _path),
    "publish_dir": ("PUBLISH_DIR", "published", _path),
    "candidate_thumbnail_num": ("CANDIDATE_THUMBNAIL_NUM", "30", _int_in(1, 500)),
    "top_ranked_candidates_num": ("TOP_RANKED_CANDIDATES_NUM", "6", _int_in(1, 9)),
    "thumbnail_template": ("THUMBNAIL_TEMPLATE", "template_b", _nonempty),
    "logo_path": ("LOGO_PATH", "", _optional_path),
    "video_privacy_status": ("VIDEO_PRIVACY_STATUS", "private", _one_of(PRIVACY_STATUSES)),
    "upload_target": ("UPLOAD_TARGET", "local", _one_of(UPLOAD_TARGETS)),
    "upload_chunk_mb": ("UPLOAD_CHUNK_MB", "16", _int_in(1, 1024)),
    "google_client_secrets": ("GOOGLE_CLIENT_SECRETS", "client_secrets.json", _path),
    "youtube_token_file": ("YOUTUBE_TOKEN_FILE", "token.json", _path),
    "youtube_api_root": ("YOUTUBE_API_ROOT", "", _optional_url),
    "youtube_auth_port": ("YOUTUBE_AUTH_PORT", "8765", _int_in(0, 65535)),
    "cleanup_mode": ("CLEANUP_MODE", "move", _one_of(CLEANUP_MODES)),
    "temporal_task_queue": ("TEMPORAL_TASK_QUEUE", "video-processing-queue", _nonempty),
    "max_concurrent_activities": ("MAX_CONCURRENT_ACTIVITIES", "4", _int_in(1, 64)),
    "selection_timeout_seconds": ("SELECTION_TIMEOUT", "", parse_duration),
    "selection_timeout_action": ("SELECTION_TIMEOUT_ACTION", "autopick", _one_of(TIMEOUT_ACTIONS)),
    "temporal_data_dir": ("TEMPORAL_DATA_DIR", ".temporal", _path),
    "temporal_ui_port": ("TEMPORAL_UI_PORT", "8233", _int_in(1, 65535)),
    "log_level": ("LOG_LEVEL", "INFO", _one_of(LOG_LEVELS)),
    "cafe_timezone": ("CAFE_TIMEZONE", "", _timezone),
    "youtube_playlist": ("YOUTUBE_PLAYLIST", "{tournament}", check_line_template),
    "description_template": ("DESCRIPTION_TEMPLATE", "", read_description_template),
    "publish_at": ("PUBLISH_AT", "", check_publish_at),
    "video_language": ("VIDEO_LANGUAGE", "vi", check_language),
    "made_for_kids": ("MADE_FOR_KIDS", "false", _yes_no),
    "web_host": ("WEB_HOST", "127.0.0.1", _nonempty),
    "web_port": ("WEB_PORT", "8280", _int_in(0, 65535)),
    "web_password": ("WEB_PASSWORD", "", _optional_password),
    "web_public_url": ("WEB_PUBLIC_URL", "", _optional_url),
    "notify_urls": ("NOTIFY_URLS", "", _notify_urls),
    "watch_interval_seconds": ("WATCH_INTERVAL", "10", _seconds),
    "ingest_settle_seconds": ("INGEST_SETTLE", "30", _seconds),
    "attention_retry_seconds": ("ATTENTION_RETRY_INTERVAL", "10m", _required_duration),
    "notify_waiting_interval_seconds": ("NOTIFY_WAITING_INTERVAL", "1m", _required_duration),
    "worker_name": ("WORKER_NAME", "", _worker_name),
    "video_titles": ("VIDEO_TITLES", "on", _on_off),
    "video_title_seconds": ("VIDEO_TITLE_SECONDS", "12", _title_seconds),
    "video_outro_text": ("VIDEO_OUTRO_TEXT", "Thanks for watching", _outro_text),
    "video_watermark": ("VIDEO_WATERMARK", "off", _one_of(WATERMARK_MODES)),
    "choice_mode": ("CHOICE", "wait", _one_of(CHOICE_MODES)),
    "rechoose_seconds": ("RECHOOSE_DAYS", "7", _days),
}
# never echoed in an error message: they hold passwords and tokens
_SECRET_VARIABLES = frozenset({"WEB_PASSWORD", "NOTIFY_URLS"})


def setting_defaults() -> dict[str, str]:
    """Each setting's variable and its default as written (what `.env.example` lists)."""
    return {env: default for env, default, _ in _SPEC.values()}


def env_file_for(environ: Mapping[str, str]) -> Path:
    app_env = environ.get("APP_ENV", "").strip()
    return Path(f".env.{app_env}") if app_env else Path(".env")


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Read and validate every setting; raise ConfigError listing every problem."""
    environ = os.environ if environ is None else environ
    env_file = env_file_for(environ) if env_file is None else env_file
    from_file = _read_env_file(env_file, required=bool(environ.get("APP_ENV", "").strip()))
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, (env, default, parse) in _SPEC.items():
        raw = environ.get(env)
        if raw is None:
            raw = from_file.get(env)
        if raw is None:
            raw = default
        try:
            values[name] = parse(raw)
        except ValueError as error:
            shown = "(hidden)" if env in _SECRET_VARIABLES else repr(raw)
            problems.append(f"{env}={shown}: {error}")
    if problems:
        source = f"the environment or {env_file}"
        raise ConfigError(
            "Invalid configuration (fix it in " + source + "):\n  " + "\n  ".join(problems)
        )
    return Settings(**values)


def temporal_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment Temporal's own configuration reads (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
    TEMPORAL_API_KEY, ...): this process's, with the TEMPORAL_* variables of the `.env` file
    where the environment has none, as for every other setting."""
    environ = os.environ if environ is None else environ
    env_file = env_file_for(environ)
    from_file = _read_env_file(env_file, required=bool(environ.get("APP_ENV", "").strip()))
    temporal = {
        name: value
        for name, value in from_file.items()
        if name.startswith("TEMPORAL_") and value is not None
    }
    return {**temporal, **environ}


def _read_env_file(env_file: Path, required: bool) -> dict[str, str | None]:
    """The file's settings; none when it is absent, unless APP_ENV named it."""
    if not env_file.is_file():
        if required:
            raise ConfigError(
                f"APP_ENV names {env_file}, which does not exist: create it, or unset APP_ENV "
                "to use .env."
            )
        return {}
    from dotenv import dotenv_values  # lazily: only a machine with a .env pays its import

    try:
        return dotenv_values(env_file)
    except UnicodeDecodeError:
        raise ConfigError(
            f"{env_file} is not UTF-8 text: save it again as UTF-8 (names such as Hà Nội need it)."
        ) from None


@cache
def get_settings() -> Settings:
    return load_settings()
