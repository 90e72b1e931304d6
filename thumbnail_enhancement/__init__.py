"""Enhance: the chosen frame becomes the café's branded, YouTube-ready thumbnail.

    render_thumbnail(video_path, template_name) -> Path of the workspace's thumbnail.jpg

Templates: see `TEMPLATES` / `available_templates()`; `write_contact_sheet(dir)` previews them.

The package is the stage's face: its two functions here read LOGO_PATH and CAFE_TIMEZONE from
the settings; the modules below it read no settings (`RenderOptions` carries them).
"""

from pathlib import Path

from config import Settings, get_settings
from thumbnail_enhancement import preview, renderer
from thumbnail_enhancement.layout import MatchText, Plan, Theme, theme_for
from thumbnail_enhancement.renderer import (
    JPEG_MAX_BYTES,
    ChosenFraming,
    NoSelectionError,
    RenderOptions,
    SelectedImageError,
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
    "RenderOptions",
    "SelectedImageError",
    "Template",
    "Theme",
    "UnknownTemplateError",
    "available_templates",
    "render_options",
    "render_thumbnail",
    "template_named",
    "theme_for",
    "write_contact_sheet",
]


def render_options(settings: Settings) -> RenderOptions:
    return RenderOptions(logo_path=settings.logo_path, cafe_timezone=settings.cafe_timezone)


def render_thumbnail(video_path: Path, template_name: str, workspace: Path | None = None) -> Path:
    """Draw the video's thumbnail.jpg with the configured logo, framed as recorded with the
    choice (see `renderer.render_thumbnail`), in `workspace` when it is not the video's own."""
    from thumbnail_selector import load_selection  # imported late: it pulls in the chooser

    selection = load_selection(video_path, workspace)
    framing = None if selection is None else ChosenFraming(selection.players, selection.crops)
    options = render_options(get_settings())
    return renderer.render_thumbnail(video_path, template_name, options, framing, workspace)


def write_contact_sheet(out_dir: Path) -> Path:
    """Every template for sample matches, with the configured logo, in `out_dir`."""
    return preview.write_contact_sheet(out_dir, get_settings().logo_path)
