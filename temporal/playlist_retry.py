"""PlaylistRetryWorkflow: a published video's playlist step, run again.

A video whose playlist YouTube refused for good completes all the same (published, archived);
its result and memo say why. When a person has fixed the cause (or changed YOUTUBE_PLAYLIST),
the operator API starts this small workflow (id `<video's workflow id>-playlist`, one at a time):
one activity on the video's host, whose workspace (in place or archived) records the upload and
whose token uploaded it, adds the video to its playlist, found or created as the upload would.
A refusal, a used-up quota or a token to renew fails it with the reason, and it may be started
again; the video's own workflow, closed, is never touched.

Deterministic, like the video's: everything it needs is in its input.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from temporal.activities import VideoActivities
    from temporal.messages import PLAYLIST_RETRY_WORKFLOW, PlaylistRetryInput, host_task_queue
    from temporal.workflows import HEARTBEAT_TIMEOUT, QUICK_RETRY

PLAYLIST_TIMEOUT = timedelta(minutes=10)


@workflow.defn(name=PLAYLIST_RETRY_WORKFLOW)
class PlaylistRetryWorkflow:
    @workflow.run
    async def run(self, request: PlaylistRetryInput) -> str:
        """The playlist's title once the video is in it (empty: YOUTUBE_PLAYLIST names none
        now)."""
        queue = None
        details = f"Adding {PurePath(request.video_path).name} to its playlist again"
        if request.host:
            queue = host_task_queue(workflow.info().task_queue, request.host)
            details += f", on {request.host}"
        workflow.set_current_details(details)
        return await workflow.execute_activity_method(
            VideoActivities.add_to_playlist_again,
            request,
            task_queue=queue,
            start_to_close_timeout=PLAYLIST_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=QUICK_RETRY,
        )
