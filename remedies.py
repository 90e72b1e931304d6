"""How each front end names the remedy that fixes an error (`errors.Remedy`).

Stage modules say what is wrong and which step fixes it; the batch CLI and the Temporal front
ends (its CLI, the web chooser's failures, the notifications) each name the command that fits
where the operator reads the message. Holds are worded by each front end (`operator_cli.remedies`
for the CLI).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from errors import Remedy, with_remedy

# How a person runs the tool, in every message that names a command: the checkout's `cafe`
# script (its .venv's Python, from any shell); the batch CLI is `./cafe batch`.
CAFE = "./cafe"
BATCH = f"{CAFE} batch"
PREVIEW_TEMPLATES = f"`{BATCH} preview-templates --out DIR` shows them"


def batch_command_for(remedy: Remedy) -> str:
    """The batch CLI (`main.py`) runs each step on its own."""
    if remedy is Remedy.PREVIEW_TEMPLATES:
        return PREVIEW_TEMPLATES
    return f"run `{BATCH} {remedy}`"


def temporal_command_for(remedy: Remedy) -> str:
    """Under Temporal a video's steps run in its workflow: a lost step means starting it again."""
    if remedy is Remedy.PREVIEW_TEMPLATES:
        return PREVIEW_TEMPLATES
    if remedy is Remedy.AUTH:
        return f"run `{CAFE} auth`"
    if remedy is Remedy.SELECT:
        return f"start the video again with `{CAFE} start --retry-failed --rechoose`"
    return f"start the video again with `{CAFE} start --retry-failed`"


def for_batch(error: BaseException) -> str:
    return with_remedy(error, batch_command_for)


def for_temporal(error: BaseException) -> str:
    return with_remedy(error, temporal_command_for)


# Google ends a refresh token 7 days after the consent while the app's publishing status is
# "Testing"; the warning starts this long before.
TESTING_TOKEN_DAYS = 7
TOKEN_WARNING_BEFORE = timedelta(days=2)


def testing_token_end(authorized_at: datetime) -> datetime:
    return authorized_at + timedelta(days=TESTING_TOKEN_DAYS)


def token_rule_note(authorized_at: datetime, zone: tzinfo) -> str:
    """What `auth` says once it saved a token."""
    end = testing_token_end(authorized_at).astimezone(zone)
    return (
        f'While the Google Cloud app\'s publishing status is "Testing", Google ends this token '
        f"on {end:%d %b %H:%M} (7 days): run `{CAFE} auth` again before then, or publish the app "
        "(docs/youtube-setup.md)."
    )


def token_end_warning(authorized_at: datetime | None, now: datetime, zone: tzinfo) -> str | None:
    """A warning once the token is near the end of its 7 days (if the app is in "Testing")."""
    if authorized_at is None or now < testing_token_end(authorized_at) - TOKEN_WARNING_BEFORE:
        return None
    end = testing_token_end(authorized_at).astimezone(zone)
    when = "ended" if now >= testing_token_end(authorized_at) else "ends"
    return (
        f"This machine's YouTube token was authorized on {authorized_at.astimezone(zone):%d %b}: "
        f'if the Google Cloud app is still "Testing", Google {when} it on {end:%d %b %H:%M}. '
        f"Run `{CAFE} auth` again now (or publish the app: docs/youtube-setup.md)."
    )
