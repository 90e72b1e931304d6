"""Branded thumbnails: YouTube-ready output, text that always fits, every Vietnamese glyph,
characters no face has, the title's date, determinism and idempotency, the logo setting, odd
frames, theme colours, and the CLI."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import cv2
import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageFont
from typer.testing import CliRunner

import config
from errors import PipelineError
from remedies import for_batch
from sample_clips import Segment, encode_clip
from thumbnail_enhancement import (
    JPEG_MAX_BYTES,
    TEMPLATES,
    NoSelectionError,
    SelectedImageError,
    UnknownTemplateError,
    available_templates,
    render_thumbnail,
    theme_for,
)
from thumbnail_enhancement.fonts import ANTON, Face
from thumbnail_enhancement.layout import CANVAS, MatchText, Plan, TextBlock
from thumbnail_enhancement.renderer import (
    JPEG_QUALITIES,
    compose,
    encode_jpeg,
    load_logo,
    match_text,
)
from video_prep import load_metadata, prepare_single_video
from workspace import SELECTED_IMAGE, THUMBNAIL_FILE, workspace_dir

REPO = Path(__file__).resolve().parent.parent
LOGO_SIZE = (1183, 366)  # the shipped logo's shape
LONG_NAMES = ["Nguyễn Đức Huy", "Phạm Thị Ánh Tuyết", "Võ Thị Mỹ Duyên", "Hoàng Minh Trí"]
FORTY_CHARACTERS = (
    "Giải Cầu Lông Cà Phê Mở Rộng Mùa Hè 2024",
    "W" * 40,
    "MMMMMMMMM MMMMMMMMM MMMMMMMMM MMMMMMMMMM",
)


def clip_recorded_at(tmp_path_factory: pytest.TempPathFactory, recorded: datetime) -> Path:
    folder = tmp_path_factory.mktemp("enhance-clips")
    return encode_clip(
        folder / "clip.mp4", [Segment("rally", 1.0)], size=(320, 180), creation_time=recorded
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clip_recorded_at(tmp_path_factory, datetime(2024, 12, 25, 10, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def court() -> np.ndarray:
    """A 1080p frame of a rally (BGR) with camera grain."""
    from sample_clips import frames_for

    frame = next(frames_for([Segment("rally", 1.0)], 1.0, (1920, 1080)))
    grain = np.random.default_rng(3).normal(0, 5, frame.shape)
    return np.clip(frame + grain, 0, 255).astype(np.uint8)


def prepared(env: Path, clip: Path, name: str, sidecar: dict | None = None) -> Path:
    """A real clip in INPUT_DIR, prepared (metadata.json), with an optional metadata sidecar."""
    video = env / "videos" / name
    shutil.copyfile(clip, video)
    if sidecar:
        video.with_name(video.name + ".json").write_text(json.dumps(sidecar), encoding="utf-8")
    prepare_single_video(video)
    return video


def choose_frame(video: Path, frame: np.ndarray | bytes) -> None:
    """Put the chosen frame in the workspace, as `select` does."""
    if isinstance(frame, np.ndarray):
        frame = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    (workspace_dir(video) / SELECTED_IMAGE).write_bytes(frame)


def cafe_zone() -> tzinfo:
    return config.get_settings().cafe_timezone


def set_logo(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LOGO_PATH", value)
    config.get_settings.cache_clear()


@pytest.fixture
def video(env: Path, clip: Path, court: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A prepared match whose chosen frame is a rally; the café logo (LOGO_PATH unset)."""
    set_logo(monkeypatch, "")
    video = prepared(env, clip, "md_NhozVinhvsKhanhzLeo.mp4")
    choose_frame(video, court)
    return video


# ------------------------------------------------------------------------------ output


@pytest.mark.parametrize("template", available_templates())
def test_thumbnail_is_a_1280x720_jpeg_under_two_megabytes(video: Path, template: str) -> None:
    thumbnail = render_thumbnail(video, template)
    assert thumbnail == workspace_dir(video) / THUMBNAIL_FILE
    with Image.open(thumbnail) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (1280, 720), "RGB")
    assert thumbnail.stat().st_size <= JPEG_MAX_BYTES


