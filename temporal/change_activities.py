"""The activities of ThumbnailChangeWorkflow, thin around thumbnail_change: they run on the
video's host (its workspace, archived or not, is there), heartbeating, their errors mapped as
every stage's are (a refusal of YouTube's a hold, bad input a non-retryable failure)."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

import thumbnail_change
from config import get_settings
from temporal.activities import ProgressCallback, VideoActivities
from temporal.change_messages import ChangeDone, ChangeTask, RetireTask


class ChangeActivities(VideoActivities):
    """A published video's thumbnail changed, and its window closed."""

    @activity.defn(name="change_published_thumbnail", no_thread_cancel_exception=True)
    def change_published_thumbnail(self, task: ChangeTask) -> ChangeDone:
        video = Path(task.video_path)

        def change(_: ProgressCallback) -> thumbnail_change.ChangeResult:
            return thumbnail_change.change_thumbnail(
                video, task.fingerprint, task.number, task.candidate_id, task.template_name
            )

        settings = get_settings()
        result = self._run(change, [settings.completed_dir, settings.workspace_dir])
        return ChangeDone(
            result.change.candidate_id,
            result.change.rank,
            result.change.number,
            result.target,
            result.quota_units,
            result.already_done,
        )

    @activity.defn(name="retire_change_sources", no_thread_cancel_exception=True)
    def retire_change_sources(self, task: RetireTask) -> None:
        def retire(_: ProgressCallback) -> None:
            thumbnail_change.retire_sources(Path(task.video_path), task.fingerprint)

        settings = get_settings()
        self._run(retire, [settings.completed_dir, settings.workspace_dir])

    def all(self) -> list:
        return [self.change_published_thumbnail, self.retire_change_sources]
