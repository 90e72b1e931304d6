"""What was set as the channel's branding watermark, recorded beside the token
(`watermark.json`): read without loading the YouTube client, for `status`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from workspace import atomic_write_json, read_json

RECORD_FILE = "watermark.json"


@dataclass(frozen=True)
class WatermarkRecord:
    channel_id: str
    logo_digest: str
    set_at: str  # ISO, UTC


def record_path(token_file: Path) -> Path:
    return Path(token_file).parent / RECORD_FILE


def load_record(token_file: Path) -> WatermarkRecord | None:
    """What was set last with this token; None when nothing was (or the record is unreadable)."""
    try:
        data = read_json(record_path(token_file))
        return WatermarkRecord(data["channel_id"], data["logo_digest"], data["set_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_record(token_file: Path, record: WatermarkRecord) -> None:
    atomic_write_json(record_path(token_file), asdict(record))
