"""`pending` and `status` rendered: pure functions from the operator API's dataclasses to lines
and to JSON rows, in the café's time zone (`zone`) and at the time `now`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from operator_cli.lines import (
    Block,
    Line,
    TableBlock,
    format_wait,
    hold_line,
    host_down_line,
    host_text,
    local_time,
)
from operator_cli.remedies import CLI, failure_text, hold_text
from temporal.client import (
    ChangesWindow,
    HeldVideo,
    HostState,
    PlaylistState,
    RetryingActivity,
    VideoDetail,
    WaitingVideo,
    WorkflowSummary,
    branding_percent,
)
from temporal.messages import (
    BRANDING,
    FILE_REFUSED,
    FILE_WAITING,
    WAITING_FOR_SELECTION,
    InboxFile,
    VideoStatus,
)

Hosts = dict[tuple[str, str], HostState]

PENDING_HINT = f"Choose with: {CLI} select <number, file name or id>; without one: each in turn"


def pending_lines(
    waiting: list[WaitingVideo], held: list[HeldVideo], hosts: Hosts, zone: tzinfo, now: datetime
) -> list[Line]:
    """The videos waiting for a choice, then those held, numbered from 1 in that order."""
    if not waiting:
        lines = [Line("No video is waiting for a thumbnail choice.")]
    else:
        lines = [Line("Waiting for a thumbnail choice:")]
        for number, video in enumerate(waiting, 1):
            host = host_text(video.host, hosts.get((video.task_queue, video.host)))
            lines.append(
                Line(
                    f"  {number}. {video.video_file} | host: {host} | waiting "
                    f"{format_wait(video.waiting_since, now)} | {video.workflow_id}"
                )
            )
        lines.append(Line(PENDING_HINT))
    if held:
        lines.append(Line("Waiting for a person or for YouTube's quota:"))
        for number, video in enumerate(held, len(waiting) + 1):
            host = host_text(video.host, hosts.get((video.task_queue, video.host)))
            lines.append(
                Line(
                    f"  {number}. {video.video_file} | host: {host} | "
                    f"{hold_line(video.hold, zone)} | {video.workflow_id}\n"
                    f"    {hold_text(video.hold, video.workflow_id, video.host)}"
                )
            )
        lines.append(Line(f"Go on now (once fixed): {CLI} retry <number, file name or id>"))
    return lines


NOT_STARTED = {
    FILE_REFUSED: "Not started, a person must fix the file (it starts once fixed):",
    FILE_WAITING: "Waiting for the copy to end (it starts by itself):",
}


def inbox_lines(files: list[InboxFile]) -> list[Line]:
    """The hosts' files that did not start: refused ones with what to do, then copies going on."""
    lines = []
    for kind, heading in NOT_STARTED.items():
        of_kind = [file for file in files if file.kind == kind]
        if of_kind:
            lines.append(Line(heading, "red" if kind == FILE_REFUSED else "yellow"))
            lines += [
                Line(f"  - {file.file} | host: {file.host} | {file.problem}") for file in of_kind
            ]
    return lines


def inbox_file_lines(file: InboxFile) -> list[Line]:
    """`status <file>` of a file that did not start."""
    refused = file.kind == FILE_REFUSED
    state = "not started" if refused else "waiting for the copy to end"
    lines = [
        Line(f"{file.file}: {state} (host {file.host})", "red" if refused else "yellow"),
        Line(f"  {file.problem}"),
    ]
    return lines + ([Line(f"  at {file.path}")] if file.path else [])


def inbox_json(files: list[InboxFile]) -> list[dict[str, Any]]:
    return [
        {
            "number": None,
            "video": file.file,
            "host": file.host,
            "state": file.kind,
            "path": file.path,
            "reason": file.problem,
        }
        for file in files
    ]


def pending_json(waiting: list[WaitingVideo], held: list[HeldVideo]) -> list[dict[str, Any]]:
    rows = [
        {
            "number": number,
            "workflow_id": video.workflow_id,
            "video": video.video_file,
            "host": video.host,
            "stage": WAITING_FOR_SELECTION,
            "waiting_since": video.waiting_since.isoformat() if video.waiting_since else None,
        }
        for number, video in enumerate(waiting, 1)
    ]
    return rows + [
        {
            "number": number,
            "workflow_id": video.workflow_id,
            "video": video.video_file,
            "host": video.host,
            "stage": video.hold.video_stage,
            "waiting_since": video.hold.since,
            "retry_at": video.hold.retry_at,
            "reason": hold_text(video.hold, video.workflow_id, video.host),
        }
        for number, video in enumerate(held, len(waiting) + 1)
    ]


