"""Prepare on real encoded clips: file-name rules, YouTube-ready metadata, every bad input, the
probe (rotation, HEVC 10-bit), workspaces and reruns."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

import config
import video_prep
import workspace
from errors import PipelineError
from prepare.file_names import NAME_EXAMPLE, NAME_PATTERN
from prepare.match_text import build_title
from remedies import for_batch
from sample_clips import Segment, encode_clip
from video_prep import (
    EmptyVideoError,
    FileNameError,
    MatchMetadata,
    NotAVideoError,
    NoVideoStreamError,
    SidecarError,
    TruncatedVideoError,
    UnreadableVideoError,
    UnsupportedExtensionError,
    VideoInfo,
    describe_match,
    find_videos,
    load_metadata,
    parse_file_name,
    prepare_single_video,
    probe_video,
)
from workspace import METADATA_FILE, workspace_dir

REPO = Path(__file__).resolve().parent.parent
SEGMENTS = (Segment("empty", 0.5), Segment("rally", 1.5))
RECORDED = datetime(2024, 12, 25, 10, 0, tzinfo=UTC)  # 17:00 in the café
CAFE_TIME_ZONE = "ICT-7"  # POSIX for UTC+7 (Vietnam): needs no tz database
DOUBLES = "md_NhozVinhvsKhanhzLeo.mp4"
# what the probe finds in a 2 s 640x360 clip recorded at RECORDED (for the name-only tests)
PROBED = VideoInfo(2.0, 30.0, 640, 360, 640, 360, 0, "h264", "yuv420p", 8, RECORDED.isoformat())


@pytest.fixture(autouse=True)
def cafe_time_zone() -> Iterator[None]:
    """Run as the café's machine does, in Vietnam's time zone."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = CAFE_TIME_ZONE
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prep-clips")


@pytest.fixture(scope="module")
def dated_clip(clips: Path) -> Path:
    return encode_clip(clips / "dated.mp4", SEGMENTS, creation_time=RECORDED)


@pytest.fixture(scope="module")
def undated_clip(clips: Path) -> Path:
    return encode_clip(clips / "undated.mp4", SEGMENTS)


def place(source: Path, directory: Path, name: str) -> Path:
    """A copy of `source` named `name` in `directory` (keeping its modification time)."""
    directory.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(source, directory / name))


@dataclass(frozen=True)
class FileState:
    data: bytes
    mtime_ns: int
    mode: int


def state_of(path: Path) -> FileState:
    stat = path.stat()
    return FileState(path.read_bytes(), stat.st_mtime_ns, stat.st_mode)


def assert_one_line_naming(message: str, name: str, *fragments: str) -> None:
    assert "\n" not in message, f"must be one line: {message!r}"
    assert name in message, f"must name the file: {message!r}"
    for fragment in fragments:
        assert fragment in message, f"expected {fragment!r} in {message!r}"


# -- file names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "match_type"),
    [
        ("ms_HuyvsViet.mp4", "Men's Singles"),
        ("md_NhozVinhvsKhanhzLeo.mov", "Men's Doubles"),
        ("ws_TramvsVy.mp4", "Women's Singles"),
        ("wd_TramzVyvsLanzMai.mp4", "Women's Doubles"),
        ("xd_KhanhzVyvsZezTram.mp4", "Mixed Doubles"),
        ("XD_KhanhzVyvsZezTram.mp4", "Mixed Doubles"),
    ],
)
def test_type_code_gives_the_match_type(name: str, match_type: str) -> None:
    parsed = parse_file_name(name)
    assert video_prep.MATCH_TYPES[parsed.match_type] == match_type


@pytest.mark.parametrize(
    ("name", "team1", "team2"),
    [
        ("md_NhozVinhvsKhanhzLeo.mov", ["Nho", "Vinh"], ["Khanh", "Leo"]),
        ("md_Nho+VinhvsKhanh&Leo.mov", ["Nho", "Vinh"], ["Khanh", "Leo"]),
        ("md_Nho + VinhvsKhanh & Leo.mov", ["Nho", "Vinh"], ["Khanh", "Leo"]),
        ("xd_KhanhzVyvsZezTram_Friendly Game.mov", ["Khanh", "Vy"], ["Ze", "Tram"]),
        ("xd_LizzyzTamvsAnzZe.mp4", ["Lizzy", "Tam"], ["An", "Ze"]),
        ("ms_ZevsLizzy.mp4", ["Ze"], ["Lizzy"]),
        ("ms_LizévsDzung.mp4", ["Lizé"], ["Dzung"]),
        ("wd_TrâmzĐứcvsBảozÁnh.mp4", ["Trâm", "Đức"], ["Bảo", "Ánh"]),
        ("ms_EvsenvsAn.mp4", ["Evsen"], ["An"]),
        ("ms_anvsbinh.mp4", ["an"], ["binh"]),
        (
            "xd_NguyễnVănThànhzPhạmThịHồngNhungvsLêHoàngPhúczTrầnMinhQuang.mp4",
            ["Nguyễn Văn Thành", "Phạm Thị Hồng Nhung"],
            ["Lê Hoàng Phúc", "Trần Minh Quang"],
        ),
        ("ms_ĐứcHuyvsÁnhLê.mp4", ["Đức Huy"], ["Ánh Lê"]),
        ("md_LizzyZe+ĐỗAnvsBảo & ÁnhTuyết.mp4", ["Lizzy Ze", "Đỗ An"], ["Bảo", "Ánh Tuyết"]),
        ("ms_Nguyễn Văn ThànhvsTrâm.mp4", ["Nguyễn Văn Thành"], ["Trâm"]),
    ],
)
def test_partners_are_joined_by_z_plus_or_ampersand_and_names_with_z_stay_whole(
    name: str, team1: list[str], team2: list[str]
) -> None:
    parsed = parse_file_name(name)
    assert (parsed.team1, parsed.team2) == (team1, team2)


