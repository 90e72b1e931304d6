"""How each front end names the step that fixes an error (`errors.Step`).

Stage modules say what is wrong and which step fixes it; the batch CLI, the Temporal CLI and the
Temporal activities each name the command that fits where the operator reads the message.
"""

from __future__ import annotations

from errors import QuotaExhaustedError, Step, with_remedy

PREVIEW_TEMPLATES = "`python main.py preview-templates --out DIR` shows them"


def batch_command_for(step: Step) -> str:
    """The batch CLI (`main.py`) runs each step on its own."""
    if step is Step.PREVIEW_TEMPLATES:
        return PREVIEW_TEMPLATES
    return f"run `python main.py {step}`"


def temporal_command_for(step: Step) -> str:
    """Under Temporal a video's steps run in its workflow: a lost step means starting it again."""
    if step is Step.PREVIEW_TEMPLATES:
        return PREVIEW_TEMPLATES
    if step is Step.AUTH:
        return "run `python main_temporal.py auth`"
    if step is Step.SELECT:
        return (
            "start the video again with `python main_temporal.py start --retry-failed --rechoose`"
        )
    return "start the video again with `python main_temporal.py start --retry-failed`"


def for_batch(error: BaseException) -> str:
    return with_remedy(error, batch_command_for)


def for_temporal(error: BaseException) -> str:
    return with_remedy(error, temporal_command_for)


def for_temporal_hold(error: BaseException, workflow_id: str, host: str) -> str:
    """A problem the workflow waits out instead of failing (a quota, a full disk, a token) on
    the worker `host`: the message, then how the video goes on."""
    message = str(error).rstrip(".")
    retry = f"`python main_temporal.py retry {workflow_id}`"
    if isinstance(error, QuotaExhaustedError):
        return (
            f"{message}. The video waits for the reset and goes on by itself ({retry} tries "
            "sooner)."
        )
    if getattr(error, "redo", None) is Step.AUTH:
        return (
            f"{message}: run `python main_temporal.py auth` on {host} (its token is the one "
            f"used), the videos waiting for it go on (or {retry} after fixing it otherwise)."
        )
    return f"{message}. Once fixed, {retry} goes on at once; it is also tried again by itself."
