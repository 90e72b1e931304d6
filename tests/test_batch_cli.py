"""`python main.py prepare` and `rank` run as a person runs them: a real process, a real terminal
for the progress display, settings from the environment, real clips in INPUT_DIR."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sample_clips import Segment, encode_clip

REPO = Path(__file__).resolve().parent.parent
MAIN = REPO / "main.py"
TERMINAL_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# wide enough that a summary row never wraps; a narrow terminal wraps the table's cells
COLUMNS = 300
MATCH = (Segment("empty", 1), Segment("rally", 3), Segment("walking", 1), Segment("rally", 2))
GOOD_FIRST = "md_AnzBinhvsCuongzDat.mp4"
GOOD_LAST = "ms_HuyvsViet_Tour HCM.mp4"


@pytest.fixture(scope="module")
def match_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-clips")
    recorded = datetime(2024, 12, 25, 10, 0, tzinfo=UTC)
    return encode_clip(folder / "match.mp4", MATCH, gop_seconds=0.5, creation_time=recorded)


@pytest.fixture
def cafe(tmp_path: Path) -> Path:
    """The café's folders: videos/ is INPUT_DIR, the rest lands beside it."""
    (tmp_path / "videos").mkdir()
    return tmp_path


def settings_env(root: Path, **settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "APP_ENV"}
    env.update(
        INPUT_DIR=str(root / "videos"),
        WORKSPACE_DIR=str(root / "workspace"),
        COMPLETED_DIR=str(root / "completed"),
        PUBLISH_DIR=str(root / "published"),
        TEMPORAL_DATA_DIR=str(root / "temporal"),
        TZ="ICT-7",
    )
    env.update(settings)
    return env