def test_default_template_is_template_b_and_both_are_listed(tmp_path: Path) -> None:
    assert available_templates() == ("template_a", "template_b")
    defaults = config.load_settings(environ={}, env_file=tmp_path / ".env")
    assert defaults.thumbnail_template == "template_b" and defaults.logo_path is None


@pytest.mark.parametrize("template", available_templates())
def test_a_frame_of_pure_noise_still_fits_the_2_mb_limit(video: Path, template: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    choose_frame(video, cv2.imencode(".png", noise)[1].tobytes())  # lossless: all the noise
    thumbnail = render_thumbnail(video, template)
    assert thumbnail.stat().st_size <= JPEG_MAX_BYTES
    with Image.open(thumbnail) as image:
        assert (image.format, image.size) == ("JPEG", (1280, 720))


def test_the_quality_steps_down_only_as_far_as_needed() -> None:
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (720, 1280, 3), np.uint8))
    data, quality = encode_jpeg(noise, "noise")
    assert len(data) <= JPEG_MAX_BYTES < jpeg_size(noise, JPEG_QUALITIES[0])
    higher = JPEG_QUALITIES[JPEG_QUALITIES.index(quality) - 1]
    assert jpeg_size(noise, higher) > JPEG_MAX_BYTES
    flat = Image.new("RGB", (1280, 720), (20, 90, 200))
    assert encode_jpeg(flat, "flat")[1] == JPEG_QUALITIES[0]


def jpeg_size(image: Image.Image, quality: int) -> int:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, subsampling="4:4:4")
    return buffer.tell()


# ------------------------------------------------------------------------------ text fits

EXTREME_MATCHES = {
    "one-letter names": MatchText.create(["A"], ["B"], "X", "Men's Singles", "2024-12-25"),
    "one-letter doubles": MatchText.create(["A", "B"], ["C", "D"], "Cafe Game", "Men's Doubles"),
    "long singles": MatchText.create(LONG_NAMES[:1], LONG_NAMES[1:2], "Friendly Game"),
    "three a team": MatchText.create(LONG_NAMES[:3], ["A", "B", "C"], "Tour HCM"),
    "four long names a team": MatchText.create(
        LONG_NAMES, LONG_NAMES[::-1], "Tour Sài Gòn Open", "Mixed Doubles", "2025-06-14"
    ),
    **{
        f"40-character tournament {i}": MatchText.create(
            LONG_NAMES[:2], LONG_NAMES[2:], tournament, "Mixed Doubles", "2025-06-14"
        )
        for i, tournament in enumerate(FORTY_CHARACTERS)
    },
    "a 50-letter name without spaces": MatchText.create(
        ["Wolfeschlegelsteinhausenbergerdorff" + "W" * 15], ["Vy"], "Cafe Game"
    ),
}


UNBREAKABLE = {"40-character tournament 1", "a 50-letter name without spaces"}


def plans(logo_size: tuple[int, int] | None = LOGO_SIZE) -> list[tuple[str, Plan]]:
    return [
        (label, TEMPLATES[name].plan(match, logo_size))
        for label, match in EXTREME_MATCHES.items()
        for name in available_templates()
    ]


def measured_ink(block: TextBlock) -> list[tuple[float, float, float, float]]:
    """Each line's ink box where it is drawn, measured afresh from the font file."""
    face = ImageFont.truetype(str(block.face.path), block.size)
    if block.face.variation:
        face.set_variation_by_name(block.face.variation)
    boxes = []
    for line in block.lines:
        left, top, right, bottom = face.getbbox(line.text, anchor="ls")
        x, y = line.origin
        boxes.append((x + left, y + top, x + right, y + bottom))
    return boxes


def inside(box: tuple[float, float, float, float], outer) -> bool:
    return outer.x0 <= box[0] and outer.y0 <= box[1] and box[2] <= outer.x1 and box[3] <= outer.y1


@pytest.mark.parametrize("with_logo", [True, False], ids=["logo", "no-logo"])
def test_every_text_stays_inside_its_box_and_the_canvas(with_logo: bool) -> None:
    for label, plan in plans(LOGO_SIZE if with_logo else None):
        for block in plan.texts:
            where = f"{plan.template}, {label}, {block.role} {block.text!r}"
            assert CANVAS.contains(block.container), where
            for ink in measured_ink(block):
                assert inside(ink, block.container), f"{where}: {ink} outside {block.container}"
        if plan.logo:
            assert CANVAS.contains(plan.logo)


