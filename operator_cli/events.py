"""What `up` says as things happen, and at its end: pure functions from the feed's events and
the videos' outcomes to lines."""

from __future__ import annotations

from datetime import tzinfo

from temporalio.client import WorkflowExecutionStatus

from operator_cli.lines import Line, chosen_line, hold_line
from operator_cli.remedies import failure_text, hold_text
from temporal.client import Failure, VideoOutcome
from temporal.messages import ATTENTION, CHOSEN, FAILED, PUBLISHED, QUOTA, WAITING, VideoEvent


def event_line(event: VideoEvent, zone: tzinfo) -> Line:
    """What `up` prints when something happens to a video, in its colour."""
    file = event.video_file
    if event.kind == WAITING:
        return Line(f"waiting for your choice: select {event.number} ({file})", "cyan")
    if event.kind == CHOSEN:
        return Line(chosen_line(event.rank, event.candidate_id, file), "green")
    if event.kind in (ATTENTION, QUOTA) and (hold := event.hold) is not None:
        remedy = hold_text(hold, event.workflow_id, event.host)
        return Line(f"{file}: {hold_line(hold, zone)}: {remedy}", "yellow")
    if event.kind == PUBLISHED:
        return Line(f"published {file}: {event.detail}", "green")
    if event.kind == FAILED:
        reason = failure_text(Failure(event.detail or "", event.redo))
        return Line(f"{file} failed: {reason}", "red")
    return Line(f"{file}: {event.detail}", "yellow")


def outcome_lines(outcomes: list[VideoOutcome]) -> list[Line]:
    """One line per video `up` started."""
    lines = []
    for outcome in outcomes:
        name = f"{outcome.video_file} ({outcome.workflow_id})"
        if outcome.execution_status == WorkflowExecutionStatus.COMPLETED:
            lines.append(Line(f"{name}: completed", "green"))
            continue
        reason = ""
        if outcome.failure:
            reason = f" {failure_text(outcome.failure)}"
        elif outcome.cancel_reason:
            reason = f" {outcome.cancel_reason}"
        lines.append(Line(f"{name}: {outcome.execution_status.name}{reason}", "red"))
    return lines


def still_wait_line(count: int) -> Line:
    if not count:
        return Line("No video is in progress.")
    videos = "1 video still waits" if count == 1 else f"{count} videos still wait"
    return Line(f"{videos}; run `up` again to go on")
