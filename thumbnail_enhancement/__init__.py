"""Enhance: the chosen frame becomes the café's branded, YouTube-ready thumbnail.

    render_thumbnail(video_path, template_name) -> Path of the workspace's thumbnail.jpg

Templates: see `TEMPLATES` / `available_templates()`; `write_contact_sheet(dir)` previews them.
"""

from thumbnail_enhancement.layout import MatchText, Plan, Theme, theme_for
from thumbnail_enhancement.preview import write_contact_sheet
from thumbnail_enhancement.renderer import (
    JPEG_MAX_BYTES,
    NoSelectionError,
    SelectedImageError,
    render_thumbnail,
)
from thumbnail_enhancement.templates import (
    TEMPLATES,
    Template,
    UnknownTemplateError,
    available_templates,
    template_named,
)

__all__ = [
    "JPEG_MAX_BYTES",
    "TEMPLATES",
    "MatchText",
    "NoSelectionError",
    "Plan",
    "SelectedImageError",
    "Template",
    "Theme",
    "UnknownTemplateError",
    "available_templates",
    "render_thumbnail",
    "template_named",
    "theme_for",
    "write_contact_sheet",
]