@pytest.mark.parametrize(
    ("name", "tournament"),
    [
        ("md_NhozVinhvsKhanhzLeo.mov", "Cafe Game"),
        ("md_NhozVinhvsKhanhzLeo_.mov", "Cafe Game"),
        ("xd_KhanhzVyvsZezTram_friendly game.mov", "Friendly Game"),
        ("ms_HuyvsViet_Tour HCM 2024.mp4", "Tour HCM 2024"),
        ("ms_HuyvsViet_giải mùa xuân.mp4", "Giải Mùa Xuân"),
        ("xd_KhanhzVyvsZezTram_Friendly_Game.mov", "Friendly Game"),
    ],
)
def test_tournament_defaults_to_cafe_game_and_is_title_cased(name: str, tournament: str) -> None:
    assert parse_file_name(name).tournament == tournament


@pytest.mark.parametrize("written", ["Nguyễn Đức Huy", "NguyễnĐứcHuy"])
def test_vietnamese_names_keep_their_diacritics_in_composed_form(env: Path, written: str) -> None:
    # macOS hands out decomposed (NFD) names; YouTube must get the composed letters
    decomposed = unicodedata.normalize("NFD", f"ms_{written}vsTrâm_Giải Hà Nội.mp4")
    parsed = parse_file_name(decomposed)
    assert parsed.team1 == ["Nguyễn Đức Huy"]
    assert parsed.team2 == ["Trâm"]
    assert parsed.tournament == "Giải Hà Nội"
    for text in (*parsed.team1, *parsed.team2, parsed.tournament):
        assert unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("match1.mp4", "no `_` after the type"),
        ("xx_HuyvsViet.mp4", "the type 'xx' is not one of"),
        ("md_NhozVinhKhanhzLeo.mp4", "separated by `vs`"),
        ("md_NhozVinhvs.mp4", "separated by `vs`"),
        ("md_NhovsKhanhzLeo.mp4", "Men's Doubles needs 2 player(s) a team, got Nho"),
        ("ms_HuyzVietvsAn.mp4", "Men's Singles needs 1 player(s) a team, got Huy / Viet"),
        ("md_Nho+vsKhanhzLeo.mp4", "needs 2 player(s)"),
    ],
)
def test_misnamed_file_is_explained_with_the_pattern_and_an_example(
    name: str, problem: str
) -> None:
    with pytest.raises(FileNameError) as raised:
        parse_file_name(name)
    assert_one_line_naming(str(raised.value), name, problem, NAME_PATTERN, NAME_EXAMPLE)


# -- YouTube metadata on real clips -------------------------------------------------------------


def test_prepare_writes_youtube_ready_metadata(env: Path, dated_clip: Path) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)

    metadata = prepare_single_video(video)

    assert metadata.title == "Nho/Vinh vs Khanh/Leo | Cafe Game (25 Dec 2024)"
    assert (metadata.match_type, metadata.match_type_name) == ("md", "Men's Doubles")
    assert (metadata.team1, metadata.team2) == (["Nho", "Vinh"], ["Khanh", "Leo"])
    assert metadata.tournament == "Cafe Game"
    assert datetime.fromisoformat(metadata.recorded_at) == RECORDED
    assert (metadata.duration_seconds, metadata.fps) == (2.0, 30.0)
    assert (metadata.width, metadata.height, metadata.rotation) == (640, 360, 0)
    assert metadata.codec == "h264"
    assert metadata.category_id == "17"
    assert metadata.privacy_status == "private"
    hashtags = re.findall(r"#\S+", metadata.description)
    assert hashtags == ["#cafebadminton", "#badminton", "#cafegame"]
    assert "Nho/Vinh vs Khanh/Leo" in metadata.description
    assert set(metadata.tags) >= {"badminton", "Men's Doubles", "Cafe Game", "Nho", "Vinh"}
    assert {"Khanh", "Leo"} <= set(metadata.tags)
    stored = json.loads((workspace_dir(video) / METADATA_FILE).read_text(encoding="utf-8"))
    assert stored == metadata.to_dict()
    assert load_metadata(video) == metadata


def test_vietnamese_tournament_gets_a_plain_hashtag_and_keeps_its_letters(
    env: Path, dated_clip: Path
) -> None:
    video = place(dated_clip, env / "videos", "wd_TrâmzVyvsLanzMai_giải hà nội.mp4")

    metadata = prepare_single_video(video)

    assert metadata.title == "Trâm/Vy vs Lan/Mai | Giải Hà Nội (25 Dec 2024)"
    assert re.findall(r"#\S+", metadata.description) == [
        "#cafebadminton",
        "#badminton",
        "#giaihanoi",
    ]
    assert "Giải Hà Nội" in metadata.tags


