"""The branding stage: a prepared video in, its branded copy in its workspace out.

    brand_video(video_path, progress) -> BrandedVideo

What goes on the video follows the settings: the titles (VIDEO_TITLES, VIDEO_TITLE_SECONDS,
VIDEO_OUTRO_TEXT) with the match from the workspace's metadata.json, and with
VIDEO_WATERMARK=burn the logo (LOGO_PATH, else the café's) in every frame. The copy is
`branded.<the source's extension>` in the video's workspace, its pieces in `branding/`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from config import get_settings
from thumbnail_enhancement.renderer import load_logo, match_text
from video_branding.engine import Branding, brand_file
from video_prep import load_metadata
from workspace import BRANDED_VIDEO_STEM, BRANDING_WORK_DIR, workspace_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrandedVideo:
    """What was made: `path` is the file to publish instead of the source, None when the
    settings ask for no branding (publish the source as it is)."""

    path: Path | None
    method: str  # "none", "spliced" (only the titles' keyframe intervals re-encoded), "full"
    reason: str | None  # why titles took a full pass
    encoder: str | None
    reencoded_frames: int
    resumed_pieces: int  # pieces an interrupted run had finished


def branded_video_path(video_path: Path) -> Path:
    video_path = Path(video_path)
    return workspace_dir(video_path) / f"{BRANDED_VIDEO_STEM}{video_path.suffix.lower()}"


def branding_work_dir(video_path: Path) -> Path:
    return workspace_dir(Path(video_path)) / BRANDING_WORK_DIR


def brand_video(
    video_path: Path, progress: Callable[[int, int], None] | None = None
) -> BrandedVideo:
    """Make the video's branded copy as the settings ask; `progress(done, total)` is called
    often (it may raise to stop the work, which a later call resumes)."""
    video_path = Path(video_path)
    settings = get_settings()
    burn = settings.video_watermark == "burn"
    if not settings.video_titles and not burn:
        _remove_stale(video_path)
        return BrandedVideo(None, "none", None, None, 0, 0)
    metadata = load_metadata(video_path)
    logo = load_logo()
    if burn and logo is None:
        log.warning(
            "%s: VIDEO_WATERMARK=burn but the logo cannot be read: no logo is burned in",
            video_path.name,
        )
    titles = settings.video_titles
    branding = Branding(
        match=match_text(metadata) if titles else None,
        outro_text=settings.video_outro_text if titles else None,
        title_seconds=settings.video_title_seconds,
        burn_logo=burn and logo is not None,
        logo=logo,
    )
    if branding.match is None and not branding.burn_logo:
        _remove_stale(video_path)
        return BrandedVideo(None, "none", None, None, 0, 0)
    result = brand_file(
        video_path,
        branded_video_path(video_path),
        branding_work_dir(video_path),
        branding,
        progress,
    )
    return BrandedVideo(
        result.path,
        result.method,
        result.reason,
        result.encoder,
        result.reencoded_frames,
        result.resumed_pieces,
    )


def _remove_stale(video_path: Path) -> None:
    """A copy made under earlier settings is not what the settings ask for now."""
    target = branded_video_path(video_path)
    for path in (target, target.with_name(f"{target.name}.json")):
        path.unlink(missing_ok=True)
