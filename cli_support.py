"""What both command-line interfaces share: settings loaded once, and logging that keeps out of
the way of rich's progress bars and of `--json` output."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.logging import RichHandler

from config import ConfigError, Settings, get_settings
from errors import PipelineError
from remedies import for_batch, token_end_warning

# Markup off: file names and messages may hold brackets ("md_AvsB_[final].mp4"), which rich
# would take for tags and drop. Soft wrap: an id or an address is copied whole.
console = Console(soft_wrap=True, markup=False)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as the one red line of a failure; raise the returned exit."""
    console.print(message, style="red")
    return typer.Exit(code)


def load_settings_or_exit() -> Settings:
    """The settings, or one message listing every invalid one and exit code 2; sets up logging.

    Log records go to stderr: on a terminal through rich, which prints them above a running
    progress bar; elsewhere (a log file, CI) as plain lines.
    """
    try:
        settings = get_settings()
    except ConfigError as error:
        raise fail(str(error), 2) from None
    if sys.stderr.isatty():
        handler: logging.Handler = RichHandler(console=Console(stderr=True), show_path=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    return settings


def require_upload_auth(nothing_happened: str, render: Callable[[BaseException], str]) -> None:
    """With UPLOAD_TARGET=youtube, stop (exit code 2) before any work unless the saved token
    works; `nothing_happened` tells the operator what was not done, `render` names the fix in
    the calling CLI's commands."""
    if get_settings().upload_target != "youtube":
        return
    from uploader import token_authorized_at, validate_auth

    try:
        validate_auth()
    except PipelineError as error:
        raise fail(f"{render(error)}\n{nothing_happened}", 2) from None
    warn_of_token_end(token_authorized_at())


def warn_of_token_end(authorized_at: datetime | None) -> None:
    """Say so when the token is near the end of Google's 7 days for a "Testing" app."""
    settings = get_settings()
    warning = token_end_warning(authorized_at, datetime.now(UTC), settings.cafe_timezone)
    if warning:
        console.print(warning, style="yellow")


def require_display_or_exit() -> None:
    """Stop (exit code 2) with how to choose without a window when none can open."""
    from thumbnail_selector import NoDisplayError, require_display

    try:
        require_display()
    except NoDisplayError as error:
        raise fail(str(error), 2) from None


def make_folders() -> None:
    """Make INPUT_DIR, WORKSPACE_DIR, COMPLETED_DIR and PUBLISH_DIR where they are at their
    defaults (`videos`... beside the run) and missing: a first run in a fresh checkout, said once.
    A folder someone set is never made: missing, it is a mistake or a drive not mounted, which
    the caller reports."""
    from config import setting_defaults

    settings = get_settings()
    defaults = setting_defaults()
    for variable, folder in (
        ("INPUT_DIR", settings.input_dir),
        ("WORKSPACE_DIR", settings.workspace_dir),
        ("COMPLETED_DIR", settings.completed_dir),
        ("PUBLISH_DIR", settings.publish_dir),
    ):
        if folder != Path(defaults[variable]) or folder.exists():
            continue
        try:
            folder.mkdir()
        except OSError:
            continue  # reported where the folder is used, with its cause
        console.print(f"Made the folder {folder} ({variable}).")


def input_videos() -> list[Path]:
    """The videos in INPUT_DIR (made first when missing, as the other folders); exit code 2 when
    INPUT_DIR is not a folder."""
    from video_prep import find_videos

    make_folders()
    input_dir = get_settings().input_dir
    if not input_dir.is_dir():
        problem = "is not a folder" if input_dir.exists() else "does not exist"
        raise fail(
            f"INPUT_DIR {input_dir} {problem}: create the folder and put the match videos there, "
            "or set INPUT_DIR.",
            2,
        )
    videos = find_videos(input_dir)
    if not videos:
        console.print(f"No videos (.mov .mp4 .m4v .mkv) in {input_dir}.")
    return videos


def require_known_template(template: str | None = None) -> str:
    """The thumbnail template to render with (`template`, else THUMBNAIL_TEMPLATE); exit code 2
    with the available ones when it is unknown, before any video is touched."""
    from thumbnail_enhancement import UnknownTemplateError, template_named

    name = template or get_settings().thumbnail_template
    try:
        template_named(name, "--template" if template else "THUMBNAIL_TEMPLATE")
    except UnknownTemplateError as error:
        raise fail(for_batch(error), 2) from None
    return name