def test_full_names_written_without_spaces_show_with_their_spaces(
    env: Path, dated_clip: Path
) -> None:
    name = "xd_NguyễnVănThànhzPhạmThịHồngNhungvsLêHoàngPhúczTrầnMinhQuang.mp4"
    video = place(dated_clip, env / "videos", name)

    metadata = prepare_single_video(video)

    players = "Nguyễn Văn Thành/Phạm Thị Hồng Nhung vs Lê Hoàng Phúc/Trần Minh Quang"
    assert metadata.title == f"{players} | Cafe Game (25 Dec 2024)"
    assert metadata.description.startswith(f"Mixed Doubles: {players} at Cafe Game")
    assert {"Nguyễn Văn Thành", "Phạm Thị Hồng Nhung", "Trần Minh Quang"} <= set(metadata.tags)


def test_a_sidecar_name_is_shown_as_written(env: Path, dated_clip: Path) -> None:
    video = place(dated_clip, env / "videos", "ms_McDonaldvsNguyễnVănAn.mp4")
    assert prepare_single_video(video).team1 == ["Mc Donald"], "the file name alone is split"
    write_sidecar(video, {"team1": ["McDonald"], "team2": ["NguyễnVănAn"]})

    metadata = prepare_single_video(video)

    assert (metadata.team1, metadata.team2) == (["McDonald"], ["NguyễnVănAn"])
    assert metadata.title == "McDonald vs NguyễnVănAn | Cafe Game (25 Dec 2024)"


@pytest.mark.parametrize(
    ("tournament", "hashtags"),
    [
        ("***", ["#cafebadminton", "#badminton"]),
        ("Badminton", ["#cafebadminton", "#badminton"]),
        ("Cúp Đông 2024!", ["#cafebadminton", "#badminton", "#cupdong2024"]),
    ],
)
def test_hashtags_are_never_bare_or_repeated(
    env: Path, tournament: str, hashtags: list[str]
) -> None:

    metadata = describe_match(Path(f"ms_HuyvsViet_{tournament}.mp4"), PROBED)

    assert re.findall(r"#\S*", metadata.description) == hashtags


def test_date_falls_back_to_the_file_modification_time(env: Path, undated_clip: Path) -> None:
    assert probe_video(undated_clip).creation_time is None, "this clip must carry no date"
    video = place(undated_clip, env / "videos", DOUBLES)
    modified = datetime(2023, 3, 5, 9, 30, tzinfo=UTC).timestamp()
    os.utime(video, (modified, modified))

    metadata = prepare_single_video(video)

    assert metadata.title.endswith("(5 Mar 2023)")
    assert datetime.fromisoformat(metadata.recorded_at).timestamp() == modified


def test_date_is_the_cafe_local_date_not_utc(env: Path, clips: Path) -> None:
    # an early morning match at 6:30 in Vietnam is 23:30 the day before in UTC
    early = encode_clip(
        clips / "early.mp4", SEGMENTS, creation_time=datetime(2024, 12, 25, 23, 30, tzinfo=UTC)
    )
    video = place(early, env / "videos", DOUBLES)

    assert prepare_single_video(video).title.endswith("(26 Dec 2024)")


@pytest.fixture
def server_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker machine kept in UTC, for a café in Vietnam (CAFE_TIMEZONE)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setenv("CAFE_TIMEZONE", "Asia/Ho_Chi_Minh")
    config.get_settings.cache_clear()


AT_6_30_IN_VIETNAM = "2024-12-25T06:30:00+07:00"  # 23:30 UTC on the 24th


@pytest.mark.parametrize(
    ("extension", "tags"),
    [
        (".mp4", {"creation_time": "2024-12-24T23:30:00.000000Z"}),
        (".mov", {"com.apple.quicktime.creationdate": "2024-12-25T06:30:00+0700"}),
        (  # a phone's export: the copy's creation_time is later, Apple's tag keeps the match
            ".mov",
            {
                "com.apple.quicktime.creationdate": "2024-12-25T06:30:00+0700",
                "creation_time": "2025-01-03T10:00:00.000000Z",
            },
        ),
        (".mkv", {"DATE": "2024-12-24 23:30:00"}),
    ],
    ids=["mp4 creation_time", "apple creationdate", "apple over creation_time", "mkv DATE"],
)
def test_the_date_is_the_recordings_in_the_cafe_time_zone(
    env: Path, server_in_utc: None, extension: str, tags: dict[str, str]
) -> None:
    video = encode_clip(env / "videos" / f"md_NhozVinhvsKhanhzLeo{extension}", SEGMENTS, tags=tags)
    copied = datetime(2025, 2, 1, 12, 0, tzinfo=UTC).timestamp()
    os.utime(video, (copied, copied))  # the day the file was copied is not the match's

    metadata = prepare_single_video(video)

    assert metadata.recorded_at == AT_6_30_IN_VIETNAM
    assert metadata.title.endswith("(25 Dec 2024)")
    assert "recorded at the café on 25 Dec 2024" in metadata.description


