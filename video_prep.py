"""Prepare: validate and probe a match video, read the match from its file name, and write the
video's YouTube-ready metadata to its workspace.

File names follow the café's convention `{type}_{team1}vs{team2}[_{tournament}].{ext}`, e.g.
`md_NhozVinhvsKhanhzLeo.mov` (Nho/Vinh vs Khanh/Leo, Cafe Game) or
`xd_KhanhzVyvsZezTram_Friendly Game.mov`. A sidecar `<video file>.json` may override any field.

This is the stage's face, the module the pipeline imports: it reads the settings it needs
(CAFE_TIMEZONE, DESCRIPTION_TEMPLATE, VIDEO_PRIVACY_STATUS) and puts together the parts in
`prepare/` (probe, file names, match text, metadata), which read none.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from config import get_settings
from formats.cleaning import clean_metadata_text
from formats.youtube_fields import CATEGORY_SPORTS, fit_description, fit_tags, fit_title
from prepare.file_names import (
    MATCH_TYPES,
    SUPPORTED_EXTENSIONS,
    FileNameError,
    ParsedName,
    parse_file_name,
)
from prepare.match_text import (
    build_description,
    build_tags,
    build_title,
    in_zone,
    recording_date,
    template_values,
)
from prepare.metadata import (
    MatchMetadata,
    MetadataMissingError,
    MetadataUnreadableError,
    SidecarError,
    load_metadata,
    read_sidecar,
    save_metadata,
)
from prepare.probe import (
    EmptyVideoError,
    NotAVideoError,
    NoVideoStreamError,
    TruncatedVideoError,
    UnreadableVideoError,
    UnsupportedExtensionError,
    VideoError,
    VideoInfo,
    find_videos,
    probe_video,
)

__all__ = [
    "MATCH_TYPES",
    "SUPPORTED_EXTENSIONS",
    "EmptyVideoError",
    "FileNameError",
    "MatchMetadata",
    "MetadataMissingError",
    "MetadataUnreadableError",
    "NoVideoStreamError",
    "NotAVideoError",
    "ParsedName",
    "SidecarError",
    "TruncatedVideoError",
    "UnreadableVideoError",
    "UnsupportedExtensionError",
    "VideoError",
    "VideoInfo",
    "describe_match",
    "find_videos",
    "load_metadata",
    "parse_file_name",
    "prepare_single_video",
    "probe_video",
]

log = logging.getLogger(__name__)

# Derived from the other fields unless the sidecar sets them itself.
_DERIVED_TEXT = ("title", "description", "tags")


def _recorded_at(video_path: Path, info: VideoInfo, zone: tzinfo) -> datetime:
    """When the match was filmed, in the café's time: the container's recording time, else the
    file's modification time."""
    if info.creation_time:
        return in_zone(datetime.fromisoformat(info.creation_time), zone)
    return in_zone(datetime.fromtimestamp(video_path.stat().st_mtime, UTC), zone)


def describe_match(video_path: Path, info: VideoInfo) -> MatchMetadata:
    """The video's metadata from its name, probe and sidecar, with YouTube's limits applied."""
    settings = get_settings()
    parsed = parse_file_name(video_path.name)
    overrides = read_sidecar(video_path)
    values: dict[str, Any] = {
        "video_file": video_path.name,
        "match_type": parsed.match_type,
        "match_type_name": MATCH_TYPES[parsed.match_type],
        "team1": parsed.team1,
        "team2": parsed.team2,
        "tournament": parsed.tournament,
        "recorded_at": _recorded_at(video_path, info, settings.cafe_timezone).isoformat(),
        "duration_seconds": info.duration_seconds,
        "fps": info.fps,
        "width": info.display_width,
        "height": info.display_height,
        "rotation": info.rotation,
        "codec": info.codec,
        "category_id": CATEGORY_SPORTS,
        "privacy_status": settings.video_privacy_status,
    }
    values.update({k: v for k, v in overrides.items() if k not in _DERIVED_TEXT})
    if "privacy_status" in overrides and "publish_at" not in overrides:
        values["publish_at"] = ""  # the sidecar's privacy holds: PUBLISH_AT would make it public
    if "match_type" in overrides and "match_type_name" not in overrides:
        values["match_type_name"] = MATCH_TYPES[values["match_type"]]
    date = recording_date(values["recorded_at"], settings.cafe_timezone)
    args = (values["team1"], values["team2"], values["tournament"])
    values["title"] = build_title(*args, date)
    values["description"] = build_description(
        template_values(values["match_type_name"], *args, date), settings.description_template
    )
    values["tags"] = build_tags(values["match_type"], *args)
    if "title" in overrides:
        values["title"] = fit_title(str(overrides["title"]))
    if "description" in overrides:
        values["description"] = fit_description(str(overrides["description"]))
    if "tags" in overrides:
        values["tags"] = fit_tags(overrides["tags"])
    return MatchMetadata(**clean_metadata_text(values))


def prepare_single_video(video_path: Path) -> MatchMetadata:
    """Validate, probe and describe one video; write its workspace's metadata.json."""
    video_path = Path(video_path)
    parse_file_name(video_path.name)  # a misnamed file fails before any decoding
    metadata = describe_match(video_path, probe_video(video_path))
    save_metadata(video_path, metadata)
    log.info("prepared %s: %s", video_path.name, metadata.title)
    return metadata
