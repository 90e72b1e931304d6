"""How each front end names the step that fixes an error (`errors.Step`).

Stage modules say what is wrong and which step fixes it; the batch CLI and the Temporal front
ends (its CLI, the web chooser's failures, the notifications) each name the command that fits
where the operator reads the message. Holds are worded by each front end (`operator_cli.remedies`
for the CLI).
"""

from __future__ import annotations

from errors import Step, with_remedy

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
