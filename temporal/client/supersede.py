"""What already runs for a video about to start: the same recording under another name (nothing
new starts), or other content at its path on its host (a copy that went on after it was started,
a file copied over), which the new video supersedes unless it began publishing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from temporal.client.ids import videos_where
from temporal.client.rows import read_row
from temporal.messages import (
    CLEANING_UP,
    COMPLETED,
    HELD_STAGES,
    UPLOADING,
    VIDEO_FILE,
    VIDEO_FINGERPRINT,
    Hold,
)

# The stages from which a video may be on YouTube (or the publish folder), even in part.
PUBLISHING_STAGES = (UPLOADING, CLEANING_UP, COMPLETED)
# A file name that can be put in a visibility query between double quotes as it is.
_QUOTABLE = re.compile(r'[^"\\]+')


@dataclass
class RunAtPath:
    """A running workflow of other content that was at the new video's path on its host."""

    workflow_id: str
    stage: str
    hold: Hold | None

    @property
    def began_publishing(self) -> bool:
        """Whether its upload may have begun: its stage (the held one, while it waits) is
        UPLOADING or later. A held run whose stage is unknown counts as begun."""
        stage = self.stage
        if stage in HELD_STAGES:
            stage = self.hold.stage if self.hold and self.hold.stage else UPLOADING
        return stage in PUBLISHING_STAGES


@dataclass
class SameRecording:
    """A run of the same content under another id (the file was renamed)."""

    workflow_id: str
    video_file: str
    running: bool  # else completed


@dataclass
class OtherRuns:
    """What already runs for a video about to start, from one visibility query."""

    same_recording: SameRecording | None
    at_this_path: list[RunAtPath]  # runs of other content at its path: it supersedes them


async def other_runs(
    client: Client, video_path: Path, host: str, fingerprint: str, workflow_id: str
) -> OtherRuns:
    """A running or completed workflow of another id for the same recording, and the running
    workflows of other content at this path on `host`: one visibility query for both."""
    same = (
        f'{VIDEO_FINGERPRINT.name}="{fingerprint}" '
        'AND (ExecutionStatus="Running" OR ExecutionStatus="Completed")'
    )
    wanted = f"({same})"
    if _QUOTABLE.fullmatch(video_path.name):
        wanted += f' OR ({VIDEO_FILE.name}="{video_path.name}" AND ExecutionStatus="Running")'
    found = OtherRuns(None, [])
    async for execution in client.list_workflows(videos_where(wanted)):
        if execution.id == workflow_id:
            continue
        row = await read_row(execution)
        if row.fingerprint == fingerprint:
            if found.same_recording is None:
                running = row.execution_status == WorkflowExecutionStatus.RUNNING
                file = execution.typed_search_attributes.get(VIDEO_FILE) or "another name"
                found.same_recording = SameRecording(row.workflow_id, file, running)
        elif row.video_path == str(video_path) and row.host == host:
            found.at_this_path.append(RunAtPath(row.workflow_id, row.stage, row.hold))
    return found


def superseded_reason(video_path: Path, workflow_id: str) -> str:
    return f"superseded by the new content at {video_path} ({workflow_id})"


async def supersede(
    client: Client, runs: list[RunAtPath], video_path: Path, workflow_id: str
) -> list[str]:
    """Cancel the runs of the earlier content at this path that have not begun publishing, with
    the reason `status` shows; returns their ids. The others stay, for a person."""
    cancelled = []
    for run in runs:
        if run.began_publishing:
            continue
        handle = client.get_workflow_handle(run.workflow_id)
        try:
            await handle.cancel(reason=superseded_reason(video_path, workflow_id))
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:  # not found: it ended meanwhile
                raise
            continue
        cancelled.append(run.workflow_id)
    return cancelled
