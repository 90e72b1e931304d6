"""What a channel manager sees of a published video, against tests/fake_youtube.py, which
replaces a part on `videos.update` as YouTube does (a property left out is reset).

The video keeps its settings when it goes public, joins its tournament's playlist exactly once
(crashes and failed answers included), gets the filled description template, its language and
recording date, or is scheduled with `publishAt`; text is cleaned of controls and bidi overrides;
the quota units a video costs are counted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import config
import uploader
from config import ConfigError
from formats.cleaning import clean_text
from formats.publish_at import publish_time
from prepare.match_text import recording_date
from remedies import for_batch
from tests.fake_youtube import (
    QUOTA_MESSAGE,
    THUMBNAIL_FORBIDDEN_MESSAGE,
    FakePlaylist,
)
from tests.upload_support import add_ready_video
from uploader import listing_options
from video_prep import (
    SidecarError,
    VideoInfo,
    describe_match,
    load_metadata,
)
from workspace import METADATA_FILE, UPLOAD_FILE, atomic_write_json, read_json, workspace_dir
from youtube.listing import build_listing

REPO = Path(__file__).resolve().parents[1]
RECORDED_AT = "2024-12-25T11:30:00+00:00"
INFO = VideoInfo(600.0, 30.0, 1920, 1080, 1920, 1080, 0, "h264", "yuv420p", 8, RECORDED_AT)
# Characters that must never reach YouTube: C0 and C1 controls but the line break, bidi controls.
FORBIDDEN = {*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0)), *"\u202a\u202b\u202c"}
FORBIDDEN |= {*"\u202d\u202e\u2066\u2067\u2068\u2069"}


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    config.get_settings.cache_clear()


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def texts(snippet: dict[str, Any]) -> list[str]:
    return [snippet["title"], snippet["description"], *snippet.get("tags", [])]


# -- the video's settings survive the privacy change --------------------------------------------


@pytest.mark.parametrize("privacy", ["public", "unlisted"])
def test_going_public_keeps_embedding_and_public_statistics(
    env, monkeypatch, youtube, clip_cache, privacy
):
    set_env(monkeypatch, VIDEO_PRIVACY_STATUS=privacy)
    video = add_ready_video(clip_cache, env)

    record = uploader.upload_single_video(video)

    status = youtube.videos[record.video_id].status
    assert status["privacyStatus"] == privacy and record.privacy_status == privacy
    assert status["embeddable"] is True and status["publicStatsViewable"] is True
    assert status["license"] == "youtube" and status["selfDeclaredMadeForKids"] is False
    assert "publishAt" not in status


def test_settings_changed_in_studio_before_the_video_goes_public_are_kept(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, VIDEO_PRIVACY_STATUS="public")
    video = add_ready_video(clip_cache, env)
    youtube.fail("thumbnails.set", 403, "forbidden", THUMBNAIL_FORBIDDEN_MESSAGE)
    with pytest.raises(uploader.ThumbnailNotAllowedError):
        uploader.upload_single_video(video)
    (held,) = youtube.videos.values()
    held.status.update(license="creativeCommon", embeddable=False)  # the manager, in Studio

    uploader.upload_single_video(video)  # once the channel is verified

    assert held.status["privacyStatus"] == "public"
    assert held.status["license"] == "creativeCommon" and held.status["embeddable"] is False
    assert held.status["publicStatsViewable"] is True


# -- description, language, recording date, made for kids --------------------------------------


def test_the_video_gets_the_default_description_its_language_and_the_cafes_recording_day(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, CAFE_TIMEZONE="Asia/Ho_Chi_Minh")
    recorded_at = "2024-12-24T23:30:00+00:00"  # 06:30 on the 25th at the café
    video = add_ready_video(
        clip_cache, env, "md_AnzBinhvsChizDung_Tour HCM.mp4", {"recorded_at": recorded_at}
    )

    record = uploader.upload_single_video(video)

    held = youtube.videos[record.video_id]
    day = recording_date(recorded_at, config.get_settings().cafe_timezone)
    assert held.snippet["description"] == (
        "Men's Doubles: An/Binh vs Chi/Dung at Tour HCM, recorded at the café on "
        f"{day}.\n\nPlayers: An, Binh, Chi, Dung\n\n"
        "#cafebadminton #badminton #tourhcm"
    )
    assert held.snippet["defaultLanguage"] == held.snippet["defaultAudioLanguage"] == "vi"
    assert held.recording_details == {"recordingDate": "2024-12-25T00:00:00Z"}
    assert held.status["selfDeclaredMadeForKids"] is False


def test_a_recording_time_without_a_zone_is_the_cafes_in_the_title_and_the_recording_date(
    env, monkeypatch
):
    """Whatever zone the machine is set to: the title and YouTube's recording date name the
    same day, the café's."""
    set_env(monkeypatch, CAFE_TIMEZONE="Asia/Ho_Chi_Minh")
    machine_zone = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"  # 15 hours behind the café
    time.tzset()
    try:
        listing = listing_for(env, {"recorded_at": "2024-12-25T23:30:00"})
    finally:
        if machine_zone is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = machine_zone
        time.tzset()
    assert "25 Dec 2024" in listing.title
    assert listing.recording_date == "2024-12-25"


