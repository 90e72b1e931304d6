"""Branding: the café's titles over the footage and its logo, in the video itself.

    brand_video(video_path, progress) -> BrandedVideo     the stage (settings, workspace)
    brand_file(source, target, work_dir, branding, progress) -> BrandingResult   the engine

See `engine` for how the copy is made (only the titles' keyframe intervals re-encoded, or a
full pass) and `pieces` for the work folder that makes it resumable.
"""

from video_branding.engine import Branding, BrandingResult, brand_file
from video_branding.errors import (
    BrandingError,
    DamagedVideoError,
    DiskFullError,
    UnsupportedVideoError,
)
from video_branding.stage import BrandedVideo, brand_video, branded_video_path, branding_work_dir

__all__ = [
    "BrandedVideo",
    "Branding",
    "BrandingError",
    "BrandingResult",
    "DamagedVideoError",
    "DiskFullError",
    "UnsupportedVideoError",
    "brand_file",
    "brand_video",
    "branded_video_path",
    "branding_work_dir",
]