def test_a_cafe_in_another_time_zone_gets_its_own_day(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAFE_TIMEZONE", "America/Los_Angeles")
    config.get_settings.cache_clear()
    tags = {"com.apple.quicktime.creationdate": "2024-12-25T06:30:00+0700"}
    video = encode_clip(env / "videos" / "md_NhozVinhvsKhanhzLeo.mov", SEGMENTS, tags=tags)

    metadata = prepare_single_video(video)

    assert metadata.recorded_at == "2024-12-24T15:30:00-08:00"
    assert metadata.title.endswith("(24 Dec 2024)")


def test_without_a_recording_time_the_modification_time_is_taken_in_the_cafe_time_zone(
    env: Path, server_in_utc: None, undated_clip: Path
) -> None:
    video = place(undated_clip, env / "videos", DOUBLES)
    modified = datetime(2023, 3, 5, 20, 0, tzinfo=UTC).timestamp()  # 03:00 on the 6th there
    os.utime(video, (modified, modified))

    metadata = prepare_single_video(video)

    assert metadata.recorded_at == "2023-03-06T03:00:00+07:00"
    assert metadata.title.endswith("(6 Mar 2023)")


def test_a_sidecar_time_without_a_zone_is_the_cafes(
    env: Path, server_in_utc: None, dated_clip: Path
) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)
    write_sidecar(video, {"recorded_at": "2025-01-02T20:00:00"})

    assert prepare_single_video(video).title.endswith("(2 Jan 2025)")


def test_privacy_comes_from_the_configuration(
    env: Path, dated_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDEO_PRIVACY_STATUS", "unlisted")
    config.get_settings.cache_clear()
    video = place(dated_clip, env / "videos", DOUBLES)

    assert prepare_single_video(video).privacy_status == "unlisted"


def write_sidecar(video: Path, content: str | dict[str, object]) -> Path:
    sidecar = video.with_name(video.name + ".json")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    sidecar.write_text(text, encoding="utf-8")
    return sidecar


def test_sidecar_overrides_fields_and_the_texts_follow(env: Path, dated_clip: Path) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)
    write_sidecar(
        video,
        {
            "team2": ["Khánh", "Lê Văn Long"],
            "tournament": "Hè Cup",
            "match_type": "xd",
            "privacy_status": "public",
            "recorded_at": "2025-01-02T19:00:00+07:00",
        },
    )

    metadata = prepare_single_video(video)

    assert metadata.title == "Nho/Vinh vs Khánh/Lê Văn Long | Hè Cup (2 Jan 2025)"
    assert (metadata.match_type, metadata.match_type_name) == ("xd", "Mixed Doubles")
    assert metadata.privacy_status == "public"
    assert re.findall(r"#\S+", metadata.description) == ["#cafebadminton", "#badminton", "#hecup"]
    assert {"Khánh", "Lê Văn Long", "Hè Cup", "Mixed Doubles"} <= set(metadata.tags)
    assert load_metadata(video) == metadata


def test_sidecar_title_description_and_tags_are_kept_within_youtube_limits(
    env: Path, dated_clip: Path
) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)
    long_title = "Chung kết <đôi nam> " + "rất hay " * 30
    write_sidecar(
        video,
        {
            "title": long_title,
            "description": "<b>Trận đấu</b> " * 1000,
            "tags": ["cầu lông", "<tag>", "a, b", *(f"tag number {i}" for i in range(100))],
        },
    )

    metadata = prepare_single_video(video)

    assert metadata.title.startswith("Chung kết ‹đôi nam› rất hay")
    assert len(metadata.title) <= 100
    assert_cut_at_word_boundary(metadata.title, shown(long_title))
    assert len(metadata.description.encode("utf-8")) <= 5000
    assert not re.search("[<>]", metadata.title + metadata.description + "".join(metadata.tags))
    assert metadata.tags[:3] == ["cầu lông", "‹tag›", "a  b"]
    assert youtube_tags_length(metadata.tags) <= 500


def test_sidecar_with_a_byte_order_mark_is_read(env: Path, dated_clip: Path) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)
    video.with_name(video.name + ".json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"tournament": "Notepad Cup"}).encode()
    )

    assert prepare_single_video(video).tournament == "Notepad Cup"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"title": "Final",', "not valid JSON"),
        ('["Final"]', "must hold a JSON object"),
        ('{"colour": "red"}', "unknown field(s) colour; fix or remove it (allowed: video_file"),
        ('{"team1": "Nho"}', "team1 must be a list of names"),
        ('{"team2": []}', "team2 must be a list of names"),
        ('{"tags": ["ok", 3]}', "tags must be a list of names"),
        ('{"privacy_status": "secret"}', "privacy_status must be one of private, unlisted, public"),
        ('{"tournament": " "}', "tournament must not be empty"),
        ('{"match_type": "mx"}', "match_type must be one of ms, md, ws, wd, xd"),
        ('{"match_type": ["md"]}', "match_type must be a text"),
        ('{"recorded_at": "yesterday"}', "recorded_at must be a time like 2024-12-25T18:30"),
        ('{"title": "  "}', "title must not be empty"),
        (
            '{"category_id": "Sports"}',
            'category_id must be a YouTube category number as text, e.g. "17"',
        ),
        ('{"category_id": 17}', "category_id must be a text"),
        # only invisible characters, which never reach YouTube: nothing would be left
        ('{"title": "\\u0000\\u202e\\n"}', "title must not be empty"),
        ('{"tournament": "\\t\\u2066"}', "tournament must not be empty"),
        ('{"team1": ["An", "\\u202e"]}', "team1 must be a list of names"),
        ('{"fps": "fast", "width": 1.5}', "fps must be a number; width must be a whole number"),
    ],
)
def test_bad_sidecar_is_explained_and_nothing_is_written(
    env: Path, dated_clip: Path, content: str, problem: str
) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)
    sidecar = write_sidecar(video, content)
    before = state_of(video)

    with pytest.raises(SidecarError) as raised:
        prepare_single_video(video)

    assert_one_line_naming(str(raised.value), str(sidecar), problem, "fix or remove it")
    assert state_of(video) == before
    assert not (workspace_dir(video) / METADATA_FILE).exists()


