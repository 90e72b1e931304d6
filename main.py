"""Batch CLI: runs the pipeline's stages over every video in INPUT_DIR, without Temporal.

python main.py prepare      validate, probe and name-parse every video
python main.py rank         find the best thumbnail candidates of every video
python main.py select       choose each ranked video's thumbnail in a window (or --pick N)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from config import ConfigError, get_settings
from errors import PipelineError

app = typer.Typer(
    help="Badminton café uploader: the pipeline's stages as a plain batch CLI.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
log = logging.getLogger("main")

# A stage action gets the video and a progress callback (done, total) and returns a summary.
StageAction = Callable[[Path, Callable[[int, int], None]], str]


@dataclass
class Outcome:
    video: str
    ok: bool
    summary: str


@app.callback()
def _load_settings() -> None:
    try:
        settings = get_settings()
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def input_videos() -> list[Path]:
    from video_prep import find_videos

    settings = get_settings()
    if not settings.input_dir.is_dir():
        console.print(
            f"[red]INPUT_DIR {settings.input_dir} does not exist: create it and put the match "
            "videos there, or set INPUT_DIR.[/red]"
        )
        raise typer.Exit(2)
    videos = find_videos(settings.input_dir)
    if not videos:
        console.print(f"No videos (.mov .mp4 .m4v .mkv) in {settings.input_dir}.")
    return videos


def run_stage(label: str, videos: list[Path], action: StageAction) -> list[Outcome]:
    """Run `action` on each video with a progress bar; a failed video is reported and skipped."""
    outcomes: list[Outcome] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        overall = progress.add_task(label, total=len(videos))
        for video in videos:
            step = progress.add_task(f"  {video.name}", total=None)

            def report(done: int, total: int, step: int = step) -> None:
                progress.update(step, completed=done, total=total)

            try:
                outcomes.append(Outcome(video.name, True, action(video, report)))
            except PipelineError as error:
                outcomes.append(Outcome(video.name, False, str(error)))
            except Exception as error:  # a bug, not bad input: keep going with the others
                log.debug("unexpected failure on %s", video, exc_info=True)
                outcomes.append(
                    Outcome(video.name, False, f"unexpected {type(error).__name__}: {error}")
                )
            progress.remove_task(step)
            progress.advance(overall)
    return outcomes


def print_summary(label: str, outcomes: list[Outcome]) -> None:
    """Print one line per video and exit non-zero when any failed."""
    if not outcomes:
        return
    table = Table(title=label, show_lines=False)
    table.add_column("video")
    table.add_column("result")
    for outcome in outcomes:
        mark = "[green]✓[/green]" if outcome.ok else "[red]✗[/red]"
        table.add_row(outcome.video, f"{mark} {outcome.summary}")
    console.print(table)
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        console.print(f"[red]{failed} of {len(outcomes)} video(s) failed.[/red]")
        raise typer.Exit(1)


@app.command()
def prepare() -> None:
    """Validate, probe and parse the name of every video; write its metadata.json."""
    from video_prep import prepare_single_video

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        metadata = prepare_single_video(video)
        return metadata.title

    print_summary("prepare", run_stage("Preparing", input_videos(), action))


@app.command()
def rank(
    top_n: int = typer.Option(
        None, "--top-n", min=1, max=9, help="Candidates kept (default TOP_RANKED_CANDIDATES_NUM)."
    ),
) -> None:
    """Find the best thumbnail candidates of every video."""
    from thumbnail_ranking import rank_and_store_top_candidates

    keep = top_n or get_settings().top_ranked_candidates_num

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        candidates = rank_and_store_top_candidates(video, keep, progress=report)
        best = candidates[0]
        return (
            f"{len(candidates)} candidates, best at {best.timestamp:.1f}s "
            f"(score {best.score:.2f}) in {Path(best.file).parent}"
        )

    print_summary("rank", run_stage("Ranking", input_videos(), action))


@app.command()
def select(
    pick: int = typer.Option(
        None, "--pick", min=1, max=9, help="Choose rank N (1 = best) without a window."
    ),
) -> None:
    """Choose the thumbnail of every ranked video that has none yet, in a window or with --pick."""
    from thumbnail_ranking import load_candidates
    from thumbnail_selector import (
        NoDisplayError,
        SelectableCandidate,
        choose,
        pick_by_rank,
        record_selection,
        require_display,
    )
    from workspace import CANDIDATES_FILE, SELECTED_IMAGE, SELECTION_FILE, workspace_dir

    videos = input_videos()
    ranked = [video for video in videos if (workspace_dir(video) / CANDIDATES_FILE).is_file()]
    waiting = [video for video in ranked if not (workspace_dir(video) / SELECTION_FILE).is_file()]
    if videos and not waiting:
        console.print(
            f"Nothing to select: {len(ranked)} of {len(videos)} video(s) ranked, all of them "
            "with a selection (run `python main.py rank` first for the others)."
        )
        return
    if pick is None:
        try:
            require_display()
        except NoDisplayError as error:
            console.print(f"[red]{error}[/red]", soft_wrap=True)
            raise typer.Exit(2) from None

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        candidates = load_candidates(video)
        if pick is not None:
            chosen = pick_by_rank(candidates, pick)
        else:
            chosen = choose([SelectableCandidate.from_ranked(c) for c in candidates], video.name)
            if chosen is None:
                return "skipped (cancelled)"
        selection = record_selection(video, chosen)
        return f"chose #{selection.rank} (at {selection.timestamp:.1f}s) -> {SELECTED_IMAGE}"

    print_summary("select", run_stage("Selecting", waiting, action))


if __name__ == "__main__":
    app()