def test_a_description_template_of_the_cafes_own_with_language_and_made_for_kids(
    env, monkeypatch, youtube, clip_cache
):
    template = env / "description.txt"
    template.write_text(
        "{teams} ({match_type}) | {tournament} | {date}\n"
        "{team1} against {team2}: {players}\n{hashtags} {{not a placeholder}}\n",
        encoding="utf-8",
    )
    set_env(
        monkeypatch,
        DESCRIPTION_TEMPLATE=str(template),
        VIDEO_LANGUAGE="en-US",
        MADE_FOR_KIDS="true",
    )
    video = add_ready_video(clip_cache, env)
    date = recording_date(load_metadata(video).recorded_at, config.get_settings().cafe_timezone)

    record = uploader.upload_single_video(video)

    held = youtube.videos[record.video_id]
    assert held.snippet["description"] == (
        f"An/Binh vs Chi/Dung (Men's Doubles) | Cafe Game | {date}\n"
        "An/Binh against Chi/Dung: An, Binh, Chi, Dung\n"
        "#cafebadminton #badminton #cafegame {not a placeholder}"
    )
    assert held.snippet["defaultLanguage"] == held.snippet["defaultAudioLanguage"] == "en-US"
    assert held.status["selfDeclaredMadeForKids"] is True


def test_a_sidecars_own_description_is_used_as_it_is(env, youtube, clip_cache):
    own = "The final of the day.\nWatch it to the end!"
    video = add_ready_video(clip_cache, env, sidecar={"description": own})
    record = uploader.upload_single_video(video)
    assert youtube.videos[record.video_id].snippet["description"] == own


def listing_for(env: Path, sidecar: dict[str, Any]) -> Any:
    """The listing of a video whose metadata comes from `sidecar` (probe values stand in)."""
    video = env / "videos" / "xd_AnzBinhvsChizDung.mp4"
    video.with_name(video.name + ".json").write_text(json.dumps(sidecar), encoding="utf-8")
    return build_listing(describe_match(video, INFO), listing_options(config.get_settings()))


def test_the_default_description_stays_within_youtubes_5000_bytes(env):
    longest = {
        "team1": ["Nguyễn Thị Phương Thảo Anh", "Trần Hoàng Bảo Ngọc Minh"] * 2,
        "team2": ["Lê Văn Quốc Trung Hiếu", "Phạm Đức Khánh Duy Long"] * 2,
        "tournament": "Giải Cầu Lông Mở Rộng Quận Bình Thạnh 24",
    }
    description = listing_for(env, longest).description
    assert len(description.encode()) < 1000
    assert description.endswith("#cafebadminton #badminton #giaicaulongmorongquanbinhthanh24")

    absurd = listing_for(env, {"tournament": "Giải Đấu " * 700}).description
    assert 4900 < len(absurd.encode()) <= 5000


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{teams} {score}\n", "unknown placeholder {score}; the placeholders are {teams}"),
        ("{teams} {\n", "a lone { or }"),
        ("{teams!r}\n", "{teams} carries a format"),
    ],
)
def test_a_description_template_is_checked_when_the_settings_load(tmp_path, content, problem):
    template = tmp_path / "description.txt"
    template.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        config.load_settings({"DESCRIPTION_TEMPLATE": str(template)}, env_file=tmp_path / ".env")
    line = f"DESCRIPTION_TEMPLATE={str(template)!r}: "
    assert line in str(error.value) and problem in str(error.value)


