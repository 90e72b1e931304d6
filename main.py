"""Batch CLI: runs the pipeline's stages over every video in INPUT_DIR, without Temporal.

./cafe batch prepare      validate, probe and name-parse every video
./cafe batch rank         find the best thumbnail candidates of every video
./cafe batch select       choose each ranked video's thumbnail in a window (or --pick N)
./cafe batch enhance      render the branded thumbnail of every selected video (--template)
./cafe batch preview-templates --out DIR   one contact sheet of every template
./cafe batch brand        make every prepared video's branded copy (VIDEO_TITLES, VIDEO_WATERMARK)
./cafe batch auth         authorize YouTube uploads (prints Google's consent URL)
./cafe batch upload       publish every enhanced video (its branded copy) to UPLOAD_TARGET
./cafe batch cleanup      archive every published video and its workspace in COMPLETED_DIR
./cafe batch all          every stage in the café's order, over every video (--pick N)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

# thumbnail_selector (OpenCV) before anything importing PyAV: see its _check_opencv_libraries
import thumbnail_selector  # noqa: F401

# isort: split
from cli_support import (
    console,
    fail,
    input_videos,
    load_settings_or_exit,
    require_display_or_exit,
    require_known_template,
    require_upload_auth,
)
from config import get_settings
from errors import PipelineError, RetryLaterError
from remedies import BATCH, for_batch, token_rule_note

app = typer.Typer(
    help="Badminton café uploader: the pipeline's stages as a plain batch CLI.",
    no_args_is_help=True,
    rich_markup_mode="markdown",  # a docstring's line breaks are not kept in the help
    add_completion=False,
)
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
    load_settings_or_exit()


class AmountColumn(ProgressColumn):
    """Done of total: in MB for a task counting bytes, else as numbers (frames, videos)."""

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "bytes":
            return DownloadColumn().render(task)
        return MofNCompleteColumn().render(task)


def run_stage(label: str, videos: list[Path], action: StageAction, unit: str = "") -> list[Outcome]:
    """Run `action` on each video with a progress bar; a failed video is reported and skipped.

    `unit="bytes"` shows each video's progress in MB."""
    outcomes: list[Outcome] = []
    columns = (TextColumn("{task.description}"), BarColumn(), AmountColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        overall = progress.add_task(label, total=len(videos))
        for video in videos:
            step = progress.add_task(f"  {video.name}", total=None, unit=unit)

            def report(done: int, total: int, step: int = step) -> None:
                progress.update(step, completed=done, total=total)

            try:
                outcomes.append(Outcome(video.name, True, action(video, report)))
            except (PipelineError, RetryLaterError) as error:
                outcomes.append(Outcome(video.name, False, for_batch(error)))
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
    table.add_column("result", overflow="fold")
    for outcome in outcomes:
        mark = Text("✓ ", style="green") if outcome.ok else Text("✗ ", style="red")
        table.add_row(outcome.video, mark + outcome.summary)
    console.print(table)
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        console.print(f"{failed} of {len(outcomes)} video(s) failed.", style="red")
        raise typer.Exit(1)


# Each stage's per-video action, shared by its own command and by `all`.


def prepare_action() -> StageAction:
    from video_prep import prepare_single_video

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        metadata = prepare_single_video(video)
        return metadata.title

    return action


def rank_action(keep: int) -> StageAction:
    from thumbnail_ranking import rank_and_store_top_candidates

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        ranking = rank_and_store_top_candidates(video, keep, progress=report)
        best = ranking.candidates[0]
        left_out = f"; {ranking.left_out_text}" if ranking.left_out else ""
        return (
            f"{len(ranking.candidates)} candidates, best at {best.timestamp:.1f}s "
            f"(score {best.score:.2f}) in {Path(best.file).parent}{left_out}"
        )

    return action


def select_action(pick: int | None) -> StageAction:
    """Choose rank `pick`, or in the chooser window when None (the caller checked the display)."""
    from thumbnail_ranking import load_candidates
    from thumbnail_selector import SelectableCandidate, choose, pick_by_rank, record_selection
    from workspace import SELECTED_IMAGE

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        candidates = load_candidates(video)
        if pick is not None:
            chosen = pick_by_rank(candidates, pick)
        else:
            template = get_settings().thumbnail_template  # enhance's, unless --template differs
            shown = [SelectableCandidate.from_ranked(c, template) for c in candidates]
            chosen = choose(shown, video.name)
            if chosen is None:
                return "skipped (cancelled)"
        selection = record_selection(video, chosen)
        return f"chose #{selection.rank} (at {selection.timestamp:.1f}s) -> {SELECTED_IMAGE}"

    return action


def enhance_action(template_name: str) -> StageAction:
    from thumbnail_enhancement import render_thumbnail

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        thumbnail = render_thumbnail(video, template_name)
        return f"{template_name} -> {thumbnail} ({thumbnail.stat().st_size // 1024} KB)"

    return action


def brand_action() -> StageAction:
    from video_branding import brand_video

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        made = brand_video(video, report)
        if made is None:
            return "no branding asked for (VIDEO_TITLES=off): the source is published as it is"
        how = "titles spliced in" if made.method == "spliced" else f"full pass ({made.encoder})"
        why = f"; {made.reason}" if made.reason else ""
        return f"{how} -> {made.path}{why}"

    return action


def upload_action() -> StageAction:
    from uploader import upload_single_video

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        record = upload_single_video(video, progress=report)
        when = f", public at {record.publish_at}" if record.publish_at else ""
        if record.target == "local":
            return f"published to {record.published_path}{when}"
        published = f"{record.url} ({record.privacy_status}{when})"
        if record.playlist_problem:  # published all the same
            return f"{published}, {record.playlist_problem}; `{BATCH} upload` tries again"
        return published

    return action


def cleanup_action() -> StageAction:
    from cleanup import cleanup_single_video

    def action(video: Path, report: Callable[[int, int], None]) -> str:
        return str(cleanup_single_video(video))

    return action


@app.command()
def prepare() -> None:
    """Validate, probe and parse the name of every video; write its metadata.json."""
    print_summary("prepare", run_stage("Preparing", input_videos(), prepare_action()))


@app.command()
def rank(
    top_n: int = typer.Option(
        None, "--top-n", min=1, max=9, help="Candidates kept (default TOP_RANKED_CANDIDATES_NUM)."
    ),
) -> None:
    """Find the best thumbnail candidates of every video."""
    keep = top_n or get_settings().top_ranked_candidates_num
    print_summary("rank", run_stage("Ranking", input_videos(), rank_action(keep)))


@app.command()
def select(
    pick: int = typer.Option(
        None, "--pick", min=1, max=9, help="Choose rank N (1 = best) without a window."
    ),
) -> None:
    """Choose the thumbnail of every ranked video that has none yet, in a window or with --pick."""
    from workspace import CANDIDATES_FILE, SELECTION_FILE, workspace_dir

    videos = input_videos()
    ranked = [video for video in videos if (workspace_dir(video) / CANDIDATES_FILE).is_file()]
    waiting = [video for video in ranked if not (workspace_dir(video) / SELECTION_FILE).is_file()]
    if videos and not waiting:
        unranked = len(videos) - len(ranked)
        console.print(
            "Nothing to select: "
            + (f"{len(ranked)} ranked video(s) all have a selection. " if ranked else "")
            + (f"Run `{BATCH} rank` first for {unranked} video(s)." if unranked else "")
        )
        return
    if pick is None:
        require_display_or_exit()

    print_summary("select", run_stage("Selecting", waiting, select_action(pick)))


@app.command()
def enhance(
    template: str = typer.Option(
        None, "--template", help="Template name (default THUMBNAIL_TEMPLATE)."
    ),
) -> None:
    """Render the branded thumbnail of every video with a selection (kept when up to date)."""
    from workspace import SELECTION_FILE, workspace_dir

    name = require_known_template(template)
    videos = input_videos()
    chosen = [video for video in videos if (workspace_dir(video) / SELECTION_FILE).is_file()]
    waiting = [video.name for video in videos if video not in chosen]
    if waiting:
        console.print(
            f"Skipping {len(waiting)} video(s) without a chosen thumbnail (`{BATCH} "
            f"select`; after `prepare` and `rank`): {', '.join(waiting)}",
        )

    print_summary("enhance", run_stage("Enhancing", chosen, enhance_action(name)))


@app.command()
def brand() -> None:
    """Make every prepared video's branded copy: the titles (VIDEO_TITLES), the logo burned in
    (VIDEO_WATERMARK=burn); `upload` sends it instead of the source."""
    from workspace import METADATA_FILE, workspace_dir

    videos = input_videos()
    prepared = [video for video in videos if (workspace_dir(video) / METADATA_FILE).is_file()]
    skip_note(videos, prepared, f"not prepared yet (run `{BATCH} prepare` first)")
    print_summary("brand", run_stage("Branding", prepared, brand_action()))


@app.command("preview-templates")
def preview_templates(
    out: Path = typer.Option(..., "--out", help="Folder to write the contact sheet into."),
) -> None:
    """Render every template for sample matches into one contact-sheet PNG, to choose one."""
    from thumbnail_enhancement import available_templates, write_contact_sheet

    try:
        sheet = write_contact_sheet(out)
    except PipelineError as error:
        raise fail(for_batch(error), 2) from None
    console.print(
        f"Wrote {sheet}: {', '.join(available_templates())} for short names, long Vietnamese "
        "names, four players a team and a 40-character tournament. Choose one with "
        "THUMBNAIL_TEMPLATE."
    )


def skip_note(videos: list[Path], kept: list[Path], why: str) -> None:
    skipped = [video.name for video in videos if video not in kept]
    if skipped:
        console.print(f"Skipping {len(skipped)} video(s) {why}: {', '.join(skipped)}")


@app.command()
def auth() -> None:
    """Authorize YouTube uploads: prints Google's consent URL, saves the token with mode 0600."""
    from uploader import run_auth_flow, token_authorized_at, validate_auth

    try:
        run_auth_flow()
        validate_auth()
    except PipelineError as error:
        raise fail(for_batch(error)) from None
    console.print(
        f"Authorized: uploads can go to the channel (token in "
        f"{get_settings().youtube_token_file}).",
        style="green",
    )
    if authorized_at := token_authorized_at():
        console.print(token_rule_note(authorized_at, get_settings().cafe_timezone), style="yellow")


@app.command()
def upload() -> None:
    """Publish every enhanced video to UPLOAD_TARGET (on YouTube: private until the thumbnail)."""
    from workspace import THUMBNAIL_FILE, workspace_dir

    require_upload_auth("Nothing was done.", for_batch)
    videos = input_videos()
    ready = [video for video in videos if (workspace_dir(video) / THUMBNAIL_FILE).is_file()]
    skip_note(videos, ready, f"without a thumbnail (run `{BATCH} enhance` first)")
    print_summary("upload", run_stage("Uploading", ready, upload_action(), unit="bytes"))


@app.command()
def cleanup() -> None:
    """Archive every published video and its workspace in COMPLETED_DIR (or CLEANUP_MODE=keep)."""
    from uploader import load_upload_record

    def is_published(video: Path) -> bool:
        try:
            record = load_upload_record(video)
        except PipelineError:
            return True  # damaged: cleanup refuses it with the same message, in the summary
        return record is not None and record.published

    videos = input_videos()
    published = [video for video in videos if is_published(video)]
    skip_note(videos, published, f"not published yet (run `{BATCH} upload` first)")
    print_summary("cleanup", run_stage("Cleaning up", published, cleanup_action()))


@dataclass
class AllStage:
    label: str
    action: StageAction
    # which of the videos still going this stage runs on; the others pass it as they are
    wanted: Callable[[Path], bool] = lambda video: True
    unit: str = ""


@app.command("all")
def run_all(
    pick: int = typer.Option(
        None, "--pick", min=1, max=9, help="Choose rank N for every video, without a window."
    ),
) -> None:
    """Prepare, rank, select, enhance, brand, upload and clean up every video, in the café's
    order."""
    from workspace import SELECTION_FILE, workspace_dir

    def unselected(video: Path) -> bool:
        return not (workspace_dir(video) / SELECTION_FILE).is_file()

    settings = get_settings()
    videos = input_videos()
    if pick is None and any(unselected(video) for video in videos):
        require_display_or_exit()
    template = require_known_template(None)
    require_upload_auth("Nothing was done.", for_batch)
    stages = {
        "prepare": AllStage("Preparing", prepare_action()),
        # a video already chosen keeps its choice: ranking again would replace its candidates
        "rank": AllStage("Ranking", rank_action(settings.top_ranked_candidates_num), unselected),
        "select": AllStage("Selecting", select_action(pick), unselected),
        "enhance": AllStage("Enhancing", enhance_action(template)),
        "brand": AllStage("Branding", brand_action()),
        "upload": AllStage("Uploading", upload_action(), unit="bytes"),
        "cleanup": AllStage("Cleaning up", cleanup_action()),
    }
    going = list(videos)
    results = {video: Outcome(video.name, True, "") for video in videos}
    # A video that fails a stage stops there; the others go on.
    for name, stage in stages.items():
        todo = [video for video in going if stage.wanted(video)]
        for video, outcome in zip(
            todo, run_stage(stage.label, todo, stage.action, stage.unit), strict=True
        ):
            if outcome.ok and name in ("upload", "cleanup"):
                results[video].summary = "; ".join(
                    filter(None, [results[video].summary, outcome.summary])
                )
            elif not outcome.ok:
                results[video] = Outcome(video.name, False, f"{name}: {outcome.summary}")
                going.remove(video)
        if name == "select":
            for video in [video for video in going if unselected(video)]:
                results[video] = Outcome(
                    video.name, False, f"no thumbnail chosen; run `{BATCH} all` again"
                )
                going.remove(video)
    print_summary("all", [results[video] for video in videos])


if __name__ == "__main__":
    app(prog_name=BATCH)
