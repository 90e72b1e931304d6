"""Recording a choice, the headless --pick, the no-display message and `main.py select --pick`."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from chooser_window.images import load_images
from remedies import for_batch
from sample_clips import Segment, encode_clip
from tests.selector_support import REPO, python_path, ranked_video, write_candidate_frames
from thumbnail_selector import (
    CandidateImageError,
    NoDisplayError,
    RankOutOfRangeError,
    SelectableCandidate,
    SelectionFileError,
    UnknownCandidateError,
    choose,
    load_selection,
    pick_by_rank,
    record_selection,
)
from workspace import CANDIDATES_DIR, SELECTED_IMAGE, SELECTION_FILE, workspace_dir


@pytest.fixture
def video(env: Path) -> Path:
    return ranked_video(env / "videos", "md_NhozVinhvsKhanhzLeo.mp4")


def candidate_file(video: Path, rank: int) -> Path:
    return next((workspace_dir(video) / CANDIDATES_DIR).glob(f"{rank:02d}_*.jpg"))


def test_record_selection_copies_the_candidate_and_writes_the_record(video: Path) -> None:
    selection = record_selection(video, f"{video.stem}-02")
    directory = workspace_dir(video)
    assert (directory / SELECTED_IMAGE).read_bytes() == candidate_file(video, 2).read_bytes()
    record = json.loads((directory / SELECTION_FILE).read_text())
    assert record == {
        "candidate_id": f"{video.stem}-02",
        "rank": 2,
        "timestamp": 25.0,
        "selected_at": record["selected_at"],
        "players": None,  # candidates ranked before people were found: the centre crop
        "crops": {},
    }
    assert datetime.fromisoformat(record["selected_at"]).tzinfo is not None
    assert load_selection(video) == selection
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith(".")) == []


def test_no_candidate_id_records_the_top_ranked(video: Path) -> None:
    assert record_selection(video, None).rank == 1
    assert (workspace_dir(video) / SELECTED_IMAGE).read_bytes() == candidate_file(
        video, 1
    ).read_bytes()


def test_recording_the_same_choice_again_keeps_it_and_a_new_choice_replaces_it(
    video: Path,
) -> None:
    first = record_selection(video, f"{video.stem}-03")
    record = workspace_dir(video) / SELECTION_FILE
    written = record.stat().st_mtime_ns
    assert record_selection(video, f"{video.stem}-03") == first
    assert record.stat().st_mtime_ns == written

    changed = record_selection(video, f"{video.stem}-05")
    assert changed.rank == 5 and load_selection(video) == changed
    assert (workspace_dir(video) / SELECTED_IMAGE).read_bytes() == candidate_file(
        video, 5
    ).read_bytes()


def test_an_unknown_candidate_is_refused_naming_the_valid_ones(video: Path) -> None:
    with pytest.raises(UnknownCandidateError) as refused:
        record_selection(video, "other-video-01")
    message = str(refused.value)
    assert "not one of this video's candidates" in message
    assert video.name in message and f"{video.stem}-01" in message and "\n" not in message
    assert not (workspace_dir(video) / SELECTION_FILE).exists()
    assert not (workspace_dir(video) / SELECTED_IMAGE).exists()


def test_a_missing_candidate_image_says_to_rank_again(video: Path) -> None:
    candidate_file(video, 4).unlink()
    with pytest.raises(CandidateImageError, match=r"04_") as error:
        record_selection(video, f"{video.stem}-04")
    assert "run `python main.py rank`" in for_batch(error.value)
    assert load_selection(video) is None


def test_a_damaged_selection_file_is_a_clear_error(video: Path) -> None:
    (workspace_dir(video) / SELECTION_FILE).write_text('{"candidate_id": "x"')
    with pytest.raises(SelectionFileError, match="delete it"):
        load_selection(video)


def test_pick_by_rank_is_the_headless_choice(video: Path) -> None:
    from thumbnail_ranking import load_candidates

    candidates = load_candidates(video)
    assert pick_by_rank(candidates, 4) == f"{video.stem}-04"
    selectable = [SelectableCandidate.from_ranked(c, "template_b") for c in candidates]
    assert selectable[2].image == candidate_file(video, 3)
    assert pick_by_rank(selectable, 1) == f"{video.stem}-01"
    with pytest.raises(RankOutOfRangeError, match=r"--pick 9: .*one of 1-6"):
        pick_by_rank(candidates, 9)


def has_xlib() -> bool:
    try:
        ctypes.CDLL("libX11.so.6")
    except OSError:
        return False
    return True


ONE_CANDIDATE = [SelectableCandidate("a", 1, 0.5, 1.0, np.zeros((90, 160, 3), np.uint8))]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY is X11's, on Linux")
def test_choose_without_a_display_says_to_use_pick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(NoDisplayError, match=r"DISPLAY is not set.*--pick N"):
        choose(ONE_CANDIDATE, "clip.mp4")


# without libX11 the check cannot run, and Qt would abort this whole test process instead
@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not has_xlib(),
    reason="the display check is X11's: Linux with libX11 (apt-get install libx11-6)",
)
def test_choose_on_an_unreachable_display_says_to_use_pick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unused = next(n for n in range(600, 700) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    monkeypatch.setenv("DISPLAY", f":{unused}")
    with pytest.raises(NoDisplayError, match=rf"cannot connect to DISPLAY=:{unused}.*--pick"):
        choose(ONE_CANDIDATE, "clip.mp4")


def test_choose_takes_one_to_nine_candidates() -> None:
    many = [
        SelectableCandidate(str(i), i, 0.5, 1.0, np.zeros((9, 16, 3), np.uint8)) for i in range(10)
    ]
    with pytest.raises(ValueError, match="1 to 9"):
        choose(many, "clip.mp4")
    with pytest.raises(ValueError, match="1 to 9"):
        choose([], "clip.mp4")


def test_images_are_decoded_no_larger_than_needed(tmp_path: Path) -> None:
    frame = write_candidate_frames(tmp_path, 1, size=(1920, 1080))[0]
    candidate = SelectableCandidate("a", 1, 0.5, 1.0, frame)
    widths = {wanted: load_images([candidate], wanted)[0].shape[1] for wanted in (400, 700, 1500)}
    assert widths == {400: 480, 700: 960, 1500: 1920}
    full = cv2.imread(str(frame))
    reduced = load_images([candidate], 700)[0]
    difference = cv2.absdiff(cv2.resize(full, (960, 540), interpolation=cv2.INTER_AREA), reduced)
    assert difference.mean() < 3  # the same picture
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    for image in (broken, tmp_path / "missing.jpg"):
        with pytest.raises(CandidateImageError, match=image.name):
            load_images([SelectableCandidate("b", 1, 0.5, 1.0, image)], 700)


def test_jpeg_bytes_are_decoded_in_memory_and_bad_bytes_name_the_candidate(
    tmp_path: Path,
) -> None:
    frame = write_candidate_frames(tmp_path, 1, size=(1920, 1080))[0]
    data = frame.read_bytes()
    frame.unlink()  # the bytes are all the chooser has
    from_bytes = load_images([SelectableCandidate("a", 1, 0.5, 1.0, data)], 700)[0]
    expected = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_2)
    assert np.array_equal(from_bytes, expected)  # decoded reduced, as from a file
    for broken in (b"not a jpeg", b"", data[:60]):
        with pytest.raises(CandidateImageError, match=r"^candidate b \(rank 2\): ") as error:
            load_images([SelectableCandidate("b", 2, 0.5, 1.0, broken)], 700)
        assert "run `python main.py rank`" in for_batch(error.value)


def test_a_candidate_does_not_print_its_bytes() -> None:
    candidate = SelectableCandidate("a", 1, 0.5, 1.0, b"\xff\xd8" + bytes(40_000))
    assert len(repr(candidate)) < 100


def run_main(*args: str, display: str | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    if display:
        environment["DISPLAY"] = display
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        env={**environment, "PYTHONPATH": python_path(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_select_pick_chooses_for_every_ranked_video_without_a_selection(env: Path) -> None:
    done = ranked_video(env / "videos", "ms_HuyvsViet.mp4")
    first_choice = record_selection(done, None)
    waiting = ranked_video(env / "videos", "xd_KhanhzVyvsZezTram.mp4", count=4)
    encode_clip(env / "videos" / "wd_NotRanked.mp4", [Segment("rally", 1.0)], size=(320, 180))

    result = run_main("select", "--pick", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert load_selection(waiting).candidate_id == f"{waiting.stem}-02"
    assert load_selection(done) == first_choice
    assert "chose #2" in result.stdout
    assert load_selection(env / "videos" / "wd_NotRanked.mp4") is None

    again = run_main("select", "--pick", "2")
    assert again.returncode == 0 and "Nothing to select" in again.stdout


def test_select_pick_beyond_the_candidates_fails_that_video_in_one_line(video: Path) -> None:
    result = run_main("select", "--pick", "8")
    assert result.returncode == 1
    assert "no candidate has rank 8; pick one of 1-6" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert load_selection(video) is None


def test_select_without_a_display_says_to_use_pick(video: Path) -> None:
    result = run_main("select")
    assert result.returncode == 2
    assert "DISPLAY is not set" in result.stdout and "--pick N" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert load_selection(video) is None


def test_the_large_view_shows_the_candidate_as_its_thumbnail_frames_it() -> None:
    from chooser_window.drawing import Scene
    from chooser_window.layout import layout

    picture = np.zeros((360, 640, 3), np.uint8)
    picture[:, 320:] = 255  # black on the left, white on the right
    framed = SelectableCandidate("a", 1, 0.9, 1.0, picture, crop=(0.5, 0.0, 1.0, 1.0))
    whole = SelectableCandidate("b", 2, 0.8, 2.0, picture)
    where = layout(2, (1280, 720))
    scene = Scene(where, "md_AvsB.mp4", [framed, whole], [picture, picture])

    shown = scene.preview(0)
    width = where.preview.width
    letterboxed = shown[:, (width - where.preview.height * 320 // 360) // 2 + 2 :][:, :-4]
    picture_part = letterboxed[:, : where.preview.height * 320 // 360 - 4]
    assert picture_part.min() > 200, "only the right half, the thumbnail's part, is shown"
    assert scene.preview(1)[:, : width // 2 - 2].max() < 50, "without a crop: the whole frame"