def test_every_new_setting_that_is_wrong_is_one_line_of_one_message(tmp_path):
    bad = {
        "DESCRIPTION_TEMPLATE": (str(tmp_path / "missing.txt"), "no such file"),
        "YOUTUBE_PLAYLIST": ("{tournament} {year}", "unknown placeholder {year}"),
        "PUBLISH_AT": ("6pm", "expected a time of day like 18:00"),
        "VIDEO_LANGUAGE": ("Vietnamese", "expected a language code"),
        "MADE_FOR_KIDS": ("maybe", "expected true or false"),
        "CAFE_TIMEZONE": ("Asia", "expected an IANA time zone name"),  # a region, not a zone
    }
    with pytest.raises(ConfigError) as error:
        config.load_settings({k: v for k, (v, _) in bad.items()}, env_file=tmp_path / ".env")
    lines = str(error.value).splitlines()
    for variable, (value, problem) in bad.items():
        (line,) = [line for line in lines if f"{variable}={value!r}" in line]
        assert problem in line, line


# -- playlists ----------------------------------------------------------------------------------


def test_the_video_joins_its_tournaments_playlist_found_on_any_page(
    env, monkeypatch, youtube, clip_cache
):
    youtube.playlist_page_size = 2
    for title in ("Tour HCM", "Friendly Game", "Tour HN", "Highlights"):
        youtube.add_playlist(title)
    existing = youtube.add_playlist("CAFE GAME")  # made by hand, on the third page
    video = add_ready_video(clip_cache, env)

    record = uploader.upload_single_video(video)

    assert existing.video_ids == [record.video_id]
    assert record.playlist == "Cafe Game" and record.playlist_id == existing.id
    assert len(youtube.calls_named("playlists.list")) == 3
    assert youtube.calls_named("playlists.insert") == []


def test_videos_of_a_new_tournament_share_the_one_playlist_made_for_it(env, youtube, clip_cache):
    first = add_ready_video(clip_cache, env, "ms_HuyvsViet_Tour HCM.mp4")
    second = add_ready_video(clip_cache, env, "ms_AnvsBinh_Tour HCM.mp4")
    ids = [uploader.upload_single_video(video).video_id for video in (first, second)]
    (playlist,) = youtube.playlists.values()
    assert playlist.title == "Tour HCM" and playlist.video_ids == ids
    assert playlist.privacy == "private"  # as visible as its videos (VIDEO_PRIVACY_STATUS)


def test_the_playlist_setting_is_a_template_and_empty_means_none(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, YOUTUBE_PLAYLIST="{tournament} – {match_type}")
    first = add_ready_video(clip_cache, env)
    assert uploader.upload_single_video(first).playlist == "Cafe Game – Men's Doubles"
    assert [p.title for p in youtube.playlists.values()] == ["Cafe Game – Men's Doubles"]

    set_env(monkeypatch, YOUTUBE_PLAYLIST="")
    second = add_ready_video(clip_cache, env, "ms_HuyvsViet.mp4")
    calls = len(youtube.calls)
    record = uploader.upload_single_video(second)
    assert record.complete and record.playlist is None and record.playlist_id is None
    assert not [name for name in youtube.call_names()[calls:] if name.startswith("playlist")]


@pytest.mark.parametrize("call", ["playlistItems.insert", "playlists.insert"])
def test_a_crash_right_after_a_playlist_call_never_adds_twice_nor_makes_a_second_playlist(
    env, monkeypatch, youtube, clip_cache, call
):
    set_env(monkeypatch, VIDEO_PRIVACY_STATUS="public")
    video = add_ready_video(clip_cache, env)
    pause = youtube.pause_after(call)
    script = "import sys, uploader; uploader.upload_single_video(sys.argv[1])"
    child = subprocess.Popen([sys.executable, "-c", script, str(video)], cwd=REPO)
    try:
        assert pause.reached.wait(60), f"the upload never reached {call}"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
        pause.release.set()
    assert uploader.load_upload_record(video).steps_done == ["video", "thumbnail", "privacy"]

    record = uploader.upload_single_video(video)

    assert record.complete and len(youtube.videos) == 1
    (playlist,) = youtube.playlists_titled("Cafe Game")
    assert playlist.video_ids == [record.video_id]
    status = youtube.videos[record.video_id].status
    assert status["privacyStatus"] == "public" and status["embeddable"] is True