def test_texts_never_overlap_each_other_or_the_logo() -> None:
    for label, plan in plans():
        boxes = [(block.role, block.ink) for block in plan.texts]
        if plan.logo:
            boxes.append(("logo", plan.logo))
        for i, (role, box) in enumerate(boxes):
            for other_role, other in boxes[i + 1 :]:
                apart = (
                    box.x1 <= other.x0
                    or other.x1 <= box.x0
                    or box.y1 <= other.y0
                    or other.y1 <= box.y0
                )
                assert apart, f"{plan.template}, {label}: {role} overlaps {other_role}"


def test_real_names_are_shown_whole_and_readable() -> None:
    """Shrink, then wrap: names are never cut or broken inside a word, and stay legible."""
    for label, plan in plans():
        if label in UNBREAKABLE:
            continue
        match = EXTREME_MATCHES[label]
        for role, names in (("team1", match.team1), ("team2", match.team2)):
            block = plan.text(role)
            shown = block.text.replace("\n", " ").split()
            wanted = " / ".join(names).upper().split()
            assert [w for w in shown if w != "/"] == [w for w in wanted if w != "/"], label
            assert block.size >= 20, f"{plan.template}, {label}: {role} at {block.size} px"
        tournament = plan.text("tournament")
        assert tournament.text.replace("\n", " ") == match.tournament.upper()
        assert len(tournament.lines) <= 2


def test_a_long_tournament_wraps_to_two_lines_in_the_sidebar() -> None:
    match = EXTREME_MATCHES["40-character tournament 0"]
    block = TEMPLATES["template_b"].plan(match, LOGO_SIZE).text("tournament")
    assert len(FORTY_CHARACTERS[0]) == 40
    assert len(block.lines) == 2 and block.size >= 20


def test_a_name_too_long_for_any_box_is_broken_and_still_fits() -> None:
    match = EXTREME_MATCHES["a 50-letter name without spaces"]
    for name in available_templates():
        block = TEMPLATES[name].plan(match, LOGO_SIZE).text("team1")
        assert block.text.replace("\n", "").replace("…", "") in match.team1[0].upper()
        assert all(inside(ink, block.container) for ink in measured_ink(block))


FOUR_A_TEAM = MatchText.create(
    ["Nguyễn Đức Huy", "Trâm", "Lê Văn Khánh", "Vy"],
    ["Võ Thị Mỹ Duyên", "Đặng Quốc Bảo", "Leo", "Hoàng Minh Trí"],
    "Tour Sài Gòn Open",
)


def line_texts(block: TextBlock) -> list[str]:
    return [line.text for line in block.lines]


def test_a_line_break_between_players_keeps_the_separator() -> None:
    """`NGUYỄN ĐỨC HUY /` then `TRÂM /`: the reader sees where each name ends; a name that fits
    on a line is never broken."""
    cases = [(label, plan) for label, plan in plans() if label not in UNBREAKABLE]
    cases += [("four a team", TEMPLATES[name].plan(FOUR_A_TEAM, LOGO_SIZE)) for name in TEMPLATES]
    wrapped_between_names = 0
    for label, plan in cases:
        match = FOUR_A_TEAM if label == "four a team" else EXTREME_MATCHES[label]
        for role, names in (("team1", match.team1), ("team2", match.team2)):
            lines = line_texts(plan.text(role))
            where = f"{plan.template}, {label}, {role}: {lines}"
            assert " ".join(lines) == " / ".join(names).upper(), where
            if len(names) > 1:
                pieces = [piece for line in lines for piece in line.removesuffix(" /").split(" / ")]
                assert pieces == [name.upper() for name in names], where  # every name whole
                wrapped_between_names += len(lines) > 1
    assert wrapped_between_names >= 6
    sidebar = TEMPLATES["template_b"].plan(FOUR_A_TEAM, None).text("team1")
    assert line_texts(sidebar) == ["NGUYỄN ĐỨC HUY /", "TRÂM /", "LÊ VĂN KHÁNH / VY"]


