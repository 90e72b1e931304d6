"""`select` and `up --pick/--select`: a waiting video's candidates, chosen by rank (`--pick N`,
no window and no OpenCV) or in the chooser window, and sent to its workflow."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus

from chooser_window.ranks import pick_by_rank
from errors import PipelineError
from operator_cli.lines import Line, chosen_line
from operator_cli.remedies import error_line
from temporal import client as temporal_client
from temporal.client import (
    ChoiceRequest,
    KeptChoice,
    NoWorkerError,
    OperatorError,
    WorkflowEndedError,
)

Say = Callable[[Line], None]


def pick_candidate(request: ChoiceRequest, pick: int | None) -> str | None:
    """Rank `pick`, else the one chosen in the window (None: cancelled); the window shows the
    previews that came through Temporal, or the candidates' files on the video's own host."""
    if pick is not None:
        return pick_by_rank(request.candidates, pick)
    # OpenCV first, before anything bundling the same libraries (thumbnail_selector says why);
    # nothing here loads PyAV
    from thumbnail_selector import SelectableCandidate, choose

    candidates = [
        SelectableCandidate(
            c.id, c.rank, c.score, c.timestamp, c.preview or Path(c.file), crop=c.crop
        )
        for c in request.candidates
    ]
    return choose(candidates, request.video_file)


async def choose_one(client: Client, workflow_id: str, pick: int | None, say: Say) -> None:
    """Open the chooser (or pick rank `pick`) for one waiting video and send the choice; while
    no worker runs, the choice is kept for when one does; for a published video, change its
    thumbnail (within its window)."""
    try:
        request = await temporal_client.choice_request(client, workflow_id)
    except NoWorkerError as no_worker:
        await keep_for_its_worker(client, workflow_id, pick, say, no_worker)
        return
    except WorkflowEndedError as error:
        if error.execution_status != WorkflowExecutionStatus.COMPLETED:
            raise
        await change_one(client, workflow_id, pick, say)
        return
    chosen = pick_candidate(request, pick)
    if chosen is None:
        say(Line(f"Cancelled: nothing was chosen for {request.video_file}; it keeps waiting."))
        return
    taken = await temporal_client.choose(client, workflow_id, request.video_path, chosen)
    say(Line(chosen_line(request.rank_of(taken), taken, request.video_file), "green"))


async def keep_for_its_worker(
    client: Client, workflow_id: str, pick: int | None, say: Say, no_worker: NoWorkerError
) -> None:
    """No worker answers: the candidates from the video's history, the choice checked against
    them and recorded, applied when its worker runs. The window needs the candidates' files
    (no previews without a worker): without them, only `--pick` chooses."""
    request = await temporal_client.request_from_history(client, workflow_id)
    if pick is None and not all(os.access(c.file, os.R_OK) for c in request.candidates):
        raise no_worker
    chosen = pick_candidate(request, pick)
    if chosen is None:
        say(Line(f"Cancelled: nothing was chosen for {request.video_file}; it keeps waiting."))
        return
    kept = await temporal_client.keep_choice(client, workflow_id, chosen)
    say(Line(kept_line(kept, chosen), "green"))


def kept_line(kept: KeptChoice, chosen: str) -> str:
    """What `select` says of a choice kept for a worker that does not run now."""
    when = f"when its worker runs (on {kept.host})" if kept.host else "when a worker runs"
    which = f"rank {kept.rank} ({kept.candidate_id})"
    if kept.earlier and kept.candidate_id != chosen:
        return (
            f"{kept.video_file} already has a choice recorded, {which}, applied {when}; "
            f"{chosen} was not recorded."
        )
    return f"No worker runs {kept.video_file} now: {which} is recorded, and applied {when}."


async def change_one(client: Client, workflow_id: str, pick: int | None, say: Say) -> None:
    """Change a published video's thumbnail to rank `pick` or the one chosen in the window."""
    offer = await temporal_client.change_offer(client, workflow_id)
    request = offer.choice
    live = request.rank_of(offer.live_candidate_id)
    say(Line(f"{request.video_file} is published with rank {live}; choose another to change it"))
    chosen = pick_candidate(request, pick)
    if chosen is None:
        say(Line(f"Cancelled: the thumbnail of {request.video_file} stays rank {live}."))
        return
    done = await temporal_client.change_thumbnail(client, workflow_id, request.video_path, chosen)
    where = "on YouTube" if done.target == "youtube" else "in the publish folder"
    say(Line(f"Rank {done.rank} is now the thumbnail of {request.video_file} {where}", "green"))


async def choose_or_say_why(client: Client, workflow_id: str, pick: int | None, say: Say) -> bool:
    """`choose_one`, a problem said as one red line; whether it went through."""
    try:
        await choose_one(client, workflow_id, pick, say)
    except (OperatorError, PipelineError) as error:
        say(Line(error_line(error), "red"))
        return False
    return True


async def choose_each(client: Client, pick: int | None, say: Say) -> int:
    """Every video waiting now, oldest first; a problem with one is said and the next comes.
    Returns how many could not be chosen for."""
    waiting = await temporal_client.list_waiting(client)
    if not waiting:
        say(Line("No video is waiting for a thumbnail choice."))
    problems = 0
    for number, video in enumerate(waiting, 1):
        say(Line(f"{number}/{len(waiting)}: {video.video_file}"))
        if not await choose_or_say_why(client, video.workflow_id, pick, say):
            problems += 1
    return problems
