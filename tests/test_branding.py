"""Branding on real encoded clips: the titles over the footage with only the keyframe intervals
they touch re-encoded, the copied packets untouched, every frame decoding cleanly; the full
pass for what cannot be spliced and for the burned-in logo; bad input."""

from __future__ import annotations

import itertools
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import config
from errors import NeedsAttentionError
from sample_clips import Segment, encode_clip
from tests.branding_support import (
    branding,
    camera_clip,
    changed_share,
    decode_all,
    displayed,
    duration_of,
    frame_at,
    grey_picture,
    kill_once_a_piece_is_finished,
    served_folder,
    span_ranges,
    stored_packets,
    stream_codec,
)
from tests.web_support import browser_missing, phone_browser, wait_for
from thumbnail_enhancement.renderer import load_logo
from video_branding import BrandingResult, brand_file, brand_video, branded_video_path
from video_branding.cards import intro_card, logo_card, outro_card
from video_branding.h264 import Avcc, pps_ids, sps_id
from video_prep import prepare_single_video

FFMPEG = shutil.which("ffmpeg")
CAMERA_X264 = "keyint=30:min-keyint=30:scenecut=0:bframes=3:b-pyramid=normal:ref=3"
NO_B_FRAMES = "keyint=30:min-keyint=30:scenecut=0:bframes=0"


def brand(tmp_path: Path, source: Path, **options) -> BrandingResult:
    target = tmp_path / "out" / f"branded{source.suffix}"
    return brand_file(source, target, tmp_path / "work", branding(**options))


@pytest.fixture(scope="session")
def camera(clip_cache: Path) -> Path:
    return camera_clip(clip_cache / "camera.mp4", 12)


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_titles_reencode_only_the_keyframe_intervals_they_touch_and_copy_every_other_packet(
    tmp_path: Path, clip_cache: Path, suffix: str
) -> None:
    source = clip_cache / f"camera{suffix}"
    if not source.exists():
        # Matroska stores no decode timestamps: its B-frames take the full pass (tested below)
        camera_clip(source, 12, x264=NO_B_FRAMES if suffix == ".mkv" else CAMERA_X264)

    result = brand(tmp_path, source, seconds=2.0)

    assert result.method == "spliced" and result.reason is None
    original, branded = stored_packets(source), stored_packets(result.path)
    assert len(branded) == len(original) == 360
    # a keyframe a second, titles of 2 s: the first two and the last two seconds re-encoded
    assert span_ranges(branded, original) == [(0, 60), (300, 360)]
    assert [p.dts for p in branded] == [p.dts for p in original]  # continuous at both splices
    assert all(b.dts > a.dts for a, b in itertools.pairwise(branded))
    assert sorted(p.pts for p in branded) == sorted(p.pts for p in original)
    assert stored_packets(result.path, "audio") == stored_packets(source, "audio")
    assert duration_of(result.path) == pytest.approx(duration_of(source), abs=0.001)
    assert not source.with_name(f".{source.name}.partial").exists()


def test_the_spliced_copy_decodes_without_an_error_and_shows_the_cards_only_at_both_ends(
    tmp_path: Path, camera: Path
) -> None:
    result = brand(tmp_path, camera, seconds=2.0)

    branded, original = decode_all(result.path), decode_all(camera)
    assert branded.errors == [] and len(branded.frames) == len(original.frames) == 360
    assert changed_share(frame_at(branded, 1.0), frame_at(original, 1.0)) > 0.05  # the intro
    assert changed_share(frame_at(branded, 11.0), frame_at(original, 11.0)) > 0.03  # the outro
    for seconds in (2.0, 2.5, 6.0, 9.9):  # after the first splice, before the second
        assert np.array_equal(frame_at(branded, seconds), frame_at(original, seconds))
    # the cards fade in and out: barely there on the first frame, fully at a second
    assert changed_share(branded.frames[0], original.frames[0]) < 0.01


@pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg command is not installed here")
def test_ffmpeg_decodes_the_spliced_copy_without_a_message(tmp_path: Path, camera: Path) -> None:
    result = brand(tmp_path, camera, seconds=2.0)

    done = subprocess.run(
        [str(FFMPEG), "-v", "error", "-i", str(result.path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or "")
def test_chromium_plays_the_spliced_copy_across_both_splices_showing_the_cards_at_its_ends(
    tmp_path: Path, camera: Path
) -> None:
    folder = tmp_path / "www"
    folder.mkdir()
    shutil.copy(camera, folder / "source.mp4")
    brand_file(folder / "source.mp4", folder / "branded.mp4", tmp_path / "work", branding(2.0))

    with served_folder(folder) as page, phone_browser(phone=False) as driver:
        driver.get(page)
        pictures = {}
        for name in ("source", "branded"):
            driver.execute_script(f"load('{name}.mp4')")
            wait_for(
                driver, lambda d: d.execute_script("return played.ready || played.errors.length")
            )
            assert driver.execute_script("return played.errors") == [], name
            pictures[name] = {
                seconds: grey_picture(driver.execute_script(f"return picture({seconds})"))
                for seconds in (1.0, 6.0, 11.0)
            }
        # the branded copy played from start to end (4x speed: frames are decoded, some not shown)
        driver.execute_script("const v = document.getElementById('v'); v.currentTime = 0;")
        driver.execute_script("played.times = []; played.ended = false;")
        driver.execute_script(
            "const v = document.getElementById('v'); v.playbackRate = 4; v.play()"
        )
        wait_for(driver, lambda d: d.execute_script("return played.ended || played.errors.length"))
        played = driver.execute_script("return played")
        quality = driver.execute_script(
            "return document.getElementById('v').getVideoPlaybackQuality()"
        )

    assert played["errors"] == [] and played["ended"]
    assert quality["totalVideoFrames"] >= 360 and quality["corruptedVideoFrames"] == 0
    times = played["times"]
    assert times == sorted(times) and times[-1] > 11.5
    for splice in (2.0, 10.0):  # frames shown just before and just after each splice
        assert any(splice - 0.5 < t < splice for t in times)
        assert any(splice <= t < splice + 0.5 for t in times)
    source, branded = pictures["source"], pictures["branded"]
    for seconds in (1.0, 11.0):  # re-encoded: the card, and the picture above it as it was
        assert changed_share(branded[seconds], source[seconds]) > 0.03
        assert np.abs(branded[seconds][:100] - source[seconds][:100]).mean() < 2
    assert np.array_equal(branded[6.0], source[6.0])  # the middle, copied


def test_the_copy_lists_the_sources_parameter_sets_and_the_reencoded_ones_under_other_ids(
    tmp_path: Path, camera: Path
) -> None:
    import av

    result = brand(tmp_path, camera, seconds=2.0)

    with av.open(str(camera)) as container:
        theirs = Avcc.parse(container.streams.video[0].codec_context.extradata)
    with av.open(str(result.path)) as container:
        mine = Avcc.parse(container.streams.video[0].codec_context.extradata)
    assert mine.sps[: len(theirs.sps)] == theirs.sps and mine.pps[: len(theirs.pps)] == theirs.pps
    assert len(mine.sps) == len(theirs.sps) + 1 and len(mine.pps) == len(theirs.pps) + 1
    assert len({sps_id(sps) for sps in mine.sps}) == len(mine.sps)
    assert len({pps_ids(pps)[0] for pps in mine.pps}) == len(mine.pps)
    assert (mine.profile, mine.level) == (theirs.profile, theirs.level)


def test_a_rotated_phone_clip_gets_its_cards_upright(tmp_path: Path, clip_cache: Path) -> None:
    source = camera_clip(clip_cache / "phone.mp4", 10, rotation=90, audio=False)

    result = brand(tmp_path, source, seconds=2.0)

    assert result.method == "spliced"
    branded, original = decode_all(result.path), decode_all(source)
    assert branded.rotation == 90 and branded.errors == []
    shown = displayed(frame_at(branded, 1.0), 90)
    before = displayed(frame_at(original, 1.0), 90)
    height = shown.shape[0]
    assert shown.shape[0] > shown.shape[1]  # portrait, as the phone filmed it
    # the match's card lies across the bottom of the picture as it is shown
    assert changed_share(shown[height * 3 // 4 :], before[height * 3 // 4 :]) > 0.1
    assert changed_share(shown[: height // 2], before[: height // 2]) == 0


def test_variable_frame_rate_without_audio_keeps_every_timestamp(
    tmp_path: Path, clip_cache: Path
) -> None:
    source = clip_cache / "vfr.mp4"
    if not source.exists():
        encode_clip(source, [Segment("rally", 10)], variable_frame_rate=True, gop_seconds=1)

    result = brand(tmp_path, source, seconds=2.0)

    assert result.method == "spliced"
    branded, original = stored_packets(result.path), stored_packets(source)
    assert [(p.pts, p.dts) for p in branded] == [(p.pts, p.dts) for p in original]
    assert len({b.pts - a.pts for a, b in itertools.pairwise(original)}) > 1  # really variable
    assert decode_all(result.path).errors == []


def test_4k_10bit_hevc_takes_the_full_pass_with_one_line_saying_why(
    tmp_path: Path, clip_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = clip_cache / "uhd.mp4"
    if not source.exists():
        encode_clip(
            source,
            [Segment("rally", 1)],
            size=(3840, 2160),
            codec="libx265",
            pix_fmt="yuv420p10le",
            gop_seconds=1,
        )
    caplog.set_level(logging.WARNING, logger="video_branding")

    result = brand(tmp_path, source, seconds=2.0)

    assert result.method == "full" and "HEVC" in (result.reason or "")
    lines = [r.getMessage() for r in caplog.records if "full re-encode" in r.getMessage()]
    assert len(lines) == 1 and source.name in lines[0] and "HEVC" in lines[0]
    assert stream_codec(result.path) == ("h264", "yuv420p10le")  # the 10 bits kept
    branded = decode_all(result.path)
    assert branded.errors == [] and len(branded.frames) == 30
    assert changed_share(branded.frames[15], decode_all(source).frames[15]) > 0.05


def test_open_gops_take_the_full_pass_with_the_reason(
    tmp_path: Path, clip_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    x264 = "keyint=30:min-keyint=30:scenecut=0:bframes=3:open-gop=1"
    source = camera_clip(clip_cache / "open-gop.mp4", 8, x264=x264, audio=False)
    caplog.set_level(logging.WARNING, logger="video_branding")

    result = brand(tmp_path, source, seconds=2.0)

    assert result.method == "full" and "open GOP" in (result.reason or "")
    assert any("open GOP" in r.getMessage() for r in caplog.records)
    branded = decode_all(result.path)
    assert branded.errors == [] and len(branded.frames) == 240


def test_matroska_with_b_frames_takes_the_full_pass_with_the_reason(
    tmp_path: Path, clip_cache: Path
) -> None:
    source = camera_clip(clip_cache / "b-frames.mkv", 4, audio=False)

    result = brand(tmp_path, source, seconds=1.0)

    assert result.method == "full" and "Matroska" in (result.reason or "")
    assert decode_all(result.path).errors == [] and len(stored_packets(result.path)) == 120


def test_a_damaged_title_interval_is_branded_with_clean_frames(
    tmp_path: Path, camera: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import av

    source = tmp_path / "damaged.mp4"
    shutil.copy(camera, source)
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        hit = [
            (packet.pos, packet.size)
            for packet in container.demux(stream)
            if packet.pts is not None and 0.9 <= float(packet.pts * stream.time_base) <= 1.2
        ]
    data = bytearray(source.read_bytes())
    for position, size in hit:
        for at in range(position + 8, position + size, 7):
            data[at] ^= 0xA5
    source.write_bytes(bytes(data))
    assert decode_all(source).errors  # the source itself is damaged there
    caplog.set_level(logging.WARNING, logger="video_branding")

    result = brand(tmp_path, source, seconds=2.0)

    branded = decode_all(result.path)
    assert branded.errors == [] and len(branded.frames) == 360
    assert changed_share(frame_at(branded, 1.5), frame_at(decode_all(camera), 1.5)) > 0.05
    if len(decode_all(source).frames) < 360:  # frames FFmpeg could not give at all: said once
        assert any("damaged" in r.getMessage() for r in caplog.records)


def test_burn_puts_the_logo_in_every_frame_and_the_titles_at_both_ends(
    tmp_path: Path, camera: Path
) -> None:
    result = brand(tmp_path, camera, seconds=2.0, burn=True)

    assert result.method == "full"
    branded, original = decode_all(result.path), decode_all(camera)
    assert branded.errors == [] and len(branded.frames) == len(original.frames)
    height, width = original.frames[0].shape
    logo = (slice(20, 20 + height // 8), slice(width - 20 - width // 10, width - 20))
    for seconds in (0.0, 3.0, 6.0, 9.0, 11.9):
        mine, theirs = frame_at(branded, seconds), frame_at(original, seconds)
        assert changed_share(mine[logo], theirs[logo]) > 0.05
    middle, before = frame_at(branded, 6.0).copy(), frame_at(original, 6.0).copy()
    middle[logo] = before[logo] = 0
    assert np.abs(middle - before).mean() < 2.5  # the picture around it as it was
    assert changed_share(frame_at(branded, 1.0), frame_at(original, 1.0)) > 0.05


@pytest.fixture(scope="session")
def minute(clip_cache: Path) -> Path:
    return camera_clip(clip_cache / "minute.mp4", 60)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no SIGSTOP to pause the engine")
@pytest.mark.parametrize("burn", [False, True], ids=["titles", "burn"])
def test_an_engine_killed_mid_encode_resumes_from_its_finished_pieces(
    tmp_path: Path, minute: Path, burn: bool
) -> None:
    target, work = tmp_path / "out" / "branded.mp4", tmp_path / "work"
    kill_once_a_piece_is_finished(minute, target, work, burn, 12.0)
    finished = {path: path.stat().st_mtime_ns for path in work.glob("piece-*.mp4")}
    assert finished and not target.exists()
    assert not list(target.parent.glob(".*.partial"))  # nothing half written takes its name

    result = brand_file(minute, target, work, branding(12.0, burn=burn))

    # a full pass cuts 20 s pieces; the titles' 12 s at each end are re-encoded in 4 s pieces
    pieces = 3 if burn else 6
    assert 1 <= result.resumed_pieces == len(finished) < pieces
    assert result.method == ("full" if burn else "spliced")
    if not burn:  # the pieces follow each other: only the titles' seconds differ from the source
        ranges = span_ranges(stored_packets(result.path), stored_packets(minute))
        assert ranges == [(0, 360), (1440, 1800)]
    branded, original = decode_all(result.path), decode_all(minute)
    assert branded.errors == [] and len(branded.frames) == len(original.frames) == 1800
    assert stored_packets(result.path, "audio") == stored_packets(minute, "audio")
    assert changed_share(frame_at(branded, 1.0), frame_at(original, 1.0)) > 0.05
    assert not work.exists()  # the pieces go once the copy is made


def test_a_disk_that_fills_up_holds_the_branding_for_a_person_and_it_goes_on_once_freed(
    tmp_path: Path, camera: Path, small_disk
) -> None:
    disk = small_disk("disk", 2048)
    other = disk.path / "other.bin"  # room left for the pieces, not for the copy
    other.write_bytes(b"\0" * 2**20)
    target, work = disk.path / "branded.mp4", disk.path / "work"

    with pytest.raises(NeedsAttentionError) as full:
        brand_file(camera, target, work, branding(2.0))

    message = str(full.value)
    assert str(disk.path) in message and "the disk is full (ENOSPC" in message
    assert "free some space" in message
    assert not target.exists() and not list(disk.path.glob(".*.partial"))
    other.unlink()
    result = brand_file(camera, target, work, branding(2.0))
    assert result.resumed_pieces == 2 and result.method == "spliced"
    assert decode_all(result.path).errors == []


def test_no_outro_on_a_video_shorter_than_twice_the_title_time(
    tmp_path: Path, clip_cache: Path
) -> None:
    source = camera_clip(clip_cache / "short.mp4", 3.5, audio=False)

    result = brand(tmp_path, source, seconds=2.0)

    ranges = span_ranges(stored_packets(result.path), stored_packets(source))
    assert ranges == [(0, 60)]  # the intro's two seconds only


def test_asked_again_for_the_same_the_copy_is_kept_and_other_words_make_a_new_one(
    tmp_path: Path, camera: Path
) -> None:
    first = brand(tmp_path, camera, seconds=2.0)
    made = first.path.stat().st_mtime_ns

    again = brand(tmp_path, camera, seconds=2.0)
    assert again == first and first.path.stat().st_mtime_ns == made

    other = brand(tmp_path, camera, seconds=2.0, outro="Hẹn gặp lại")
    assert other.path.stat().st_mtime_ns != made


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (3840, 2160), (1080, 1920)])
def test_cards_are_sized_to_the_picture_from_720p_to_4k(size: tuple[int, int]) -> None:
    from tests.branding_support import MATCH

    width, height = size
    logo = load_logo()
    for card in (
        intro_card(MATCH, width, height, logo),
        outro_card("Thanks for watching", "Cafe Game", width, height, logo),
    ):
        assert card.x >= 0 and card.y >= 0
        assert card.x + card.image.width <= width and card.y + card.image.height <= height
    share = intro_card(MATCH, width, height, logo).image.width / width
    assert share == pytest.approx(0.79 if width > height else 0.78, abs=0.02)
    stamp = logo_card(logo, width, height)
    assert stamp.image.width == pytest.approx(width / 10, abs=2)
    assert stamp.x + stamp.image.width == pytest.approx(width - 20, abs=2) and stamp.y == 20


def test_the_stage_brands_the_prepared_video_into_its_workspace_as_the_settings_ask(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = camera_clip(env / "videos" / "md_NhozVinhvsKhanhzLeo.mp4", 6, audio=False)
    prepare_single_video(video)
    monkeypatch.setenv("VIDEO_TITLE_SECONDS", "2")
    config.get_settings.cache_clear()

    made = brand_video(video)

    assert made.path == branded_video_path(video) and made.path.is_file()
    assert made.method == "spliced" and made.path.parent.name == video.name
    assert not (made.path.parent / "branding").exists()  # the pieces go once the copy is made
    monkeypatch.setenv("VIDEO_TITLES", "off")
    config.get_settings.cache_clear()
    assert brand_video(video) is None
    assert not branded_video_path(video).exists()  # a copy the settings no longer ask for goes


def test_branding_settings_are_checked_with_a_clear_message() -> None:
    settings = config.load_settings({}, env_file=Path("/nonexistent.env"))
    assert settings.video_titles is True and settings.video_title_seconds == 12
    assert settings.video_outro_text == "Thanks for watching" and settings.video_watermark == "off"
    with pytest.raises(config.ConfigError) as bad:
        config.load_settings(
            {
                "VIDEO_TITLES": "maybe",
                "VIDEO_TITLE_SECONDS": "0.5",
                "VIDEO_OUTRO_TEXT": " \t",
                "VIDEO_WATERMARK": "corner",
            },
            env_file=Path("/nonexistent.env"),
        )
    message = str(bad.value)
    assert "VIDEO_TITLES='maybe': expected on or off" in message
    assert "VIDEO_TITLE_SECONDS='0.5': expected a number of seconds from 2 to 60" in message
    assert "VIDEO_OUTRO_TEXT" in message and "must not be empty" in message
    assert "VIDEO_WATERMARK='corner': expected one of: off, burn, youtube" in message