# -- YouTube's limits hold for every input ------------------------------------------------------

VIETNAMESE = "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵĐ"
# no `z`, `v` (a lowercase "vs" would split teams), `_`, `/`, `+` or `&`: they structure names
NAME_LETTERS = "abcdefghijklmnopqrstuwxyABCDEFGHIJKLMNOPQRSTUVWXY" + VIETNAMESE
NAME_SYMBOLS = "<>'.,-!()#0123456789"
DATE = "25 Dec 2024"


def shown(text: str) -> str:
    """How YouTube-bound text shows `<` and `>`, which YouTube refuses."""
    return text.replace("<", "‹").replace(">", "›")


def youtube_tags_length(tags: list[str]) -> int:
    """YouTube's count: tags joined by commas, a tag with a space counted with its quotes."""
    return len(",".join(f'"{tag}"' if " " in tag else tag for tag in tags))


def assert_cut_at_word_boundary(shortened: str, full: str) -> None:
    """`shortened` is `full` cut after a whole word (trailing separators dropped) plus "…"."""
    if "…" not in shortened:
        assert shortened == full
        return
    kept = shortened.split("…")[0].split()
    words = full.split()
    assert kept[:-1] == words[: len(kept) - 1], f"{shortened!r} is not a cut of {full!r}"
    assert words[len(kept) - 1].rstrip("|/,-") == kept[-1], f"{shortened!r} cut mid-word"


def random_word(rng: random.Random, longest: int) -> str:
    alphabet = NAME_LETTERS * 4 + NAME_SYMBOLS
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, longest)))


def random_name(rng: random.Random, longest_word: int = 12) -> str:
    return " ".join(random_word(rng, longest_word) for _ in range(rng.randint(1, 4)))


def random_file_name(rng: random.Random) -> str:
    """A name by the convention, at most 240 bytes like any real file's."""
    while True:
        match_type = rng.choice(list(video_prep.MATCH_TYPES))
        size = 1 if match_type.endswith("s") else 2
        teams = [
            "+".join(random_name(rng, rng.choice((6, 12, 30))) for _ in range(size))
            for _ in range(2)
        ]
        tournament = rng.choice(["", "_" + random_name(rng, rng.choice((8, 40)))])
        extension = rng.choice(video_prep.SUPPORTED_EXTENSIONS)
        name = f"{match_type}_{teams[0]}vs{teams[1]}{tournament}{extension}"
        if len(name.encode("utf-8")) <= 240:
            return name


def random_overrides(rng: random.Random) -> dict[str, object]:
    """Sidecar values far beyond what a file name can hold."""
    overrides: dict[str, object] = {}
    if rng.random() < 0.5:
        overrides["team1"] = [random_name(rng, 200) * rng.randint(1, 10)]
        overrides["team2"] = [random_name(rng, 30) for _ in range(rng.randint(1, 40))]
    if rng.random() < 0.5:
        overrides["tournament"] = random_name(rng, 50) * rng.randint(1, 30)
    if rng.random() < 0.3:
        overrides["title"] = " ".join(random_word(rng, 15) for _ in range(rng.randint(1, 60)))
    if rng.random() < 0.3:
        overrides["description"] = random_name(rng, 40) * rng.randint(1, 400)
    if rng.random() < 0.3:
        overrides["tags"] = [random_name(rng, 60) for _ in range(rng.randint(0, 80))]
    return overrides


def test_youtube_limits_hold_for_many_extreme_names(env: Path) -> None:
    rng = random.Random(20241225)
    folder = env / "videos"
    for _ in range(400):
        video = folder / random_file_name(rng)
        overrides = random_overrides(rng) if rng.random() < 0.4 else {}
        if overrides:
            write_sidecar(video, overrides)

        metadata = describe_match(video, PROBED)

        context = f"{video.name} with {overrides}"
        check_title(metadata, overrides, context)
        assert not re.search("[<>]", metadata.description), context
        assert len(metadata.description.encode("utf-8")) <= 5000, context
        assert all(tag.strip() for tag in metadata.tags), context
        assert metadata.tags or overrides.get("tags") == [], context
        assert not any(re.search("[<>,]", tag) for tag in metadata.tags), context
        assert youtube_tags_length(metadata.tags) <= 500, context
        video.with_name(video.name + ".json").unlink(missing_ok=True)