def run_cli(root: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MAIN), *args],
        cwd=root,
        env={**settings_env(root, **settings), "COLUMNS": str(COLUMNS)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_in_terminal(root: Path, *args: str, **settings: str) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal, as in a person's shell; (exit code, text shown)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, COLUMNS, 0, 0))
    env = {**settings_env(root, **settings), "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    process = subprocess.Popen(
        [sys.executable, str(MAIN), *args],
        cwd=root,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    shown = bytearray()
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    return code, TERMINAL_ESCAPES.sub("", shown.decode("utf-8", "replace"))


def add_video(root: Path, source: Path, name: str) -> Path:
    return Path(shutil.copy2(source, root / "videos" / name))


def add_truncated_video(root: Path, source: Path, name: str) -> Path:
    data = source.read_bytes()
    target = root / "videos" / name
    target.write_bytes(data[: len(data) // 2])
    return target


def lines_naming(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if name in line]


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


# -- prepare ------------------------------------------------------------------------------------


def test_prepare_shows_progress_and_a_summary_and_exits_zero(cafe: Path, match_clip: Path) -> None:
    add_video(cafe, match_clip, GOOD_FIRST)
    add_video(cafe, match_clip, GOOD_LAST)

    code, shown = run_in_terminal(cafe, "prepare")

    assert code == 0, shown
    assert re.search(r"Preparing .*0/2", shown), f"no progress bar in:\n{shown}"
    assert re.search(r"Preparing .*2/2", shown)
    summary = shown[shown.rindex("prepare") :]
    assert "An/Binh vs Cuong/Dat | Cafe Game (25 Dec 2024)" in summary
    assert "Huy vs Viet | Tour HCM (25 Dec 2024)" in summary
    assert "failed" not in summary
    for name in (GOOD_FIRST, GOOD_LAST):
        assert (cafe / "workspace" / name / "metadata.json").is_file()


def test_prepare_reports_each_bad_video_in_one_line_and_prepares_the_rest(
    cafe: Path, match_clip: Path
) -> None:
    add_video(cafe, match_clip, GOOD_FIRST)
    add_truncated_video(cafe, match_clip, "md_BrokenzFilevsCuongzDat.mp4")
    (cafe / "videos" / "md_EmptyzFilevsCuongzDat_[final].mov").write_bytes(b"")
    add_video(cafe, match_clip, "mdx_court 2.mp4")
    add_video(cafe, match_clip, GOOD_LAST)

    result = run_cli(cafe, "prepare")

    assert result.returncode == 1
    assert_no_traceback(result)
    expected = {
        "md_BrokenzFilevsCuongzDat.mp4": ("cut off (missing index)", "copy it again"),
        # brackets shown as they are, not taken for markup
        "md_EmptyzFilevsCuongzDat_[final].mov": ("empty (0 bytes)", "copy the recording again"),
        "mdx_court 2.mp4": ("is not one of ms, md, ws, wd, xd", "rename it as {type}_{team1}"),
    }
    for name, (problem, fix) in expected.items():
        lines = lines_naming(result.stdout, name)
        assert len(lines) == 1, f"{name} must take one line:\n{result.stdout}"
        assert "✗" in lines[0] and problem in lines[0] and fix in lines[0]
        assert not (cafe / "workspace" / name).exists()
    for name in (GOOD_FIRST, GOOD_LAST):
        assert "✓" in lines_naming(result.stdout, name)[0]
        assert (cafe / "workspace" / name / "metadata.json").is_file()
    assert "3 of 5 video(s) failed." in result.stdout


def test_missing_input_dir_is_explained(cafe: Path) -> None:
    missing = cafe / "camera"

    result = run_cli(cafe, "prepare", INPUT_DIR=str(missing))

    assert result.returncode == 2
    assert_no_traceback(result)
    assert f"INPUT_DIR {missing} does not exist" in result.stdout
    assert "create the folder" in result.stdout
    assert not missing.exists()


def test_empty_input_dir_says_so_and_succeeds(cafe: Path) -> None:
    (cafe / "videos" / "notes.txt").write_text("court 2 booked at 7")

    result = run_cli(cafe, "prepare")

    assert result.returncode == 0
    assert f"No videos (.mov .mp4 .m4v .mkv) in {cafe / 'videos'}" in result.stdout


def test_invalid_settings_stop_the_cli_with_one_message(cafe: Path) -> None:
    result = run_cli(cafe, "prepare", TOP_RANKED_CANDIDATES_NUM="12", VIDEO_PRIVACY_STATUS="secret")

    assert result.returncode == 2
    assert_no_traceback(result)
    assert "Invalid configuration" in result.stdout
    assert "TOP_RANKED_CANDIDATES_NUM='12'" in result.stdout
    assert "VIDEO_PRIVACY_STATUS='secret'" in result.stdout
    assert not (cafe / "workspace").exists()


# -- rank ---------------------------------------------------------------------------------------


def stored_candidates(root: Path, name: str) -> list[dict[str, object]]:
    workspace = root / "workspace" / name
    manifest = json.loads((workspace / "candidates.json").read_text(encoding="utf-8"))
    for entry in manifest["candidates"]:
        assert (workspace / str(entry["file"])).is_file()
    return manifest["candidates"]


def test_rank_keeps_top_n_and_skips_a_bad_video(cafe: Path, match_clip: Path) -> None:
    add_truncated_video(cafe, match_clip, "md_BrokenzFilevsCuongzDat.mp4")
    add_video(cafe, match_clip, GOOD_LAST)

    result = run_cli(cafe, "rank", "--top-n", "3")

    assert result.returncode == 1
    assert_no_traceback(result)
    broken = lines_naming(result.stdout, "md_BrokenzFilevsCuongzDat.mp4")
    assert len(broken) == 1 and "cut off (missing index)" in broken[0]
    good = lines_naming(result.stdout, GOOD_LAST)
    assert "✓ 3 candidates, best at" in good[0]
    assert len(stored_candidates(cafe, GOOD_LAST)) == 3
    assert len(list((cafe / "workspace" / GOOD_LAST / "candidates").iterdir())) == 3
    assert "1 of 2 video(s) failed." in result.stdout


def test_rank_shows_progress_and_keeps_the_configured_number(cafe: Path, match_clip: Path) -> None:
    add_video(cafe, match_clip, GOOD_FIRST)

    code, shown = run_in_terminal(cafe, "rank", TOP_RANKED_CANDIDATES_NUM="2")

    assert code == 0, shown
    assert re.search(r"Ranking .*0/1", shown), f"no progress bar in:\n{shown}"
    assert "2 candidates, best at" in shown
    assert len(stored_candidates(cafe, GOOD_FIRST)) == 2


def test_rank_refuses_a_top_n_beyond_nine(cafe: Path) -> None:
    result = run_cli(cafe, "rank", "--top-n", "12")

    assert result.returncode == 2
    assert "--top-n" in result.stdout + result.stderr
    assert not (cafe / "workspace").exists()