def detail_lines(detail: VideoDetail, zone: tzinfo) -> list[Block]:
    """One video in detail: what the server knows, then what its workflow says."""
    status = detail.status
    name = detail.video_file or (Path(status.video_path).name if status else "")
    title = f"{name} " if name else ""
    branding = branding_percent(status) if status else None
    blocks: list[Block] = [
        Line(f"{title}({detail.workflow_id}): {detail.execution_status.name}"),
        Line(f"  stage: {with_branding(detail.stage, branding)}"),
    ]
    if detail.host:
        blocks.append(Line(f"  host: {detail.host}"))
    if detail.host_state is not None and detail.host_state.running is False:
        blocks.append(Line(f"  {host_down_line(detail.host_state, zone)}", "yellow"))
    if detail.unanswered:
        blocks.append(Line(f"  the workflow could not answer: {detail.unanswered}", "red"))
    elif status is None:
        blocks.append(
            Line(
                f"  (no worker answered: start one with `{CLI} worker` for the candidates and "
                "progress)"
            )
        )
    else:
        blocks += status_lines(status)
    hold = (status.hold if status and detail.running else None) or detail.hold
    if hold:
        blocks.append(Line(f"  {hold_line(hold, zone)}", "yellow"))
        blocks.append(Line(f"  {hold_text(hold, detail.workflow_id, detail.host)}", "yellow"))
    blocks += [Line(f"  {retrying_line(each, zone)}", "yellow") for each in detail.retrying]
    if detail.failure:
        blocks.append(Line(f"  failed: {failure_text(detail.failure)}", "red"))
    if detail.cancel_reason:
        blocks.append(Line(f"  cancelled: {detail.cancel_reason}", "yellow"))
    if detail.playlist:
        added = detail.playlist.added
        blocks.append(
            Line(
                f"  {playlist_line(detail.playlist, detail.workflow_id)}",
                None if added else "yellow",
            )
        )
    if window := detail.changes:
        blocks.append(Line(f"  {changes_line(window, detail.video_file, zone)}"))
    return blocks


def playlist_line(state: PlaylistState, workflow_id: str) -> str:
    """A video published without the playlist YouTube refused: why, and how its retry goes."""
    if state.added:
        into = f" {state.playlist!r}" if state.playlist else ""
        return f"playlist: added since to its playlist{into} (first {state.problem})"
    line = f"published, but {state.problem}"
    if state.retry == WorkflowExecutionStatus.RUNNING:
        return f"{line}; adding it again now"
    if state.retry_failure is not None:
        line += f"; the last retry failed: {failure_text(state.retry_failure)}"
    return f"{line}. Once fixed: {CLI} retry {workflow_id}"


def changes_line(window: ChangesWindow, video_file: str, zone: tzinfo) -> str:
    """The live thumbnail of a published video, and until when `select` changes it."""
    changed = f", changed {window.changes_made}x" if window.changes_made else ""
    until = local_time(window.closes_at, zone)
    if window.open:
        return (
            f"thumbnail: rank {window.live_rank} live{changed}; `{CLI} select {video_file}` "
            f"changes it until {until}"
        )
    return f"thumbnail: rank {window.live_rank}{changed}; its window for changes closed {until}"


def status_lines(status: VideoStatus) -> list[Block]:
    """What the workflow said of itself."""
    blocks: list[Block] = []
    if status.title:
        blocks.append(Line(f"  title: {status.title}"))
    if status.progress:
        blocks.append(Line(f"  progress: {status.progress.activity} {status.progress.percent}%"))
    blocks += branding_lines(status)
    if status.candidates:
        rows = [
            (str(c.rank), c.id, f"{c.score:.2f}", f"{c.timestamp:.1f}s") for c in status.candidates
        ]
        blocks.append(TableBlock(("rank", "id", "score", "time"), rows))
    if status.selected_candidate_id:
        again = " (kept from the failed run)" if status.choice_reused else ""
        blocks.append(Line(f"  chosen: {status.selected_candidate_id}{again}"))
    if status.rejected_selection:
        blocks.append(Line(f"  last rejected choice: {status.rejected_selection.reason}"))
    if status.published:
        blocks.append(Line(f"  published: {status.published.url or status.published.video_id}"))
        if status.published.publish_at:
            blocks.append(Line(f"  goes public at: {status.published.publish_at}"))
    return blocks


