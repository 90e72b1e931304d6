"""What the operator API refuses, as data: each error says what is wrong and carries what a front
end needs to word the remedy in its own terms (a command in the CLI, a button on the phone). Its
text names no command of any front end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.client import WorkflowExecutionStatus


class OperatorError(Exception):
    """Something the operator must know or do; a front end shows it as one line."""


class WorkflowNotFoundError(OperatorError):
    def __init__(self, workflow_id: str):
        self.workflow_id = workflow_id
        super().__init__(f"No workflow with id {workflow_id}")


class NoWorkerError(OperatorError):
    """No worker answered for the video: none runs where its workflow or its host is."""

    def __init__(self, workflow_id: str):
        self.workflow_id = workflow_id
        super().__init__(f"No worker answered for {workflow_id}")


class WorkflowUnansweredError(OperatorError):
    """A worker took the query but the workflow could not answer it (e.g. an upgrade that broke
    its replay); the server's view of the video still holds."""

    def __init__(self, workflow_id: str, reason: str):
        self.workflow_id = workflow_id
        self.reason = reason
        super().__init__(f"The workflow of {workflow_id} could not answer: {reason}")


class WorkflowEndedError(OperatorError):
    def __init__(self, workflow_id: str, execution_status: WorkflowExecutionStatus, doing: str):
        self.workflow_id = workflow_id
        self.execution_status = execution_status
        super().__init__(
            f"{workflow_id} has already ended ({execution_status.name.lower()}): {doing}"
        )

    @property
    def can_run_again(self) -> bool:
        """A run that did not complete may be started again (`start --retry-failed`)."""
        return self.execution_status != WorkflowExecutionStatus.COMPLETED


class NotWaitingError(OperatorError):
    def __init__(self, workflow_id: str, stage: str):
        super().__init__(f"{workflow_id} is not waiting for a selection (stage {stage})")


class NotHeldError(OperatorError):
    def __init__(self, workflow_id: str, stage: str):
        super().__init__(
            f"{workflow_id} is not waiting for a retry (stage {stage}): nothing to retry"
        )


class PreviewsMissingError(OperatorError):
    """Candidates without a preview in Temporal (ranked by an earlier version) whose files are
    not on this machine: only a chooser on the video's host can show them."""

    def __init__(self, video_file: str, missing: int, host: str):
        self.host = host
        super().__init__(
            f"{video_file}: {missing} candidate(s) have no preview in Temporal (the video was "
            "ranked by an earlier version) and their files are not on this machine"
        )


class ChoiceRejectedError(OperatorError):
    def __init__(self, reason: str):
        super().__init__(f"Choice rejected: {reason}")


class ChoicePendingError(OperatorError):
    """No worker took the choice in time; the server keeps it for the next one."""

    def __init__(self, workflow_id: str, waited_seconds: float):
        self.workflow_id = workflow_id
        super().__init__(
            f"No worker took the choice for {workflow_id} within {waited_seconds:g} s (none "
            "runs now?): it is taken once a worker runs again"
        )


class NoSuchVideoError(OperatorError):
    """Nothing matches what was typed: a name, an id's start, or a number out of range."""


class NoSuchNumberError(NoSuchVideoError):
    def __init__(self, number: int, count: int):
        self.number = number
        self.count = count  # how many videos are numbered now
        if count:
            problem = f"No video number {number}"
        else:
            problem = (
                "No video is waiting for a choice, a person or the quota, so none is number "
                f"{number}"
            )
        super().__init__(problem)


class NoMatchError(NoSuchVideoError):
    def __init__(self, reference: str):
        self.reference = reference
        super().__init__(f"No video matches {reference!r}")


@dataclass
class VideoMatch:
    workflow_id: str
    video_file: str
    execution_status: WorkflowExecutionStatus
    stage: str  # as shown: how it ended, for a run that did not complete


MATCHES_LISTED = 10


class AmbiguousVideoError(OperatorError):
    def __init__(self, reference: str, matches: Sequence[VideoMatch]):
        self.matches = list(matches)
        shown = "\n".join(
            f"  {m.workflow_id}  {m.video_file}  {m.stage}" for m in matches[:MATCHES_LISTED]
        )
        more = (
            f"\n  ... and {len(matches) - MATCHES_LISTED} more"
            if len(matches) > MATCHES_LISTED
            else ""
        )
        super().__init__(
            f"{len(matches)} videos match {reference!r}; name one by more of its id:\n{shown}{more}"
        )