def test_two_machines_creating_one_new_playlist_end_with_one(env, youtube, clip_cache):
    video = add_ready_video(clip_cache, env)
    first: list[FakePlaylist] = []
    # the other machine creates the tournament's playlist between this one's look and its insert
    youtube.meanwhile("playlists.insert", lambda: first.append(youtube.add_playlist("Cafe Game")))

    record = uploader.upload_single_video(video)

    (playlist,) = youtube.playlists_titled("Cafe Game")
    assert playlist is first[0] and playlist.video_ids == [record.video_id]
    assert record.playlist_id == playlist.id
    assert [call.status for call in youtube.calls_named("playlists.delete")] == [200]


def test_a_playlist_deleted_in_studio_before_the_video_joined_it_is_made_again(
    env, youtube, clip_cache
):
    video = add_ready_video(clip_cache, env)
    youtube.fail("playlistItems.insert", 403, "quotaExceeded", QUOTA_MESSAGE)
    with pytest.raises(uploader.QuotaExceededError):
        uploader.upload_single_video(video)
    (deleted,) = youtube.playlists.values()
    del youtube.playlists[deleted.id]  # the channel manager removed it in YouTube Studio

    record = uploader.upload_single_video(video)

    (playlist,) = youtube.playlists_titled("Cafe Game")
    assert playlist.id != deleted.id and playlist.video_ids == [record.video_id]
    assert record.complete and record.playlist_id == playlist.id
    assert uploader.load_upload_record(video).playlist_id == playlist.id


@pytest.mark.parametrize("call", ["playlistItems.insert", "playlists.insert"])
def test_a_playlist_call_that_failed_after_taking_effect_is_not_sent_again(
    env, youtube, clip_cache, call
):
    video = add_ready_video(clip_cache, env)
    youtube.fail(call, 503, "backendError", "Backend Error", after_effect=True)

    record = uploader.upload_single_video(video)

    (playlist,) = youtube.playlists.values()
    assert playlist.video_ids == [record.video_id]
    assert [c.status for c in youtube.calls_named(call)] == [503]


# -- scheduled publishing -----------------------------------------------------------------------


def test_a_time_of_day_schedules_the_video_for_its_next_occurrence_at_the_cafe(
    env, monkeypatch, youtube, clip_cache
):
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    at = (datetime.now(zone) + timedelta(hours=3)).replace(second=0, microsecond=0)
    set_env(monkeypatch, CAFE_TIMEZONE="Asia/Ho_Chi_Minh", PUBLISH_AT=f"{at:%H:%M}")
    video = add_ready_video(clip_cache, env)

    record = uploader.upload_single_video(video)

    status = youtube.videos[record.video_id].status
    assert status["privacyStatus"] == "private" and status["publishAt"] == rfc3339(at)
    assert status["embeddable"] is True and status["publicStatsViewable"] is True
    assert record.privacy_status == "private" and record.publish_at == at.isoformat()
    assert read_json(workspace_dir(video) / UPLOAD_FILE)["publish_at"] == at.isoformat()
    (playlist,) = youtube.playlists.values()
    assert playlist.privacy == "public"  # the video will be


def test_a_sidecars_publish_at_wins_over_the_setting_and_empty_turns_it_off(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, PUBLISH_AT="18:00", VIDEO_PRIVACY_STATUS="unlisted")
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    scheduled = add_ready_video(clip_cache, env, sidecar={"publish_at": when.isoformat()})
    now = add_ready_video(clip_cache, env, "ms_HuyvsViet.mp4", {"publish_at": ""})

    first, second = (uploader.upload_single_video(video) for video in (scheduled, now))

    assert youtube.videos[first.video_id].status["publishAt"] == rfc3339(when)
    status = youtube.videos[second.video_id].status
    assert status["privacyStatus"] == "unlisted" and "publishAt" not in status
    assert second.publish_at is None


