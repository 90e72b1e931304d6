"""How each front end names the remedy that fixes an error (`errors.Remedy`).

Stage modules say what is wrong and which step fixes it; the batch CLI and the Temporal front
ends (its CLI, the web chooser's failures, the notifications) each name the command that fits
where the operator reads the message. Holds are worded by each front end (`operator_cli.remedies`
for the CLI).
"""

from __future__ import annotations

from errors import Remedy, with_remedy

PREVIEW_TEMPLATES = "`python main.py preview-templates --out DIR` shows them"


def batch_command_for(remedy: Remedy) -> str:
    """The batch CLI (`main.py`) runs each step on its own."""
    if remedy is Remedy.PREVIEW_TEMPLATES:
        return PREVIEW_TEMPLATES
    return f"run `python main.py {remedy}`"


def temporal_command_for(remedy: Remedy) -> str:
    """Under Temporal a video's steps run in its workflow: a lost step means starting it again."""
    if remedy is Remedy.PREVIEW_TEMPLATES:
        return PREVIEW_TEMPLATES
    if remedy is Remedy.AUTH:
        return "run `python main_temporal.py auth`"
    if remedy is Remedy.SELECT:
        return (
            "start the video again with `python main_temporal.py start --retry-failed --rechoose`"
        )
    return "start the video again with `python main_temporal.py start --retry-failed`"


def for_batch(error: BaseException) -> str:
    return with_remedy(error, batch_command_for)


def for_temporal(error: BaseException) -> str:
    return with_remedy(error, temporal_command_for)
