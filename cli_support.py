"""What both command-line interfaces share: settings loaded once, and logging that keeps out of
the way of rich's progress bars and of `--json` output."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.logging import RichHandler

from config import ConfigError, Settings, get_settings

console = Console()


def load_settings_or_exit() -> Settings:
    """The settings, or one message listing every invalid one and exit code 2; sets up logging.

    Log records go to stderr through rich, which prints them above a running progress bar.
    """
    try:
        settings = get_settings()
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level,
        format="%(name)s: %(message)s",
        handlers=[RichHandler(console=Console(stderr=True), show_path=False)],
    )
    return settings