def test_a_sidecars_privacy_keeps_its_video_out_of_the_schedule(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, PUBLISH_AT="18:00")
    kept = add_ready_video(clip_cache, env, sidecar={"privacy_status": "private"})
    when = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    both = {"privacy_status": "private", "publish_at": when.isoformat()}
    scheduled = add_ready_video(clip_cache, env, "ms_HuyvsViet.mp4", both)

    first, second = (uploader.upload_single_video(video) for video in (kept, scheduled))

    status = youtube.videos[first.video_id].status
    assert status["privacyStatus"] == "private" and "publishAt" not in status
    assert first.publish_at is None  # stays private: `status` shows no time it goes public
    assert youtube.videos[second.video_id].status["publishAt"] == rfc3339(when)


def test_a_publish_time_already_past_is_one_clear_error_before_anything_uploads(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, PUBLISH_AT="2020-01-01T18:00")
    video = add_ready_video(clip_cache, env)
    with pytest.raises(uploader.PublishTimePassedError) as error:
        uploader.upload_single_video(video)
    message = str(error.value)
    assert "PUBLISH_AT is '2020-01-01T18:00', which is past" in message and "\n" not in message
    assert youtube.calls == [] and uploader.load_upload_record(video) is None

    other = add_ready_video(clip_cache, env, "ms_HuyvsViet.mp4", {"publish_at": "2021-05-01T09:00"})
    with pytest.raises(uploader.PublishTimePassedError) as error:
        uploader.upload_single_video(other)
    assert "the sidecar ms_HuyvsViet.mp4.json sets publish_at" in str(error.value)
    assert "python main.py prepare" in for_batch(error.value)
    assert youtube.calls == []


def test_a_schedule_that_passed_while_the_video_waited_publishes_it_at_once(
    env, monkeypatch, youtube, clip_cache
):
    when = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    set_env(monkeypatch, PUBLISH_AT=when.isoformat())
    video = add_ready_video(clip_cache, env)
    youtube.fail("thumbnails.set", 403, "forbidden", THUMBNAIL_FORBIDDEN_MESSAGE)
    with pytest.raises(uploader.ThumbnailNotAllowedError):
        uploader.upload_single_video(video)
    set_env(monkeypatch, PUBLISH_AT="2020-01-01T18:00")  # as if the verification took that long

    record = uploader.upload_single_video(video)

    assert record.complete and record.privacy_status == "public" and record.publish_at is None
    status = youtube.videos[record.video_id].status
    assert status["privacyStatus"] == "public" and "publishAt" not in status


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("18:00", "2025-03-29T12:00:00+00:00", "2025-03-29T18:00:00+01:00"),
        # past 18:00 in Paris: the next day's, which is summer time
        ("18:00", "2025-03-29T18:30:00+00:00", "2025-03-30T18:00:00+02:00"),
        ("7:05", "2025-06-01T05:04:00+00:00", "2025-06-01T07:05:00+02:00"),
        ("2025-06-01T09:00", "2025-01-01T00:00:00+00:00", "2025-06-01T09:00:00+02:00"),
        ("2025-06-01 09:00+07:00", "2025-01-01T00:00:00+00:00", "2025-06-01T04:00:00+02:00"),
    ],
)
def test_publish_at_names_a_moment_in_the_cafes_zone(text, now, expected):
    moment = publish_time(text, datetime.fromisoformat(now), ZoneInfo("Europe/Paris"))
    assert moment.isoformat() == expected


@pytest.mark.parametrize("value", ["tomorrow", "25:00", 1800, "2025-06-01"])
def test_a_sidecars_publish_at_is_checked_when_the_video_is_prepared(env, clip_cache, value):
    with pytest.raises(SidecarError, match="publish_at must be"):
        add_ready_video(clip_cache, env, sidecar={"publish_at": value})


# -- clean text ---------------------------------------------------------------------------------


def test_control_characters_and_bidi_overrides_never_reach_youtube(
    env, monkeypatch, youtube, clip_cache
):
    template = env / "description.txt"
    template.write_text("{teams}\x00\u202e\n{hashtags}\x07", encoding="utf-8")
    set_env(monkeypatch, DESCRIPTION_TEMPLATE=str(template))
    sidecar = {
        "title": "Final\n\x00\u202eof the day",
        "tags": ["\u2066hot\u2069", "final\x00"],
        "tournament": "Tour\tHCM\x1b",
    }
    video = add_ready_video(clip_cache, env, "md_A\u202enzBinhvsChizDung.mp4", sidecar)

    metadata = load_metadata(video)
    record = uploader.upload_single_video(video)

    assert metadata.title == "Final of the day" and metadata.team1 == ["An", "Binh"]
    snippet = youtube.videos[record.video_id].snippet
    assert snippet["title"] == "Final of the day" and snippet["tags"] == ["hot", "final"]
    assert snippet["description"] == "An/Binh vs Chi/Dung\n#cafebadminton #badminton #tourhcm"
    assert not FORBIDDEN & set("".join(texts(snippet)).replace("\n", " "))
    assert record.playlist == "Tour HCM"


