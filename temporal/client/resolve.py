"""Finding a video by what people type: the number `pending` prints, an id or a unique prefix of
one, or a file name (with or without its extension, any case, accents or not)."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus

from formats.folding import fold_accents, slug
from temporal.client.errors import (
    AmbiguousVideoError,
    NoMatchError,
    NoSuchNumberError,
    VideoMatch,
)
from temporal.client.ids import EARLIER_ID_PREFIX, SLUG_MAX_CHARS, videos_where
from temporal.client.listing import numbered
from temporal.client.rows import read_row
from temporal.messages import HELD_STAGES, WAITING_FOR_SELECTION

_ID_CHARACTERS = re.compile(r"[A-Za-z0-9._-]+")
MATCHES_ASKED = 200


class Wanted(Enum):
    """Which video a command means when several match: the one in the state it acts on."""

    WAITING = "waiting"  # select
    RUNNING = "running"  # cancel, status
    HELD = "held"  # retry


async def resolve(client: Client, reference: str, wants: Wanted = Wanted.RUNNING) -> str:
    """The workflow id `reference` names. Among several matches, the only one in the state the
    command `wants` is taken; otherwise they are listed (AmbiguousVideoError)."""
    reference = reference.strip()
    if reference.isdigit():
        return await _numbered(client, int(reference))
    matches = await _by_file_name(client, reference) or await _by_id_prefix(client, reference)
    if any(match.workflow_id == reference for match in matches):
        return reference
    if not matches:
        raise NoMatchError(reference)
    if len(matches) == 1:
        return matches[0].workflow_id
    wanted = [match for match in matches if _is_wanted(match, wants)]
    if len(wanted) == 1:
        return wanted[0].workflow_id
    raise AmbiguousVideoError(reference, wanted or matches)


def _is_wanted(match: VideoMatch, wants: Wanted) -> bool:
    if match.execution_status != WorkflowExecutionStatus.RUNNING:
        return False
    if wants == Wanted.WAITING:
        return match.stage == WAITING_FOR_SELECTION
    if wants == Wanted.HELD:
        return match.stage in HELD_STAGES
    return True


async def _numbered(client: Client, number: int) -> str:
    ids = await numbered(client)
    if 1 <= number <= len(ids):
        return ids[number - 1]
    raise NoSuchNumberError(number, len(ids))


async def _matches(client: Client, condition: str) -> list[VideoMatch]:
    """Each workflow of the query once (its latest run), newest first."""
    found: dict[str, VideoMatch] = {}
    async for execution in client.list_workflows(videos_where(condition), limit=MATCHES_ASKED):
        if execution.id not in found:
            row = await read_row(execution)
            found[row.workflow_id] = VideoMatch(
                row.workflow_id, row.video_file, row.execution_status, row.shown_stage
            )
    return list(found.values())


async def _by_file_name(client: Client, reference: str) -> list[VideoMatch]:
    """Workflows of a file named `reference`: their ids start with the slug of its name (case
    and accents already folded there), or with `video-` for those of earlier versions. A name
    with a suffix is looked for with and without it (an extension, or a dot of the name)."""
    wanted = fold_accents(reference).casefold()
    stems = {reference, Path(reference).stem}
    prefixes = [*sorted({f"{slug(stem, SLUG_MAX_CHARS)}-" for stem in stems}), EARLIER_ID_PREFIX]
    found: dict[str, VideoMatch] = {}
    for prefix in prefixes:
        for match in await _matches(client, f'WorkflowId STARTS_WITH "{prefix}"'):
            names = (match.video_file, Path(match.video_file).stem)
            if wanted in (fold_accents(name).casefold() for name in names):
                found.setdefault(match.workflow_id, match)
    return list(found.values())


async def _by_id_prefix(client: Client, reference: str) -> list[VideoMatch]:
    if not _ID_CHARACTERS.fullmatch(reference):
        return []
    return await _matches(client, f'WorkflowId STARTS_WITH "{reference}"')
