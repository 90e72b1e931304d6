"""Which workflow is a video's: its id comes from its content, `{slug of the file stem}-{6 hex of
its fingerprint}` (`md-nhozvinhvskhanhzleo-3f9a2c`), so the same recording never gets two
workflows and a rematch under yesterday's name is a new video. The versions before content ids
named a video's workflow `video-{name}-{hash of name and size}`: such a workflow is still found.

Workflows are named by their type, never by importing the workflow's code: talking to Temporal
loads neither the stages nor their decoders."""

from __future__ import annotations

import hashlib
from pathlib import Path

from formats.folding import fold_accents, slug

WORKFLOW_TYPE = "ProcessVideoWorkflow"
EARLIER_ID_PREFIX = "video-"  # the ids versions before content ids gave
SLUG_MAX_CHARS = 40  # of the file stem, at the start of the id


def videos_where(condition: str) -> str:
    """A visibility query for the video workflows that meet `condition`."""
    return f'WorkflowType="{WORKFLOW_TYPE}" AND ({condition})'


def workflow_id_for(video_path: Path, fingerprint: str | None = None) -> str:
    """The video's workflow id, from its file name and content (`fingerprint`, computed when not
    given): readable in the Web UI, and the same for the same recording."""
    if fingerprint is None:
        from ingest import fingerprint as content_fingerprint  # the file is read: ingest's job

        fingerprint = content_fingerprint(video_path)
    return f"{slug(Path(video_path).stem, SLUG_MAX_CHARS)}-{fingerprint[:6]}"


def earlier_workflow_id_for(video_path: Path) -> str:
    """The id versions before content ids gave the video (from its name and size): a workflow
    of theirs, running or done, is this video's."""
    size = video_path.stat().st_size
    digest = hashlib.sha1(f"{video_path.name}\0{size}".encode()).hexdigest()[:8]
    ascii_name = fold_accents(video_path.name)
    readable = "".join(c if c.isalnum() or c in "._-" else "-" for c in ascii_name if c.isascii())
    return f"{EARLIER_ID_PREFIX}{readable}-{digest}"
