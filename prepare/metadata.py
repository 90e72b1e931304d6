"""A match video's metadata: its fields (`MatchMetadata`), the sidecar `<video file>.json` that
may override any of them, and `metadata.json` in the video's workspace, which every later stage
reads."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from errors import PipelineError, Remedy
from formats.cleaning import clean_text
from formats.publish_at import publish_at_problem
from formats.youtube_fields import CATEGORY_SPORTS, PRIVACY_STATUSES
from prepare.file_names import MATCH_TYPES
from workspace import METADATA_FILE, atomic_write_json, ensure_workspace, read_json, workspace_dir


class SidecarError(PipelineError):
    pass


class MetadataMissingError(PipelineError):
    pass


class MetadataUnreadableError(MetadataMissingError):
    """metadata.json exists but is damaged (e.g. edited by hand)."""


@dataclass
class MatchMetadata:
    video_file: str
    match_type: str
    match_type_name: str
    team1: list[str]
    team2: list[str]
    tournament: str
    recorded_at: str
    duration_seconds: float
    fps: float
    width: int
    height: int
    rotation: int
    codec: str
    title: str
    description: str
    tags: list[str]
    category_id: str
    privacy_status: str
    publish_at: str | None = None  # the sidecar's schedule; None: PUBLISH_AT decides

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchMetadata:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


_FIELD_TYPES = {f.name: f.type for f in fields(MatchMetadata)}


def read_sidecar(video_path: Path) -> dict[str, Any]:
    """The sidecar's fields, checked; none when the video has no sidecar."""
    sidecar = video_path.with_name(video_path.name + ".json")
    try:
        if not sidecar.is_file():
            return {}
    except OSError:  # the video's name is so long that no sidecar name fits beside it
        return {}
    try:
        # utf-8-sig: Windows editors may save the file with a byte-order mark
        data = json.loads(sidecar.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SidecarError(f"{sidecar}: not valid JSON ({error}); fix or remove it.") from None
    except OSError as error:
        raise SidecarError(
            f"{sidecar}: cannot be read ({error.strerror}); fix or remove it."
        ) from None
    if not isinstance(data, dict):
        raise SidecarError(
            f'{sidecar}: must hold a JSON object of metadata fields, e.g. {{"title": "Final"}}; '
            "fix or remove it."
        )
    unknown = sorted(set(data) - set(_FIELD_TYPES))
    if unknown:
        raise SidecarError(
            f"{sidecar}: unknown field(s) {', '.join(unknown)}; fix or remove it (allowed: "
            f"{', '.join(_FIELD_TYPES)})."
        )
    problems = [
        f"{key} {problem}"
        for key, value in data.items()
        if (problem := _sidecar_value_problem(key, value))
    ]
    if problems:
        raise SidecarError(f"{sidecar}: {'; '.join(problems)}; fix or remove it.")
    return data


# annotation -> (accepted JSON types, how the message calls it)
_SCALAR_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a text"),
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a number"),
}


def _sidecar_value_problem(key: str, value: Any) -> str | None:
    """What is wrong with a sidecar's value for `key`, or None when it can be used."""
    if key in ("team1", "team2", "tags"):
        names = isinstance(value, list) and all(isinstance(v, str) and clean_text(v) for v in value)
        if not names or (key != "tags" and not value):
            return "must be a list of names"
        return None
    if key == "publish_at":
        return publish_at_problem(value)
    accepted, kind = _SCALAR_TYPES[_FIELD_TYPES[key]]
    if isinstance(value, bool) or not isinstance(value, accepted):
        return f"must be {kind}"
    if key == "match_type" and value not in MATCH_TYPES:
        return f"must be one of {', '.join(MATCH_TYPES)}"
    if key == "privacy_status" and value not in PRIVACY_STATUSES:
        return f"must be one of {', '.join(PRIVACY_STATUSES)}"
    if key == "category_id" and not (value.isascii() and value.isdigit()):
        return f'must be a YouTube category number as text, e.g. "{CATEGORY_SPORTS}" (Sports)'
    if key == "recorded_at" and not _is_iso_time(value):
        return "must be a time like 2024-12-25T18:30:00+07:00"
    if key in ("title", "tournament") and not clean_text(value):  # nothing left once cleaned
        return "must not be empty"
    return None


def _is_iso_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def save_metadata(video_path: Path, metadata: MatchMetadata) -> None:
    """Write the video's workspace's metadata.json (creating the workspace)."""
    atomic_write_json(ensure_workspace(video_path) / METADATA_FILE, metadata.to_dict())


def load_metadata(video_path: Path, workspace: Path | None = None) -> MatchMetadata:
    """The video's metadata.json, as prepare wrote it (in `workspace` when it is not the
    video's own, e.g. archived)."""
    name = Path(video_path).name
    path = (workspace or workspace_dir(Path(video_path))) / METADATA_FILE
    if not path.is_file():
        raise MetadataMissingError(f"{name}: not prepared yet", Remedy.PREPARE)
    try:
        return MatchMetadata.from_dict(read_json(path))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MetadataUnreadableError(
            f"{name}: {path} is unreadable ({error})", Remedy.PREPARE
        ) from None