def test_only_a_name_too_wide_for_a_line_is_broken_inside() -> None:
    match = MatchText.create(["Nguyễn Thị Thanh Trâm", "Vy"], ["Phạm Thị Ánh Tuyết"], "Cafe Game")
    plan = TEMPLATES["template_b"].plan(match, LOGO_SIZE)
    assert line_texts(plan.text("team1")) == ["NGUYỄN THỊ", "THANH TRÂM /", "VY"]
    assert line_texts(plan.text("team2")) == ["PHẠM THỊ ÁNH TUYẾT"]


# ------------------------------------------------------------------------------ glyphs


def cmap(face: Face) -> set[int]:
    return set(TTFont(str(face.path), fontNumber=0).getBestCmap())


@pytest.mark.parametrize("template", available_templates())
def test_every_vietnamese_letter_has_a_glyph_in_the_face_that_draws_it(template: str) -> None:
    match = MatchText.create(["Nguyễn Đức Huy"], ["Trâm"], "Tour Phạm Thị Ánh Tuyết")
    vietnamese = MatchText.create(["Phạm Thị Ánh Tuyết"], ["Ỷ Ữ Ợ Ẵ Ậ Ể Ỗ Ự"], "Giải Mùa Hè Đà Lạt")
    for sample in (match, vietnamese):
        for block in TEMPLATES[template].plan(sample, LOGO_SIZE).texts:
            missing = {c for c in block.text if not c.isspace() and ord(c) not in cmap(block.face)}
            assert not missing, f"{block.role} in {block.face.label} lacks {missing}"


def test_a_script_the_display_face_lacks_falls_back_to_one_that_has_it() -> None:
    name = "Дмитрий Ёлкин"
    assert not all(ord(c) in cmap(ANTON) for c in name.upper() if c != " ")
    block = (
        TEMPLATES["template_b"]
        .plan(MatchText.create([name], ["Vy"], "Cafe Game"), None)
        .text("team1")
    )
    assert block.face != ANTON
    assert all(ord(c) in cmap(block.face) for c in block.text if not c.isspace())


def test_diacritics_are_drawn_not_tofu_boxes(court: np.ndarray) -> None:
    """Each diacritic letter's pixels differ from the same face's missing-glyph box."""
    plan = TEMPLATES["template_a"].plan(
        MatchText.create(["Nguyễn Đức Huy"], ["Trâm"], "Cafe Game"), None
    )
    block = plan.text("team1")
    face = ImageFont.truetype(str(block.face.path), block.size)
    tofu = face.getmask("\U0010fffd")
    for letter in "ỄĐỨ":
        assert letter in block.text
        drawn = face.getmask(letter)
        assert (drawn.size, bytes(drawn)) != (tofu.size, bytes(tofu)), letter


