"""The kinds of expected failure, as the CLIs and the Temporal activities treat them.

`PipelineError`: a problem with the video or its input that a person must fix (not a video, a
misnamed file, an invalid sidecar). Retrying cannot help: the activities turn it into a
non-retryable `ApplicationError` named after the subclass, the batch CLI prints it as one line.

`NeedsAttentionError`: something outside the video that a person fixes (a full disk, a
permission, a missing or revoked YouTube token, a channel not verified for thumbnails, a source
replaced under the pipeline). The same work can go on once it is fixed: under Temporal the video
waits and is retried, it does not fail.

`QuotaExhaustedError`: a YouTube daily limit is used up; it resets at midnight Pacific time, and
the work goes on after that.

`RetryLaterError`: a passing failure (a network or a disk that failed for now) after the stage's
own retries. Temporal retries the activity; the batch CLI prints the message.

A stage never names a command of either CLI: an error says what is wrong and, in `redo`, the
`Remedy` that fixes it; each front end (main.py, the Temporal CLI, the web page, the notifications)
renders the command that fits it with `with_remedy`. Under Temporal, `redo` crosses into the
workflow as text (`remedy_named` reads it back).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum


class Remedy(StrEnum):
    """What a person runs to fix an error (a stage again, an authorization, a look at the
    templates); each front end names its own command for it."""

    PREPARE = "prepare"
    RANK = "rank"
    SELECT = "select"
    ENHANCE = "enhance"
    UPLOAD = "upload"
    CLEANUP = "cleanup"
    AUTH = "auth"
    PREVIEW_TEMPLATES = "preview-templates"


class PipelineError(Exception):
    """A problem with the input or set-up; the message names the file, the problem and the fix,
    except the command: `redo` is the step that fixes it, if one does."""

    def __init__(self, message: str, redo: Remedy | None = None):
        super().__init__(message)
        self.redo = redo


class NeedsAttentionError(PipelineError):
    """Something outside the video a person must fix; the work goes on afterwards."""

    # Not tried again by itself sooner than this (each try costs, and the fix takes longer than
    # ATTENTION_RETRY_INTERVAL); None: the interval. A person's `retry` is never held back.
    retry_after: timedelta | None = None


class QuotaExhaustedError(PipelineError):
    """A YouTube daily limit is used up until its reset (midnight Pacific time)."""


class RetryLaterError(Exception):
    """A passing failure; the message says what failed and that a rerun resumes."""


def with_remedy(error: BaseException, command_for: Callable[[Remedy], str]) -> str:
    """The error's message, followed by the command (from `command_for`) that fixes it."""
    return message_with_remedy(str(error), getattr(error, "redo", None), command_for)


def message_with_remedy(
    message: str, redo: Remedy | None, command_for: Callable[[Remedy], str]
) -> str:
    """`message`, followed by the command (from `command_for`) for the step `redo`, if any."""
    if redo is None:
        return message
    return f"{message.rstrip('.')}; {command_for(redo)}."


def remedy_named(name: str | None) -> Remedy | None:
    """The Remedy of this name (as it crossed a process boundary), None for none or an unknown."""
    try:
        return Remedy(name) if name else None
    except ValueError:
        return None
