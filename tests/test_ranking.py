"""Thumbnail ranking on real encoded clips: quality, orientation, formats, storage, ids."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

import config
from errors import PipelineError
from remedies import for_batch
from sample_clips import DEFAULT_SEGMENTS, Segment, encode_clip
from thumbnail_ranking import (
    Candidate,
    CandidatesMissingError,
    load_candidates,
    pipeline,
    rank_and_store_top_candidates,
)
from thumbnail_ranking.metrics import difference_hash, hash_distance
from thumbnail_ranking.pipeline import (
    DUPLICATE_MAX_DISTANCE,
    CandidatesUnreadableError,
    NothingVisibleError,
)
from workspace import CANDIDATES_DIR, CANDIDATES_FILE, workspace_dir

QUALITY_SEGMENTS = (
    Segment("black", 2),
    Segment("pan_blur", 3),
    Segment("empty", 3),
    Segment("walking", 3),
    Segment("rally", 3),
    Segment("overexposed", 3),
    Segment("black", 2),
)


def segment_at(segments: Sequence[Segment], seconds: float) -> str:
    end = 0.0
    for segment in segments:
        end += segment.seconds
        if seconds < end:
            return segment.kind
    return segments[-1].kind


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ranking-clips")


@pytest.fixture(scope="module")
def quality_clip(clips: Path) -> Path:
    return encode_clip(clips / "md_AvsB_quality.mp4", QUALITY_SEGMENTS, gop_seconds=0.5)


def opencv_frame_at(video: Path, seconds: float) -> np.ndarray:
    """The frame a player shows at `seconds` (OpenCV applies the display rotation itself)."""
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000)
    ok, frame = capture.read()
    capture.release()
    assert ok, f"OpenCV could not read {video.name} at {seconds}s"
    return frame


def image_of(candidate: Candidate) -> np.ndarray:
    image = cv2.imread(candidate.file)
    assert image is not None, f"{candidate.file} is missing or not a JPEG"
    return image


def mean_difference(first: np.ndarray, second: np.ndarray) -> float:
    assert first.shape == second.shape
    return float(np.abs(first.astype(np.int16) - second.astype(np.int16)).mean())


def files_in_candidates_dir(video: Path) -> set[str]:
    return {path.name for path in (workspace_dir(video) / CANDIDATES_DIR).iterdir()}


def listed_files(video: Path) -> set[str]:
    return {Path(candidate.file).name for candidate in load_candidates(video)}


def test_top_candidates_come_from_the_rally_never_from_bad_footage(
    env: Path, quality_clip: Path
) -> None:
    candidates = rank_and_store_top_candidates(quality_clip, 6)

    kinds = [segment_at(QUALITY_SEGMENTS, c.timestamp) for c in candidates]
    assert kinds[0] == "rally"
    assert not {"black", "pan_blur", "overexposed"} & set(kinds)
    preference = ["rally", "walking", "empty"]
    assert kinds == sorted(kinds, key=preference.index), f"players must rank first: {kinds}"
    assert "walking" in kinds, f"people walking must beat the empty court: {kinds}"
    assert [c.rank for c in candidates] == list(range(1, len(candidates) + 1))
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
    for candidate in candidates:
        assert set(candidate.metrics) == {
            "sharpness",
            "exposure",
            "contrast",
            "colourfulness",
            "activity",
        }
        assert all(0 <= value <= 1 for value in candidate.metrics.values())
        assert 0 <= candidate.score <= 1


def test_few_good_frames_are_made_up_with_weak_ones_but_never_black_or_blown_out(
    env: Path, clips: Path
) -> None:
    segments = (
        Segment("black", 1),
        Segment("pan_blur", 2),
        Segment("rally", 5),
        Segment("overexposed", 2),
        Segment("black", 1),
    )
    video = encode_clip(clips / "mostly_bad.mp4", segments)

    candidates = rank_and_store_top_candidates(video, 6)

    kinds = [segment_at(segments, c.timestamp) for c in candidates]
    assert set(kinds) == {"rally", "pan_blur"}, kinds
    assert kinds == sorted(kinds, key=["rally", "pan_blur"].index), kinds


def test_no_two_kept_candidates_are_near_duplicates(env: Path, quality_clip: Path) -> None:
    candidates = rank_and_store_top_candidates(quality_clip, 9)

    assert len(candidates) >= 3
    hashes = [difference_hash(cv2.cvtColor(image_of(c), cv2.COLOR_BGR2GRAY)) for c in candidates]
    for (first, first_hash), (second, second_hash) in itertools.combinations(
        zip(candidates, hashes, strict=True), 2
    ):
        distance = hash_distance(first_hash, second_hash)
        assert distance > DUPLICATE_MAX_DISTANCE, (
            f"{first.timestamp}s and {second.timestamp}s are near-duplicates ({distance} bits)"
        )


def test_candidate_files_and_manifest_match_the_video(env: Path, quality_clip: Path) -> None:
    source = quality_clip.read_bytes()
    candidates = rank_and_store_top_candidates(quality_clip, 4)

    manifest = json.loads((workspace_dir(quality_clip) / CANDIDATES_FILE).read_text())
    assert manifest["video_file"] == quality_clip.name
    assert [entry["file"] for entry in manifest["candidates"]] == [
        f"{CANDIDATES_DIR}/{Path(c.file).name}" for c in candidates
    ]
    assert load_candidates(quality_clip) == candidates
    for candidate in candidates:
        assert Path(candidate.file).is_absolute()
        assert Path(candidate.file).parent == workspace_dir(quality_clip).resolve() / "candidates"
        image = image_of(candidate)
        assert image.shape == (360, 640, 3)
        assert mean_difference(image, opencv_frame_at(quality_clip, candidate.timestamp)) < 3
    assert quality_clip.read_bytes() == source


@pytest.mark.parametrize(
    ("rotation", "codec", "pix_fmt", "name"),
    [(90, "libx264", "yuv420p", "phone.mp4"), (-90, "libx265", "yuv420p10le", "iphone.mov")],
)
def test_portrait_video_gives_upright_portrait_candidates(
    env: Path, clips: Path, rotation: int, codec: str, pix_fmt: str, name: str
) -> None:
    video = encode_clip(
        clips / name, DEFAULT_SEGMENTS, rotation=rotation, codec=codec, pix_fmt=pix_fmt
    )

    candidates = rank_and_store_top_candidates(video, 3)

    assert segment_at(DEFAULT_SEGMENTS, candidates[0].timestamp) == "rally"
    for candidate in candidates:
        image = image_of(candidate)
        assert image.shape == (640, 360, 3)
        assert mean_difference(image, opencv_frame_at(video, candidate.timestamp)) < 3


def test_hevc_10_bit_video(env: Path, clips: Path) -> None:
    video = encode_clip(
        clips / "hevc10.mp4", DEFAULT_SEGMENTS, codec="libx265", pix_fmt="yuv420p10le"
    )

    candidates = rank_and_store_top_candidates(video, 3)

    assert segment_at(DEFAULT_SEGMENTS, candidates[0].timestamp) == "rally"
    for candidate in candidates:
        assert mean_difference(image_of(candidate), opencv_frame_at(video, candidate.timestamp)) < 4


def test_variable_frame_rate_timestamps_find_the_shown_frame(env: Path, clips: Path) -> None:
    video = encode_clip(clips / "vfr.mp4", DEFAULT_SEGMENTS, variable_frame_rate=True)

    candidates = rank_and_store_top_candidates(video, 3)

    assert len(candidates) == 3
    for candidate in candidates:
        assert mean_difference(image_of(candidate), opencv_frame_at(video, candidate.timestamp)) < 3


def test_large_video_candidates_are_capped_at_1920_pixels(env: Path, clips: Path) -> None:
    video = encode_clip(
        clips / "large.mp4", [Segment("rally", 2)], size=(2560, 1440), gop_seconds=1
    )

    candidates = rank_and_store_top_candidates(video, 2)

    assert {image_of(c).shape for c in candidates} == {(1080, 1920, 3)}


def test_large_videos_decoding_the_chosen_frames_again_give_the_same_candidates(
    env: Path, quality_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = [image_of(c) for c in rank_and_store_top_candidates(quality_clip, 4)]
    monkeypatch.setattr(pipeline, "SMALL_FRAMES_MAX_BYTES", 0)

    decoded_again = [image_of(c) for c in rank_and_store_top_candidates(quality_clip, 4)]

    assert len(decoded_again) == len(kept)
    for first, second in zip(kept, decoded_again, strict=True):
        assert np.array_equal(first, second)


@pytest.mark.parametrize("seconds", [1.0, 0.2])
def test_video_with_a_single_keyframe_yields_one_candidate(
    env: Path, clips: Path, seconds: float
) -> None:
    video = encode_clip(clips / f"short_{seconds}.mp4", [Segment("rally", seconds)])

    candidates = rank_and_store_top_candidates(video, 6)

    assert [(c.rank, c.timestamp) for c in candidates] == [(1, 0.0)]
    assert image_of(candidates[0]).shape == (360, 640, 3)


def test_rerun_gives_the_same_set_and_leaves_no_stale_files(env: Path, quality_clip: Path) -> None:
    first = rank_and_store_top_candidates(quality_clip, 5)
    again = rank_and_store_top_candidates(quality_clip, 5)
    assert again == first
    assert files_in_candidates_dir(quality_clip) == listed_files(quality_clip)

    fewer = rank_and_store_top_candidates(quality_clip, 2)
    assert len(fewer) == 2
    assert files_in_candidates_dir(quality_clip) == listed_files(quality_clip)
    assert len(files_in_candidates_dir(quality_clip)) == 2


def test_a_crash_while_writing_keeps_the_previous_set_whole(
    env: Path, quality_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANDIDATE_THUMBNAIL_NUM", "5")
    config.get_settings.cache_clear()
    previous = rank_and_store_top_candidates(quality_clip, 4)
    monkeypatch.setenv("CANDIDATE_THUMBNAIL_NUM", "30")
    config.get_settings.cache_clear()

    real_write = pipeline.write_jpeg
    written: list[Path] = []

    def write_two_then_fail(path: Path, image: np.ndarray) -> None:
        if len(written) >= 2:
            raise OSError("disk full")
        real_write(path, image)
        written.append(path)

    monkeypatch.setattr(pipeline, "write_jpeg", write_two_then_fail)
    with pytest.raises(OSError, match="disk full"):
        rank_and_store_top_candidates(quality_clip, 6)
    assert {Path(p).name for p in written} - listed_files(quality_clip), "nothing new was written"

    assert load_candidates(quality_clip) == previous
    for candidate in previous:
        image_of(candidate)

    monkeypatch.setattr(pipeline, "write_jpeg", real_write)
    rank_and_store_top_candidates(quality_clip, 6)
    assert files_in_candidates_dir(quality_clip) == listed_files(quality_clip)


def test_progress_is_reported_for_every_examined_frame(env: Path, quality_clip: Path) -> None:
    calls: list[tuple[int, int]] = []

    rank_and_store_top_candidates(quality_clip, 3, progress=lambda *call: calls.append(call))

    total = config.get_settings().candidate_thumbnail_num
    assert {t for _, t in calls} == {total}
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) >= total
    assert calls[-1] == (total, total)


def test_ids_differ_between_videos_with_identical_content(env: Path, quality_clip: Path) -> None:
    copy = env / "videos" / "md_CvsD_same-pictures.mp4"
    shutil.copyfile(quality_clip, copy)

    first = rank_and_store_top_candidates(quality_clip, 4)
    second = rank_and_store_top_candidates(copy, 4)

    assert [c.timestamp for c in first] == [c.timestamp for c in second]
    assert not {c.id for c in first} & {c.id for c in second}
    prefix = hashlib.sha1(quality_clip.name.encode()).hexdigest()[:6]
    assert first[0].id == f"{prefix}-{round(first[0].timestamp * 1000):08d}"


def test_loading_before_ranking_says_to_run_rank(env: Path, quality_clip: Path) -> None:
    with pytest.raises(CandidatesMissingError) as error:
        load_candidates(quality_clip)
    assert "run `python main.py rank`" in for_batch(error.value)
    assert quality_clip.name in str(error.value)
    assert "\n" not in str(error.value)


def test_a_damaged_manifest_says_to_rank_again(env: Path, quality_clip: Path) -> None:
    rank_and_store_top_candidates(quality_clip, 2)
    (workspace_dir(quality_clip) / CANDIDATES_FILE).write_text('{"candidates": [{"id": 1}]}')

    with pytest.raises(CandidatesUnreadableError) as error:
        load_candidates(quality_clip)
    assert "run `python main.py rank`" in for_batch(error.value)


def test_a_file_that_is_not_a_video_gets_a_one_line_error(env: Path) -> None:
    fake = env / "videos" / "md_AvsB.mp4"
    fake.write_bytes(b"this is not a video at all" * 100)

    with pytest.raises(PipelineError) as error:
        rank_and_store_top_candidates(fake, 6)
    assert fake.name in str(error.value)
    assert "\n" not in str(error.value)
    assert not (workspace_dir(fake) / CANDIDATES_FILE).exists()


def test_a_video_with_nothing_visible_is_refused_in_one_line(env: Path, clips: Path) -> None:
    video = encode_clip(clips / "lens_cap.mp4", [Segment("black", 3)])

    with pytest.raises(NothingVisibleError, match="black or blown out") as error:
        rank_and_store_top_candidates(video, 6)
    assert video.name in str(error.value) and "\n" not in str(error.value)
    assert not (workspace_dir(video) / CANDIDATES_FILE).exists()


def test_only_the_middle_80_percent_is_examined(env: Path, clips: Path) -> None:
    # the best footage lies in the first and last 10%: warm-ups and handshakes, not the match
    segments = (Segment("rally", 2), Segment("empty", 16), Segment("rally", 2))
    video = encode_clip(clips / "md_AvsB_ends.mp4", segments, gop_seconds=0.5)

    candidates = rank_and_store_top_candidates(video, 6)

    assert all(2 <= c.timestamp <= 18 for c in candidates), [c.timestamp for c in candidates]