def test_characters_no_face_has_are_left_out_with_one_warning(
    video: Path, env: Path, clip: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Emoji, Chinese and Thai names: no tofu box is drawn, the rest of the text is, and the
    operator is told once which characters of which video were left out."""
    sidecar = {"team1": ["Huy 🏸", "王小明"], "team2": ["สมชาย", "Lê 🏸 Vy"]}
    odd = prepared(env, clip, "md_HuyzMinhvsChaizVy.mp4", sidecar)
    plain = prepared(env, clip, "md_HuyzXvsLezVy.mp4", {"team1": ["Huy"], "team2": ["Lê Vy"]})
    frame = (workspace_dir(video) / SELECTED_IMAGE).read_bytes()
    for each in (odd, plain):
        choose_frame(each, frame)
    for template in available_templates():
        plan = TEMPLATES[template].plan(match_text(load_metadata(odd), cafe_zone()), LOGO_SIZE)
        assert (plan.text("team1").text, plan.text("team2").text) == ("HUY", "LÊ VY")
        for block in plan.texts:
            glyphs = cmap(block.face)
            assert all(ord(c) in glyphs for c in block.text if not c.isspace()), block.text

        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="thumbnail_enhancement"):
            drawn = np.asarray(Image.open(render_thumbnail(odd, template)))
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, warnings
        assert odd.name in warnings[0]
        assert all(f'"{run}"' in warnings[0] for run in ("🏸", "王小明", "สมชาย")), warnings[0]
        # drawn exactly as if the names had been written without those characters
        assert np.array_equal(drawn, np.asarray(Image.open(render_thumbnail(plain, template))))


@pytest.fixture(scope="module")
def late_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Recorded at 23:30 UTC on 24 December: 06:30 on Christmas morning in Vietnam."""
    return clip_recorded_at(tmp_path_factory, datetime(2024, 12, 24, 23, 30, tzinfo=UTC))


@pytest.fixture
def vietnam_time() -> Iterator[None]:
    """The process's local time is Vietnam's (UTC+7) during the test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "ICT-7")
        time.tzset()
        yield
    time.tzset()


def test_the_thumbnail_shows_the_day_of_the_title(
    env: Path, late_clip: Path, vietnam_time: None
) -> None:
    video = prepared(env, late_clip, "md_NhozVinhvsKhanhzLeo.mp4")
    metadata = load_metadata(video)
    assert metadata.title.endswith("(25 Dec 2024)")
    for template in available_templates():
        plan = TEMPLATES[template].plan(match_text(metadata, cafe_zone()), LOGO_SIZE)
        caption = plan.text("caption").text
        assert caption == "MEN'S DOUBLES · 25 DEC 2024", template


@pytest.fixture
def utc_server_for_a_cafe_in_vietnam() -> Iterator[None]:
    """The worker machine is kept in UTC; CAFE_TIMEZONE says where the café is."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        patch.setenv("CAFE_TIMEZONE", "Asia/Ho_Chi_Minh")
        config.get_settings.cache_clear()
        yield
    time.tzset()
    config.get_settings.cache_clear()


def test_the_thumbnail_shows_the_cafes_day_on_a_server_kept_in_utc(
    env: Path, late_clip: Path, utc_server_for_a_cafe_in_vietnam: None
) -> None:
    metadata = load_metadata(prepared(env, late_clip, "md_NhozVinhvsKhanhzLeo.mp4"))
    for template in available_templates():
        plan = TEMPLATES[template].plan(match_text(metadata, cafe_zone()), LOGO_SIZE)
        caption = plan.text("caption").text
        assert caption == "MEN'S DOUBLES · 25 DEC 2024", template


def test_names_written_without_spaces_show_with_them_on_the_thumbnail(
    env: Path, clip: Path
) -> None:
    video = prepared(env, clip, "xd_NguyễnVănThànhzPhạmThịHồngNhungvsLêHoàngPhúczVy.mp4")
    for template in available_templates():
        plan = TEMPLATES[template].plan(match_text(load_metadata(video), cafe_zone()), LOGO_SIZE)
        shown = [" ".join(plan.text(team).text.split()) for team in ("team1", "team2")]
        assert shown == ["NGUYỄN VĂN THÀNH / PHẠM THỊ HỒNG NHUNG", "LÊ HOÀNG PHÚC / VY"], template


# ------------------------------------------------------------------------------ behaviour


def test_same_inputs_give_the_same_bytes_even_in_a_fresh_process(video: Path, env: Path) -> None:
    first = render_thumbnail(video, "template_b").read_bytes()
    (workspace_dir(video) / THUMBNAIL_FILE).unlink()
    script = (
        "import sys; from pathlib import Path; import thumbnail_enhancement as t; "
        "t.render_thumbnail(Path(sys.argv[1]), 'template_b')"
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(video)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (workspace_dir(video) / THUMBNAIL_FILE).read_bytes() == first


def test_an_up_to_date_thumbnail_is_kept_and_a_new_choice_renders_again(
    video: Path, env: Path, clip: Path, court: np.ndarray
) -> None:
    thumbnail = render_thumbnail(video, "template_b")
    made = thumbnail.stat()
    assert render_thumbnail(video, "template_b") == thumbnail
    kept = thumbnail.stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)

    def rendered_again(action) -> bool:
        before = thumbnail.stat()
        content = thumbnail.read_bytes()
        action()
        after = thumbnail.stat()
        return after.st_ino != before.st_ino and thumbnail.read_bytes() != content

    assert rendered_again(lambda: render_thumbnail(video, "template_a"))
    assert rendered_again(lambda: render_thumbnail(video, "template_b"))
    assert rendered_again(
        lambda: (choose_frame(video, court[::-1].copy()), render_thumbnail(video, "template_b"))
    )
    sidecar = {"tournament": "Friendly Game"}
    assert rendered_again(
        lambda: (prepared(env, clip, video.name, sidecar), render_thumbnail(video, "template_b"))
    )


def test_a_missing_or_broken_logo_renders_without_it_and_warns_once(
    video: Path, env: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_logo = np.asarray(Image.open(render_thumbnail(video, "template_a")))
    logo_box = (
        TEMPLATES["template_a"].plan(MatchText.create(["A"], ["B"], "Cafe Game"), LOGO_SIZE).logo
    )
    broken = env / "broken.png"
    broken.write_bytes(b"not a png")
    for path, problem in ((env / "missing.png", "missing"), (broken, "unreadable")):
        set_logo(monkeypatch, str(path))
        (workspace_dir(video) / THUMBNAIL_FILE).unlink()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="thumbnail_enhancement"):
            thumbnail = render_thumbnail(video, "template_a")
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert str(path) in warnings[0].getMessage() and problem in warnings[0].getMessage()
        without = np.asarray(Image.open(thumbnail))
        region = np.s_[
            round(logo_box.y0) : round(logo_box.y1), round(logo_box.x0) : round(logo_box.x1)
        ]
        assert np.abs(with_logo[region].astype(int) - without[region]).mean() > 20  # logo gone


def test_logo_path_draws_the_cafes_own_logo(
    video: Path, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = env / "own-logo.png"
    Image.new("RGBA", (400, 200), (230, 20, 20, 255)).save(own)
    set_logo(monkeypatch, str(own))
    plan = TEMPLATES["template_b"].plan(MatchText.create(["A"], ["B"], "Cafe Game"), (400, 200))
    image = np.asarray(Image.open(render_thumbnail(video, "template_b")))
    centre = image[round(plan.logo.center_y), round(plan.logo.center_x)]
    assert centre[0] > 200 and centre[1] < 60 and centre[2] < 60


def test_an_unknown_template_is_refused_with_the_available_ones(video: Path) -> None:
    with pytest.raises(UnknownTemplateError) as error:
        render_thumbnail(video, "template_z")
    message = str(error.value)
    assert isinstance(error.value, PipelineError)
    assert video.name in message and "'template_z'" in message
    assert "template_a, template_b" in message and "\n" not in message
    assert not (workspace_dir(video) / THUMBNAIL_FILE).exists()


def test_no_selection_says_to_run_select(env: Path, clip: Path) -> None:
    video = prepared(env, clip, "ms_HuyvsViet.mp4")
    with pytest.raises(NoSelectionError, match=r"ms_HuyvsViet\.mp4") as error:
        render_thumbnail(video, "template_b")
    assert "run `python main.py select`" in for_batch(error.value)


def test_an_unreadable_selected_frame_names_the_file_and_the_fix(video: Path) -> None:
    choose_frame(video, b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with pytest.raises(SelectedImageError) as error:
        render_thumbnail(video, "template_b")
    assert SELECTED_IMAGE in str(error.value) and "python main.py select" in for_batch(error.value)
    assert not (workspace_dir(video) / THUMBNAIL_FILE).exists()


# ------------------------------------------------------------------------------ odd frames


def frame_with_circle(width: int, height: int, radius: int) -> np.ndarray:
    """Grey, a black circle in the centre, red at the top or left and green at the bottom or
    right, where a centred 16:9 crop removes them."""
    frame = np.full((height, width, 3), 128, np.uint8)
    if height > width:
        frame[: height // 4] = (0, 0, 255)
        frame[-height // 4 :] = (0, 255, 0)
    else:
        frame[:, : width // 6] = (0, 0, 255)
        frame[:, -width // 6 :] = (0, 255, 0)
    cv2.circle(frame, (width // 2, height // 2), radius, (0, 0, 0), -1, cv2.LINE_AA)
    return frame


@pytest.mark.parametrize("template", available_templates())
@pytest.mark.parametrize("shape", [(1080, 1920), (3840, 1080)], ids=["portrait", "ultrawide"])
def test_odd_frames_are_cropped_around_the_centre_never_stretched(
    video: Path, template: str, shape: tuple[int, int]
) -> None:
    width, height = shape
    radius = 100
    choose_frame(video, frame_with_circle(width, height, radius))
    image = np.asarray(Image.open(render_thumbnail(video, template))).astype(int)
    frame = TEMPLATES[template].plan(MatchText.create(["A"], ["B"], "Cafe Game"), LOGO_SIZE).frame
    aspect = frame.width / frame.height
    scale = frame.height / height if width / height > aspect else frame.width / width
    cx, cy = round(frame.center_x), round(frame.center_y)
    window = image[cy - 180 : cy + 180, cx - 180 : cx + 180]
    ys, xs = np.nonzero(window.max(axis=2) < 50)
    circle_w, circle_h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert abs(circle_w - circle_h) <= 0.03 * circle_w, (circle_w, circle_h)  # round, not squashed
    assert abs(circle_w - 2 * radius * scale) <= 0.05 * circle_w
    assert abs((xs.min() + xs.max()) / 2 - 180) <= 3 and abs((ys.min() + ys.max()) / 2 - 180) <= 3
    for x, y in ((cx, 3), (cx, 716), (round(frame.x0) + 60, cy), (round(frame.x1) - 4, cy)):
        red, green, blue = image[y, x]
        assert max(abs(red - green), abs(green - blue)) < 20, f"colour band at {(x, y)}"


# ------------------------------------------------------------------------------ themes


def test_theme_follows_the_tournament() -> None:
    assert theme_for("Cafe Game").name == "blue"
    assert theme_for("Friendly Game").name == "white"
    assert theme_for("friendly  game").name == "white"
    assert theme_for("Tour HCM 2024").name == "purple"
    assert theme_for("Tournament of Champions").name == "purple"
    assert theme_for("Giải Mùa Hè").name == "blue"


@pytest.mark.parametrize(
    ("tournament", "looks"),
    [
        ("Cafe Game", "blue"),
        ("Friendly Game", "white"),
        ("Tour Hà Nội", "purple"),
        ("Giải Mùa Hè", "blue"),
    ],
)
def test_theme_colours_as_drawn(court: np.ndarray, tournament: str, looks: str) -> None:
    match = MatchText.create(["Nho"], ["Leo"], tournament)
    template = TEMPLATES["template_b"]
    plan = template.plan(match, LOGO_SIZE)
    image = np.asarray(compose(court, match, template, load_logo())).astype(int)
    red, green, blue = image[360, 10]  # the sidebar's margin
    if looks == "blue":
        assert blue > green + 40 > red + 40
    elif looks == "purple":
        assert blue > green + 80 and red > green + 30
    else:
        assert min(red, green, blue) > 215
    title = plan.text("tournament").ink
    text = image[round(title.y0) : round(title.y1), round(title.x0) : round(title.x1)]
    if looks == "white":
        assert text.sum(axis=2).min() < 3 * 70  # dark text on white
    else:
        assert text.min(axis=2).max() > 235  # white text on colour


# ------------------------------------------------------------------------------ CLI


def test_enhance_renders_every_selected_video_and_skips_the_others(env: Path, clip: Path) -> None:
    import main
    from thumbnail_ranking import rank_and_store_top_candidates
    from thumbnail_selector import record_selection

    chosen = prepared(env, clip, "md_NhozVinhvsKhanhzLeo.mp4")
    rank_and_store_top_candidates(chosen, 3)
    record_selection(chosen, None)
    waiting = prepared(env, clip, "ms_Nguyễn Đức HuyvsTrâm.mp4")
    runner = CliRunner()

    result = runner.invoke(main.app, ["enhance"])
    assert result.exit_code == 0, result.output
    assert "Skipping 1 video(s)" in result.output and waiting.name in result.output
    with Image.open(workspace_dir(chosen) / THUMBNAIL_FILE) as image:
        assert image.size == (1280, 720)
    assert not (workspace_dir(waiting) / THUMBNAIL_FILE).exists()
    default_render = (workspace_dir(chosen) / THUMBNAIL_FILE).read_bytes()

    result = runner.invoke(main.app, ["enhance", "--template", "template_a"])
    assert result.exit_code == 0 and "template_a" in result.output
    assert (workspace_dir(chosen) / THUMBNAIL_FILE).read_bytes() != default_render

    result = runner.invoke(main.app, ["enhance", "--template", "fancy"])
    assert result.exit_code == 2
    assert "'fancy'" in result.output and "template_a, template_b" in result.output
    assert "Traceback" not in result.output


def test_preview_templates_writes_one_contact_sheet(env: Path) -> None:
    import main

    result = CliRunner().invoke(main.app, ["preview-templates", "--out", str(env / "preview")])
    assert result.exit_code == 0, result.output
    sheets = list((env / "preview").iterdir())
    assert [sheet.name for sheet in sheets] == ["thumbnail-templates.png"]
    with Image.open(sheets[0]) as sheet:
        assert sheet.format == "PNG"
        pixels = np.asarray(sheet.convert("RGB"))
    # a thumbnail tile for each template in each sample row: many colours, not the background
    columns = len(available_templates())
    assert pixels.shape[1] > columns * 600 and pixels.shape[0] > 4 * 360
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 5000


@pytest.mark.parametrize("where", ["an existing file", "/proc/nope"])
def test_preview_templates_refuses_an_unusable_out_in_one_line(env: Path, where: str) -> None:
    import main

    out = Path(where)
    if where == "an existing file":
        out = env / "sheet.png"
        out.write_bytes(b"keep me")
    result = CliRunner().invoke(main.app, ["preview-templates", "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(out) in lines[0] and "pass --out a folder you can write to" in lines[0]
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    if where == "an existing file":
        assert out.read_bytes() == b"keep me"


def test_the_thumbnail_shows_the_crop_recorded_with_the_choice(
    video: Path, court: np.ndarray
) -> None:
    from thumbnail_enhancement import TEMPLATES
    from thumbnail_enhancement.renderer import cut_out, prepare_frame
    from workspace import SELECTION_FILE

    record = {
        "candidate_id": "x",
        "rank": 1,
        "timestamp": 1.0,
        "selected_at": "2024-12-25T10:00:00+00:00",
        "players": [[0.7, 0.45, 0.8, 0.9], [0.55, 0.5, 0.62, 0.88]],
        "crops": {"template_b": [0.5, 0.1, 1.0, 0.721]},  # template_a's is left to the players
    }
    (workspace_dir(video) / SELECTION_FILE).write_text(json.dumps(record))
    frame = cv2.imdecode(
        np.frombuffer((workspace_dir(video) / SELECTED_IMAGE).read_bytes(), np.uint8),
        cv2.IMREAD_COLOR,
    )

    for name, crop in (
        ("template_b", (0.5, 0.1, 1.0, 0.721)),
        ("template_a", TEMPLATES["template_a"].crop(record["players"], (1920, 1080))),
    ):
        thumbnail = cv2.imread(str(render_thumbnail(video, name)))
        template = TEMPLATES[name]
        photo, clear = template.photo, template.clear
        expected = cv2.cvtColor(prepare_frame(frame, photo, 0.0, crop), cv2.COLOR_RGB2BGR)
        rows = np.s_[round(clear.y0) : round(clear.y1)]
        columns = np.s_[round(clear.x0 - photo.x0) : round(clear.x1 - photo.x0)]
        shown = thumbnail[rows, round(clear.x0) : round(clear.x1)].astype(float)
        wanted = expected[rows, columns].astype(float)
        centre = cv2.cvtColor(prepare_frame(frame, photo, 0.0), cv2.COLOR_RGB2BGR)[rows, columns]
        # the vignette darkens the edges: compare the structure, not the brightness
        assert np.corrcoef(shown.ravel(), wanted.ravel())[0, 1] > 0.9, name
        assert (
            np.corrcoef(shown.ravel(), wanted.ravel())[0, 1]
            > np.corrcoef(shown.ravel(), centre.astype(float).ravel())[0, 1]
        ), f"{name}: the centre crop matches better than the recorded one"
        assert cut_out(frame, crop).shape[1] < frame.shape[1]
