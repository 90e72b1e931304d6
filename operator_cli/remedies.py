"""How the Temporal CLI words what to do: the commands that fix an error, a hold or a failure,
in its own terms. Below it nothing names a command; here each problem gets its remedy."""

from __future__ import annotations

from temporalio.service import RPCError

from errors import PipelineError, Remedy, message_with_remedy, remedy_named
from remedies import for_temporal, temporal_command_for
from temporal.client import (
    ChoicePendingError,
    Failure,
    NoMatchError,
    NoSuchNumberError,
    NoWorkerError,
    OperatorError,
    PreviewsMissingError,
    StartOutcome,
    WorkflowEndedError,
    WorkflowNotFoundError,
    WorkflowUnansweredError,
)
from temporal.dev_server import TemporalBinaryMissingError
from temporal.messages import HOLD_FOR_QUOTA, Hold

CLI = "python main_temporal.py"
START_WORKER = f"`{CLI} worker` (or `up`)"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "\n")) or "\n" in text else f"{text}."


def operator_remedy(error: OperatorError) -> str | None:
    """What the operator runs about `error`, when a command helps."""
    if isinstance(error, WorkflowNotFoundError):
        return f"`{CLI} pending` lists the videos waiting for a choice, `status` the recent ones"
    if isinstance(error, NoWorkerError):
        return f"start one with {START_WORKER}"
    if isinstance(error, WorkflowUnansweredError):
        return (
            f"the worker's log says more; `{CLI} status {error.workflow_id}` shows what the "
            "server knows"
        )
    if isinstance(error, ChoicePendingError):
        return f"`{CLI} worker`, or `up`; `{CLI} status {error.workflow_id}` shows whether it was"
    if isinstance(error, PreviewsMissingError):
        where = f"on {error.host}" if error.host else "on the worker's machine"
        return f"run `select` {where}, or use the web chooser there"
    if isinstance(error, NoMatchError):
        return (
            f"give the number `{CLI} pending` prints, the start of a workflow id, or a file name "
            "(`status` lists them)"
        )
    if isinstance(error, NoSuchNumberError) and error.count:
        return f"`{CLI} pending` numbers the {error.count} waiting from 1 to {error.count}"
    return None


def operator_line(error: OperatorError) -> str:
    """An operator error as the CLI prints it: the problem, then what to run."""
    problem, remedy = str(error), operator_remedy(error)
    if isinstance(error, WorkflowEndedError) and error.can_run_again:
        return f"{problem} (`{CLI} start --retry-failed` runs it again)."
    if isinstance(error, WorkflowUnansweredError):
        return f"{problem}. {remedy[0].upper()}{remedy[1:]}." if remedy else _sentence(problem)
    if isinstance(error, ChoicePendingError):
        return f"{problem} ({remedy})."
    return f"{problem}: {remedy}." if remedy else _sentence(problem)


def error_line(error: BaseException) -> str:
    """Any problem the CLI reports as one line: the stage's, the operator API's, the server's."""
    if isinstance(error, PipelineError):
        return for_temporal(error)
    if isinstance(error, OperatorError):
        return operator_line(error)
    if isinstance(error, RPCError):  # the server refused: a missing namespace, a permission...
        return f"Temporal refused the request: {error.message}"
    if isinstance(error, TemporalBinaryMissingError):
        return str(error)
    return _sentence(str(error))


def failure_text(failure: Failure) -> str:
    """Why a video failed, then the command that fixes it."""
    return message_with_remedy(failure.message, remedy_named(failure.redo), temporal_command_for)


def hold_text(hold: Hold, workflow_id: str, host: str) -> str:
    """What a held video waits for (on the worker `host`), then how it goes on."""
    problem = hold.problem.rstrip(".")
    retry = f"`{CLI} retry {workflow_id}`"
    if hold.kind == HOLD_FOR_QUOTA:
        return (
            f"{problem}. The video waits for the reset and goes on by itself ({retry} tries "
            "sooner)."
        )
    if remedy_named(hold.redo) is Remedy.AUTH:
        where = host or "the worker's machine"
        return (
            f"{problem}: run `{CLI} auth` on {where} (its token is the one used), the videos "
            f"waiting for it go on (or {retry} after fixing it otherwise)."
        )
    return f"{problem}. Once fixed, {retry} goes on at once; it is also tried again by itself."


def start_text(outcome: StartOutcome) -> str:
    """What became of one file `start` or the watcher took, with what to run about it."""
    text = f"{outcome.video}: {outcome.message}"
    if outcome.can_run_again:
        text += "; use `start --retry-failed` to run it again"
    if outcome.workflow_id:
        text += f" ({outcome.workflow_id})"
    for replaced in outcome.superseded:
        text += f"; it replaces {replaced} (the earlier content of this file, cancelled)"
    for kept in outcome.kept:
        text += (
            f"; {kept} (the earlier content of this file) had begun publishing: it stays for a "
            f"person (`{CLI} status {kept}`)"
        )
    return text