def assert_cut_between_names(shortened: str, full: str) -> None:
    """`shortened` is `full`, or `full` cut at a space or between partners, plus "…"."""
    if "…" not in shortened:
        assert shortened == full
        return
    kept = shortened.removesuffix("…")
    rest = full[len(kept) :]
    assert full.startswith(kept) and rest[:1] in (" ", "/", "|", ",", "-"), (
        f"{shortened!r} cut {full!r} inside a name"
    )


def check_title(metadata: MatchMetadata, overrides: dict[str, object], context: str) -> None:
    title = metadata.title
    assert 0 < len(title) <= 100, context
    assert not re.search("[<>]", title), context
    if "title" in overrides:
        assert_cut_at_word_boundary(title, shown(str(overrides["title"])))
        return
    teams = (metadata.team1, metadata.team2)
    players = shown(" vs ".join("/".join(team) for team in teams))
    tournament = shown(metadata.tournament)
    dated = f" ({DATE})"
    assert title.endswith(dated), context
    full = f"{players} | {tournament}{dated}"
    if len(full) <= 100:
        assert title == full, context
        return
    if " | " in title:  # the names shortened, the tournament kept
        shown_players, shown_tournament = title.removesuffix(dated).rsplit(" | ", 1)
        assert_cut_at_word_boundary(shown_tournament, tournament)
        shown_teams = shown_players.split(" vs ", 1)
        for part, team in zip(shown_teams, teams, strict=True):
            names = part.split("/")
            assert len(names) == len(team), context
            for name, written in zip(names, team, strict=True):
                assert is_a_short_form(name, shown(written)), f"{name!r} for {written!r}: {context}"
        if shown_tournament != tournament:  # cut only once every name is at its shortest
            shortest = " vs ".join("/".join(initial(name) for name in team) for team in teams)
            assert shown_players == shown(shortest), context
        return
    # the tournament went: even as initials, the names leave no room for its first word
    initials = " vs ".join("/".join(initial(name) for name in team) for team in teams)
    first_word = tournament.split(" ")[0]
    assert len(f"{initials} | {first_word}…{dated}") > 100, context
    # each team, as initials, cut by itself between names: both always shown
    for part, team in zip(title.removesuffix(dated).split(" vs ", 1), teams, strict=True):
        shortest = shown("/".join(initial(name) for name in team))
        assert part and shortest.startswith(part.removesuffix("…")), context
        assert_cut_between_names(part, shortest)


def initial(name: str) -> str:
    given = name.split()[-1] if name.split() else name
    letter = next((char for char in given if char.isalnum()), given[:1])
    return f"{letter}." if len(given) > 2 else given


def is_a_short_form(shown_name: str, written: str) -> bool:
    """The title shows a name in full, as its given name (the last word) or as its initial."""
    words = written.split()
    given = words[-1] if words else written
    return shown_name in (written, given, initial(written))


def test_a_long_first_team_never_pushes_the_second_out_of_the_title() -> None:
    first = ["Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaft", "Maximilian"]
    title = build_title(first, ["Khanh", "Leo"], "Cafe Game", DATE)
    assert title == f"W./Maximilian vs Khanh/Leo | Cafe Game ({DATE})"


def test_a_name_too_long_for_a_sidecar_beside_it_is_prepared(env: Path, dated_clip: Path) -> None:
    name = f"ms_{'A' * 122}vs{'B' * 122}.mp4"  # 253 bytes: "<name>.json" cannot exist
    video = place(dated_clip, env / "videos", name)
    metadata = prepare_single_video(video)
    assert metadata.team1 == ["A" * 122] and len(metadata.title) <= 100


def test_a_title_too_long_for_youtube_shortens_the_names_and_keeps_the_tournament() -> None:
    long_names = "md_NguyễnVănThànhzTrầnMinhQuangvsLêHoàngPhúczPhạmĐứcAnh"
    given = describe_match(Path(f"{long_names}_Giải Cầu Lông Mùa Xuân Hà Nội 2024.mp4"), PROBED)
    assert given.title == (
        "Thành/Quang vs Phúc/Anh | Giải Cầu Lông Mùa Xuân Hà Nội 2024 (25 Dec 2024)"
    )
    assert "Nguyễn Văn Thành/Trần Minh Quang vs Lê Hoàng Phúc/Phạm Đức Anh" in given.description

    four = "wd_NguyễnThịThanhTrâmzPhạmThịÁnhTuyếtvsVõThịMỹDuyênzHoàngThịPhươngThảo"
    tournament = "Giải Cầu Lông Mở Rộng Các Câu Lạc Bộ Quận Ba Đình Hà Nội 2024"
    initials = describe_match(Path(f"{four}_{tournament}.mp4"), PROBED)
    assert initials.title == f"Trâm/T. vs Duyên/Thảo | {tournament} (25 Dec 2024)", (
        "then the longest given names go to their initials, one at a time"
    )

    longer = tournament.replace("2024", "Lần Thứ Mười Hai")
    cut = describe_match(Path(f"{four}_{longer}.mp4"), PROBED)
    assert cut.title == (
        "T./T. vs D./T. | Giải Cầu Lông Mở Rộng Các Câu Lạc Bộ Quận Ba Đình Hà Nội Lần Thứ… "
        "(25 Dec 2024)"
    ), "and at last the tournament is cut between words"


# -- bad input ----------------------------------------------------------------------------------


