"""Candidate previews (they travel through Temporal to a chooser on another machine): small,
large enough to judge a frame, upright, the same bytes every time, from real grainy frames."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from remedies import for_batch
from sample_clips import Segment, encode_clip, frames_for
from thumbnail_ranking import preview_jpeg, rank_and_store_top_candidates
from thumbnail_ranking.previews import (
    PREVIEW_MAX_BYTES,
    PREVIEW_MIN_LONG_SIDE,
    SMALLEST_BUDGET,
    CandidateImageUnreadableError,
)

LARGEST = 960  # the long side a preview keeps when it fits


def decoded(preview: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(preview, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "the preview is not a JPEG"
    return image


def long_side(preview: bytes) -> int:
    return max(decoded(preview).shape[:2])


def looks_like(preview: bytes, source: np.ndarray) -> float:
    """Mean difference (grey levels) between the preview and the source, both seen small
    (grain, which no JPEG this small keeps, averages out; the picture does not)."""
    image = decoded(preview)
    assert abs(image.shape[0] / image.shape[1] - source.shape[0] / source.shape[1]) < 0.01
    small = (160, round(160 * image.shape[0] / image.shape[1]))
    seen = [cv2.resize(i, small, interpolation=cv2.INTER_AREA) for i in (image, source)]
    return float(cv2.absdiff(*seen).mean())


def camera_jpeg(path: Path, size: tuple[int, int], grain: float, seed: int = 1) -> Path:
    """A rally frame with sensor grain of that standard deviation, saved as a camera would."""
    frame = next(frames_for([Segment("rally", 1.0)], 1, size)).astype(np.float32)
    noise = np.random.default_rng(seed).normal(0, grain, frame.shape)
    noisy = np.clip(frame + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(path), noisy, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def first_keyframe(video: Path) -> np.ndarray:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        return next(container.decode(stream)).to_ndarray(format="bgr24")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("preview-clips")


def grainy_match(clips: Path, size: tuple[int, int], name: str) -> Path:
    """A camera-like clip: heavy grain at a high bitrate, the hard case for small JPEGs."""
    segments = [Segment("rally", 1.0), Segment("walking", 0.5), Segment("rally", 1.0)]
    return encode_clip(
        clips / name, segments, size=size, gop_seconds=0.5, grain=20.0, bit_rate=40_000_000
    )


def test_previews_of_grainy_1080p_candidates_fit_and_show_the_frame(env: Path, clips: Path) -> None:
    video = grainy_match(clips, (1920, 1080), "md_NhozVinhvsKhanhzLeo.mp4")
    candidates = rank_and_store_top_candidates(video, 4).candidates
    assert len(candidates) >= 3
    for candidate in candidates:
        preview = preview_jpeg(Path(candidate.file))
        assert len(preview) <= PREVIEW_MAX_BYTES
        assert PREVIEW_MIN_LONG_SIDE <= long_side(preview) <= LARGEST
        assert looks_like(preview, cv2.imread(candidate.file)) < 3


def test_a_4k_frame_decoded_or_as_a_jpeg_fits(clips: Path, tmp_path: Path) -> None:
    frame = first_keyframe(grainy_match(clips, (3840, 2160), "4k.mp4"))
    jpeg = tmp_path / "4k.jpg"
    cv2.imwrite(str(jpeg), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
    for source in (frame, jpeg):
        preview = preview_jpeg(source)
        assert len(preview) <= PREVIEW_MAX_BYTES
        assert PREVIEW_MIN_LONG_SIDE <= long_side(preview) <= LARGEST
        assert looks_like(preview, frame) < 3


def test_a_clean_frame_keeps_the_largest_size_and_grain_costs_size_not_the_floor(
    tmp_path: Path,
) -> None:
    clean = preview_jpeg(camera_jpeg(tmp_path / "clean.jpg", (1920, 1080), grain=0))
    assert long_side(clean) == LARGEST and len(clean) <= PREVIEW_MAX_BYTES
    for grain in (10, 20, 40):
        source = camera_jpeg(tmp_path / f"grain{grain}.jpg", (1920, 1080), grain)
        preview = preview_jpeg(source)
        assert len(preview) <= PREVIEW_MAX_BYTES, grain
        assert PREVIEW_MIN_LONG_SIDE <= long_side(preview) <= LARGEST, grain
    heaviest = preview_jpeg(tmp_path / "grain40.jpg")
    assert long_side(heaviest) < LARGEST  # smaller rather than blocky


@pytest.mark.parametrize(
    ("size", "expected_long_side"),
    [((480, 270), 480), ((640, 360), 640), ((800, 450), None)],
)
def test_a_small_source_is_never_enlarged(
    tmp_path: Path, size: tuple[int, int], expected_long_side: int | None
) -> None:
    preview = preview_jpeg(camera_jpeg(tmp_path / "small.jpg", size, grain=40))
    assert len(preview) <= PREVIEW_MAX_BYTES
    if expected_long_side is None:  # between the floor and the largest size
        assert PREVIEW_MIN_LONG_SIDE <= long_side(preview) <= size[0]
    else:
        assert decoded(preview).shape[:2] == (size[1], size[0])


def test_pixel_noise_is_smoothed_to_fit_at_the_floor_size() -> None:
    noise = np.random.default_rng(5).integers(0, 256, (640, 640, 3), dtype=np.uint8)
    for budget in (PREVIEW_MAX_BYTES, SMALLEST_BUDGET):
        preview = preview_jpeg(noise, max_bytes=budget)
        assert len(preview) <= budget
        assert decoded(preview).shape[:2] == (640, 640)


def test_a_smaller_budget_for_a_base64_carrier_keeps_the_floor(tmp_path: Path) -> None:
    # nine previews as base64 text within 400 KB: 30 KB each
    for grain in (3, 20, 40):
        source = camera_jpeg(tmp_path / f"grain{grain}.jpg", (1920, 1080), grain)
        preview = preview_jpeg(source, max_bytes=30_000)
        assert len(preview) <= 30_000
        assert long_side(preview) >= PREVIEW_MIN_LONG_SIDE
        assert looks_like(preview, cv2.imread(str(source))) < 3
    with pytest.raises(ValueError, match="at least 20000 bytes"):
        preview_jpeg(source, max_bytes=SMALLEST_BUDGET - 1)


def test_previews_are_upright(tmp_path: Path) -> None:
    # as a phone stores it: landscape pixels, left half red, and "rotate 90° clockwise" in EXIF
    stored = np.zeros((1080, 1920, 3), np.uint8)
    stored[:, :960] = (0, 0, 255)
    picture = Image.fromarray(stored[:, :, ::-1])
    exif = picture.getexif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    picture.save(path, "JPEG", exif=exif.tobytes())
    image = decoded(preview_jpeg(path))
    assert image.shape[:2] == (LARGEST, 540)  # portrait
    assert tuple(int(v) for v in image[100, 270]) == pytest.approx((0, 0, 254), abs=3)  # top: red
    assert tuple(int(v) for v in image[-100, 270]) == pytest.approx((0, 0, 0), abs=3)

    portrait = preview_jpeg(np.full((1920, 1080, 3), 90, np.uint8))
    assert decoded(portrait).shape[:2] == (LARGEST, 540)


def test_the_same_candidate_gives_the_same_bytes(tmp_path: Path) -> None:
    source = camera_jpeg(tmp_path / "frame.jpg", (1920, 1080), grain=20)
    copy = shutil.copy(source, tmp_path / "copy.jpg")
    first = preview_jpeg(source)
    assert preview_jpeg(source) == first
    assert preview_jpeg(Path(copy)) == first
    assert preview_jpeg(str(source)) == first
    array = cv2.imread(str(source))
    assert preview_jpeg(array) == preview_jpeg(array.copy())


def test_a_missing_or_broken_candidate_says_to_rank_again(tmp_path: Path) -> None:
    broken = tmp_path / "02_broken.jpg"
    broken.write_bytes(b"not a jpeg")
    truncated = tmp_path / "03_empty.jpg"
    truncated.write_bytes(b"")
    for path in (tmp_path / "01_missing.jpg", broken, truncated):
        with pytest.raises(CandidateImageUnreadableError, match=path.name) as error:
            preview_jpeg(path)
        assert "run `python main.py rank`" in for_batch(error.value)
        assert "\n" not in str(error.value)
