"""Branding: the café's titles over the footage and its logo, in the video itself.

    brand_video(video_path, progress) -> BrandingResult | None   the stage: a prepared video
    brand_file(source, target, work_dir, branding, progress) -> BrandingResult   the engine

The package is the stage's face: `brand_video` reads the settings (VIDEO_TITLES,
VIDEO_TITLE_SECONDS, VIDEO_OUTRO_TEXT, VIDEO_WATERMARK, LOGO_PATH, CAFE_TIMEZONE) and the
match from the workspace's metadata.json, and writes `branded.<the source's extension>` into
the video's workspace, its pieces in `branding/`. The modules below read no settings: the
engine takes a `Branding` (what goes on the video). See `engine` for how the copy is made
(only the titles' keyframe intervals re-encoded, or a full pass) and `pieces` for the work
folder that makes it resumable.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from config import Settings, get_settings
from thumbnail_enhancement.renderer import load_logo, match_text
from video_branding.engine import Branding, BrandingResult, brand_file
from video_branding.errors import (
    BrandingError,
    DamagedVideoError,
    DiskFullError,
    UnsupportedVideoError,
)
from video_prep import load_metadata
from workspace import BRANDED_VIDEO_STEM, BRANDING_WORK_DIR, workspace_dir

__all__ = [
    "Branding",
    "BrandingError",
    "BrandingResult",
    "DamagedVideoError",
    "DiskFullError",
    "UnsupportedVideoError",
    "brand_file",
    "brand_video",
    "branded_video_path",
    "branding_for",
    "branding_work_dir",
    "remove_branded_copy",
]

log = logging.getLogger(__name__)


def branded_video_path(video_path: Path) -> Path:
    video_path = Path(video_path)
    return workspace_dir(video_path) / f"{BRANDED_VIDEO_STEM}{video_path.suffix.lower()}"


def branding_work_dir(video_path: Path) -> Path:
    return workspace_dir(Path(video_path)) / BRANDING_WORK_DIR


def branding_for(video_path: Path, settings: Settings) -> Branding | None:
    """What the settings put on the prepared video; None: nothing (publish it as it is)."""
    burn = settings.video_watermark == "burn"
    if not settings.video_titles and not burn:
        return None
    logo = load_logo(settings.logo_path)
    if burn and logo is None:
        log.warning(
            "%s: VIDEO_WATERMARK=burn but the logo cannot be read: no logo is burned in",
            Path(video_path).name,
        )
    if not settings.video_titles and logo is None:
        return None
    match = None
    if settings.video_titles:
        match = match_text(load_metadata(video_path), settings.cafe_timezone)
    return Branding(
        match=match,
        outro_text=settings.video_outro_text if match else None,
        title_seconds=settings.video_title_seconds,
        burn_logo=burn and logo is not None,
        logo=logo,
    )


def brand_video(
    video_path: Path, progress: Callable[[int, int], None] | None = None
) -> BrandingResult | None:
    """Make the prepared video's branded copy as the settings ask; None when they ask for
    nothing (publish the source as it is). `progress(done, total)` is called often; it may
    raise to stop the work, which a later call resumes from its last finished piece."""
    video_path = Path(video_path)
    branding = branding_for(video_path, get_settings())
    if branding is None:
        remove_branded_copy(video_path)  # one made under earlier settings is not asked for now
        return None
    return brand_file(
        video_path,
        branded_video_path(video_path),
        branding_work_dir(video_path),
        branding,
        progress,
    )


def remove_branded_copy(video_path: Path) -> None:
    """Remove the video's branded copy, its record and its pieces (none there: nothing)."""
    target = branded_video_path(video_path)
    for path in (target, target.with_name(f"{target.name}.json")):
        path.unlink(missing_ok=True)
    shutil.rmtree(branding_work_dir(video_path), ignore_errors=True)