def truncated_copy(dated_clip: Path, target: Path) -> None:
    data = dated_clip.read_bytes()
    target.write_bytes(data[: len(data) // 2])  # the index (moov) is written last: it is lost


def audio_only(_: Path, target: Path) -> None:
    with av.open(str(target), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100, layout="mono")
        seconds = np.arange(44100 * 2) / 44100
        tone = (0.2 * np.sin(2 * np.pi * 440 * seconds)).astype(np.float32)
        for start in range(0, len(tone) - 1024, 1024):
            samples = tone[None, start : start + 1024]
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def still_image(_: Path, target: Path) -> None:
    target.write_bytes(cv2.imencode(".png", np.full((360, 640, 3), 120, np.uint8))[1].tobytes())


@dataclass(frozen=True)
class BadInput:
    label: str
    name: str
    make: Callable[[Path, Path], None]
    error: type[PipelineError]
    problem: str
    fix: str


BAD_INPUTS = [
    BadInput(
        "zero-byte",
        DOUBLES,
        lambda _, target: target.write_bytes(b""),
        EmptyVideoError,
        "empty (0 bytes)",
        "copy the recording again",
    ),
    BadInput(
        "text file",
        DOUBLES,
        lambda _, target: target.write_text("match notes: Nho/Vinh won 21-19\n" * 20),
        NotAVideoError,
        "not a video file",
        "check it is the camera's recording",
    ),
    BadInput(
        "still image",
        "ms_HuyvsViet.mov",
        still_image,
        NotAVideoError,
        "still image, not a video",
        "use the camera's recording",
    ),
    BadInput(
        "truncated",
        DOUBLES,
        truncated_copy,
        TruncatedVideoError,
        "cut off (missing index)",
        "copy it again from the camera",
    ),
    BadInput(
        "audio only",
        "ms_HuyvsViet.m4v",
        audio_only,
        NoVideoStreamError,
        "no video stream",
        "export the recording with its video",
    ),
    BadInput(
        "unsupported extension",
        "md_NhozVinhvsKhanhzLeo.avi",
        lambda clip, target: shutil.copy2(clip, target),
        UnsupportedExtensionError,
        ".avi is not supported",
        "re-export as .mp4",
    ),
    BadInput(
        "misnamed",
        "match 3 court 2.mp4",
        lambda clip, target: shutil.copy2(clip, target),
        FileNameError,
        "no `_` after the type",
        f"rename it as {NAME_PATTERN} (e.g. {NAME_EXAMPLE}",
    ),
]


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[bad.label for bad in BAD_INPUTS])
def test_bad_input_has_its_own_error_and_the_source_stays_untouched(
    env: Path, dated_clip: Path, bad: BadInput
) -> None:
    video = env / "videos" / bad.name
    bad.make(dated_clip, video)
    before = state_of(video)

    with pytest.raises(bad.error) as raised:
        prepare_single_video(video)

    assert type(raised.value) is bad.error
    assert_one_line_naming(str(raised.value), bad.name, bad.problem, bad.fix)
    assert state_of(video) == before
    assert not workspace_dir(video).exists()


def test_every_kind_of_bad_input_is_its_own_pipeline_error() -> None:
    kinds = [
        EmptyVideoError,
        NotAVideoError,
        TruncatedVideoError,
        NoVideoStreamError,
        UnreadableVideoError,
        UnsupportedExtensionError,
        FileNameError,
        SidecarError,
    ]
    assert all(issubclass(kind, PipelineError) for kind in kinds)
    for kind, other in itertools.permutations(kinds, 2):
        assert not issubclass(kind, other), f"{kind.__name__} must not pass for {other.__name__}"


PREPARE_AS_AN_ORDINARY_USER = """
import os
import pwd
import sys
from pathlib import Path

import errors
import video_prep

if os.geteuid() == 0:  # root reads any file whatever its mode: drop to `nobody` after the imports
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
video, readable = Path(sys.argv[1]), Path(sys.argv[2])
for path in (readable, video):
    try:
        path.open("rb").close()
        print("can read", path.name)
    except PermissionError:
        print("cannot read", path.name)
try:
    video_prep.prepare_single_video(video)
    print("prepared")
except errors.PipelineError as error:
    print(type(error).__name__)
    print(error)
"""


def test_unreadable_file_is_explained_and_stays_as_it_was(dated_clip: Path) -> None:
    # CI runs as root, which chmod cannot stop: the child process then gives up root for
    # `nobody`, in a world-readable folder so that only the file's mode keeps it out.
    with tempfile.TemporaryDirectory(prefix="unreadable-") as folder:
        Path(folder).chmod(0o755)
        readable = place(dated_clip, Path(folder), "ms_HuyvsViet.mp4")
        video = place(dated_clip, Path(folder), DOUBLES)
        video.chmod(0)
        before = state_of(video)
        result = subprocess.run(
            [sys.executable, "-c", PREPARE_AS_AN_ORDINARY_USER, str(video), str(readable)],
            cwd=REPO,
            env={**os.environ, "WORKSPACE_DIR": str(Path(folder) / "workspace")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = result.stdout.splitlines()
        assert result.returncode == 0, result.stderr
        # the set-up must really keep this file, and only this file, from the user
        assert lines[:2] == [f"can read {readable.name}", f"cannot read {video.name}"]
        assert lines[2] == "UnreadableVideoError"
        assert_one_line_naming(lines[3], str(video), "permission denied", "chmod a+r")
        assert len(lines) == 4
        assert state_of(video) == before
        assert not (Path(folder) / "workspace").exists()


# -- probe --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rotation", "display"), [(90, (360, 640)), (270, (360, 640))])
def test_portrait_phone_video_has_its_display_size_swapped(
    env: Path, rotation: int, display: tuple[int, int]
) -> None:
    video = encode_clip(env / "videos" / DOUBLES, SEGMENTS, rotation=rotation)

    metadata = prepare_single_video(video)

    assert (metadata.width, metadata.height) == display
    assert metadata.rotation == rotation


def test_upside_down_video_keeps_its_size(env: Path) -> None:
    video = encode_clip(env / "videos" / DOUBLES, SEGMENTS, rotation=180)

    metadata = prepare_single_video(video)

    assert (metadata.width, metadata.height, metadata.rotation) == (640, 360, 180)


def test_hevc_10_bit_is_probed(env: Path) -> None:
    video = encode_clip(
        env / "videos" / "ms_HuyvsViet.mkv", SEGMENTS, codec="libx265", pix_fmt="yuv420p10le"
    )

    info = probe_video(video)
    metadata = prepare_single_video(video)

    assert (info.codec, info.bit_depth) == ("hevc", 10)
    assert (metadata.codec, metadata.width, metadata.height) == ("hevc", 640, 360)
    assert metadata.duration_seconds == pytest.approx(2.0, abs=0.05)


def test_every_supported_extension_in_any_case_is_found_and_prepared(env: Path) -> None:
    folder = env / "videos"
    names = [f"ms_Player{i}vsRival.{ext}" for i, ext in enumerate(("mov", "MOV", "mp4", "M4v"))]
    names.append("ms_Player4vsRival.MKV")
    for name in names:
        encode_clip(folder / name, SEGMENTS)
    (folder / "ms_NotesvsRival.txt").write_text("notes")
    (folder / "ms_OldvsRival.avi").write_bytes(b"RIFF")
    (folder / ".ms_HiddenvsRival.mp4").write_bytes(b"")

    found = find_videos(folder)

    assert [video.name for video in found] == sorted(names)
    for video in found:
        assert prepare_single_video(video).codec == "h264"


# -- workspace ----------------------------------------------------------------------------------


def test_same_stem_with_different_extensions_gets_separate_workspaces(
    env: Path, dated_clip: Path, undated_clip: Path
) -> None:
    mov = place(dated_clip, env / "videos", "md_NhozVinhvsKhanhzLeo.mov")
    mp4 = place(undated_clip, env / "videos", "md_NhozVinhvsKhanhzLeo.mp4")
    os.utime(mp4, (datetime(2023, 3, 5, tzinfo=UTC).timestamp(),) * 2)

    first, second = prepare_single_video(mov), prepare_single_video(mp4)

    assert workspace_dir(mov) != workspace_dir(mp4)
    assert (first.video_file, second.video_file) == (mov.name, mp4.name)
    assert load_metadata(mov).title.endswith("(25 Dec 2024)")
    assert load_metadata(mp4).title.endswith("(5 Mar 2023)")


def test_rerun_rewrites_identical_metadata_atomically(env: Path, dated_clip: Path) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)
    prepare_single_video(video)
    stored = workspace_dir(video) / METADATA_FILE
    first_bytes, first_inode = stored.read_bytes(), stored.stat().st_ino

    prepare_single_video(video)

    assert stored.read_bytes() == first_bytes
    assert stored.stat().st_ino != first_inode, "replaced by a rename, not written in place"
    assert [path.name for path in workspace_dir(video).iterdir()] == [METADATA_FILE]


def test_a_failed_write_keeps_the_previous_metadata_and_leaves_no_temp_file(
    env: Path, dated_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)
    prepare_single_video(video)
    stored = workspace_dir(video) / METADATA_FILE
    before = stored.read_bytes()
    write_sidecar(video, {"tournament": "Hè Cup"})

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workspace.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        prepare_single_video(video)

    assert stored.read_bytes() == before
    assert [path.name for path in workspace_dir(video).iterdir()] == [METADATA_FILE]


def test_metadata_of_an_unprepared_video_says_to_run_prepare(env: Path) -> None:
    with pytest.raises(video_prep.MetadataMissingError) as raised:
        load_metadata(env / "videos" / DOUBLES)

    assert_one_line_naming(for_batch(raised.value), DOUBLES, "not prepared yet", "main.py prepare")


@pytest.mark.parametrize("damage", ['{"title": "cut', '{"title": "no other field"}'])
def test_damaged_metadata_says_to_prepare_again(env: Path, dated_clip: Path, damage: str) -> None:
    video = place(dated_clip, env / "videos", DOUBLES)
    prepare_single_video(video)
    (workspace_dir(video) / METADATA_FILE).write_text(damage, encoding="utf-8")

    with pytest.raises(video_prep.MetadataUnreadableError) as raised:
        load_metadata(video)

    assert_one_line_naming(for_batch(raised.value), DOUBLES, "is unreadable", "main.py prepare`")