def with_branding(stage: str, percent: int | None) -> str:
    """`WAITING_FOR_SELECTION · BRANDING 40%`: the branded copy made beside the stage shown."""
    return stage if percent is None else f"{stage} · {BRANDING} {percent}%"


def branding_lines(status: VideoStatus) -> list[Block]:
    branding = status.branding
    if branding is None:
        return []
    if branding.problem:
        return [Line(f"  branding stopped: {branding.problem}", "yellow")]
    made = branding.made
    if made is None:
        return []
    if not made.method:
        return [Line("  branding: none asked for (VIDEO_TITLES=off): the source is published")]
    how = "titles spliced in" if made.method == "spliced" else f"full pass ({made.encoder})"
    why = f"; {made.reason}" if made.reason else ""
    return [Line(f"  branded copy: made, {how}{why}")]


def retrying_line(retrying: RetryingActivity, zone: tzinfo) -> str:
    """`retrying UPLOADING: attempt 3 (no limit), next at ...; last failure: ...`"""
    limit = f"of {retrying.maximum_attempts}" if retrying.maximum_attempts else "(no limit)"
    when = ""
    if retrying.next_attempt_at is not None:
        when = f", next at {local_time(retrying.next_attempt_at, zone)}"
    return (
        f"retrying {retrying.stage}: attempt {retrying.attempt} {limit}{when}; "
        f"last failure: {retrying.last_failure}"
    )


def detail_json(detail: VideoDetail) -> dict[str, Any]:
    row = asdict(detail)
    row["execution_status"] = detail.execution_status.name
    row["failure"] = failure_text(detail.failure) if detail.failure else None
    return row


def problem_of(summary: WorkflowSummary, zone: tzinfo) -> str:
    if summary.host_state is not None and summary.host_state.running is False:
        return host_down_line(summary.host_state, zone)
    if hold := summary.hold:
        return f"{hold_line(hold, zone)}: {hold_text(hold, summary.workflow_id, summary.host)}"
    if summary.failure:
        return failure_text(summary.failure)
    if summary.playlist and not summary.playlist.added:
        return playlist_line(summary.playlist, summary.workflow_id)
    return f"cancelled: {summary.cancel_reason}" if summary.cancel_reason else ""


def recent_lines(summaries: list[WorkflowSummary], zone: tzinfo, now: datetime) -> list[Block]:
    """A table when the terminal is wide enough for it, else a block per video; either way a
    workflow id stays whole on its line, to be copied. Then each video's problem."""
    if not summaries:
        return [Line(f"No workflows yet: `{CLI} start` queues the videos.")]
    rows = []
    for summary in summaries:
        stage = summary.stage
        if summary.progress_percent is not None:
            stage = f"{stage} {summary.progress_percent}%"
        stage = with_branding(stage, summary.branding_percent)
        age = format_wait(summary.started_at, now) if summary.started_at else "-"
        host = host_text(summary.host, summary.host_state)
        rows.append(
            (str(summary.number or ""), summary.video_file, host, stage, age, summary.workflow_id)
        )
    narrow = []
    for number, video, host, stage, age, workflow_id in rows:
        mark = f"{number}. " if number else ""
        narrow += [Line(f"{mark}{video}: {stage}, {age}, host {host}"), Line(f"  {workflow_id}")]
    blocks: list[Block] = [
        TableBlock(("#", "video", "host", "stage", "age", "workflow id"), rows, narrow)
    ]
    for summary in summaries:
        if problem := problem_of(summary, zone):
            blocks.append(Line(f"{summary.workflow_id}: {problem}", "yellow"))
    return blocks


def recent_json(summaries: list[WorkflowSummary]) -> list[dict[str, Any]]:
    rows = []
    for summary in summaries:
        row = asdict(summary)
        row["execution_status"] = summary.execution_status.name
        row["started_at"] = summary.started_at.isoformat() if summary.started_at else None
        row["failure"] = (
            failure_text(summary.failure)
            if summary.failure
            else (f"cancelled: {summary.cancel_reason}" if summary.cancel_reason else None)
        )
        rows.append(row)
    return rows
