"""A video's workflow as the server keeps it, known without a worker: its search attributes and
memo, read here and nowhere else (`read_row`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus

from temporal.messages import (
    HELD_STAGES,
    MEMO_CHOSEN_CANDIDATE,
    MEMO_HOLD,
    MEMO_HOST,
    MEMO_VIDEO_FILE,
    MEMO_VIDEO_PATH,
    MEMO_WAITING_SINCE,
    VIDEO_FILE,
    VIDEO_FINGERPRINT,
    VIDEO_STAGE,
    Hold,
    hold_from_dict,
)

RUNNING = WorkflowExecutionStatus.RUNNING
COMPLETED = WorkflowExecutionStatus.COMPLETED
NO_STAGE = "-"  # a run that has not upserted its first stage yet


@dataclass
class VideoRow:
    workflow_id: str
    run_id: str | None
    execution_status: WorkflowExecutionStatus
    stage: str  # the VideoStage it reached (NO_STAGE before its first)
    video_file: str  # its file name (the workflow id for a run that kept none)
    host: str  # the worker that runs its activities; empty: any (started before hosts)
    task_queue: str  # its workflow's (shared) queue
    started_at: datetime | None
    video_path: str  # on its host; empty for runs started before it was kept
    fingerprint: str | None
    waiting_since: datetime | None  # when it started waiting for its choice
    hold: Hold | None  # running in a held stage (None while the memo is updated)
    chosen_candidate: str | None  # kept for a run started again after a failure

    @property
    def running(self) -> bool:
        return self.execution_status == RUNNING

    @property
    def shown_stage(self) -> str:
        """The stage people read: a run that ended otherwise than completed shows how it ended
        (CANCELED, FAILED...), not the stage it had reached, which no longer goes on."""
        if self.execution_status in (RUNNING, COMPLETED):
            return self.stage
        return self.execution_status.name


async def read_row(execution: WorkflowExecution) -> VideoRow:
    """The row of a listed or described run."""
    memo = await execution.memo()
    attributes = execution.typed_search_attributes
    status = execution.status or RUNNING
    stage = attributes.get(VIDEO_STAGE) or NO_STAGE
    since = memo.get(MEMO_WAITING_SINCE)
    held = status == RUNNING and stage in HELD_STAGES
    return VideoRow(
        workflow_id=execution.id,
        run_id=execution.run_id,
        execution_status=status,
        stage=stage,
        video_file=attributes.get(VIDEO_FILE) or memo.get(MEMO_VIDEO_FILE) or execution.id,
        host=memo.get(MEMO_HOST, ""),
        task_queue=execution.task_queue,
        started_at=execution.start_time,
        video_path=memo.get(MEMO_VIDEO_PATH, ""),
        fingerprint=attributes.get(VIDEO_FINGERPRINT),
        waiting_since=datetime.fromisoformat(since) if isinstance(since, str) else None,
        hold=hold_from_dict(memo.get(MEMO_HOLD)) if held else None,
        chosen_candidate=memo.get(MEMO_CHOSEN_CANDIDATE),
    )