def test_cleaning_keeps_every_script_emoji_and_joiner():
    text = "Nguyễn Đức Huy 👨‍👩‍👧 ไทย 中文 עברית"
    assert clean_text(text) == text
    assert clean_text("a\r\nb\u2028c\td", multiline=True) == "a\nb\nc d"
    assert clean_text("a\u202ab\u2066c\u2069d\x00e\x7f\x9f  f\n") == "abcde  f"


# -- quota --------------------------------------------------------------------------------------


def test_the_quota_units_a_video_costs(env, monkeypatch, youtube, clip_cache):
    set_env(monkeypatch, VIDEO_PRIVACY_STATUS="public")
    first = add_ready_video(clip_cache, env, "ms_HuyvsViet.mp4")
    second = add_ready_video(clip_cache, env, "ms_AnvsBinh.mp4")
    private = add_ready_video(clip_cache, env, "ms_ChivsDung.mp4", {"privacy_status": "private"})
    spent = []
    for video in (first, second, private):
        before = youtube.units_spent()
        uploader.upload_single_video(video)
        spent.append(youtube.units_spent() - before)

    # thumbnails.set 50, playlists.list 1 (+ playlists.insert 50 for a new playlist),
    # playlistItems.insert 50, videos.list 1 + videos.update 50 for the privacy change
    assert spent == [203, 152, 101]
    assert len(youtube.calls_named("videos.insert")) == 3  # its own bucket: 100 a day


# -- local target and earlier records -----------------------------------------------------------


def test_the_local_target_writes_what_youtube_would_get_beside_the_copy(
    env, monkeypatch, clip_cache
):
    set_env(monkeypatch, PUBLISH_AT="18:00", CAFE_TIMEZONE="Asia/Ho_Chi_Minh")
    video = add_ready_video(clip_cache, env)

    record = uploader.upload_single_video(video)

    published = read_json(Path(record.published_path) / METADATA_FILE)
    listing = build_listing(load_metadata(video), listing_options(config.get_settings()))
    assert published["description"] == listing.description
    assert published["description"].endswith("#cafebadminton #badminton #cafegame")
    assert published["playlist"] == record.playlist == "Cafe Game"
    assert published["publish_at"] == record.publish_at
    assert f"{datetime.fromisoformat(record.publish_at):%H:%M%z}" == "18:00+0700"
    assert published["privacy_status"] == "private" and published["default_language"] == "vi"
    assert published["title"] == listing.title and published["tags"] == listing.tags


def test_a_video_published_before_the_playlist_step_existed_stays_published(
    env, youtube, clip_cache
):
    video = add_ready_video(clip_cache, env)
    done = "2024-12-25T10:00:00+00:00"
    atomic_write_json(
        workspace_dir(video) / UPLOAD_FILE,
        {
            "target": "youtube",
            "video_file": video.name,
            "video_id": "abcdefghijk",
            "url": "https://youtu.be/abcdefghijk",
            "privacy_status": "public",
            "steps_done": ["video", "thumbnail", "privacy"],
            "step_times": dict.fromkeys(["video", "thumbnail", "privacy"], done),
            "started_at": done,
            "completed_at": done,
        },
    )
    record = uploader.upload_single_video(video)
    assert record.complete and record.video_id == "abcdefghijk"
    assert youtube.calls == []


def test_a_metadata_file_prepared_before_publish_at_existed_still_uploads(env, clip_cache):
    video = add_ready_video(clip_cache, env)
    path = workspace_dir(video) / METADATA_FILE
    older = read_json(path)
    del older["publish_at"]
    atomic_write_json(path, older)
    assert uploader.upload_single_video(video).complete


def test_the_youtube_package_imports_nothing_of_the_uploader():
    script = (
        "import sys, youtube.api, youtube.listing, youtube.oauth, youtube.playlists, "
        "youtube.upload; print(sorted(m for m in sys.modules if m == 'uploader'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr
