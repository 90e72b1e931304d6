"""The uploader against a real local YouTube-compatible server (tests/fake_youtube.py).

Every upload is of a real encoded clip in 1 MB chunks; the server checks the bytes it kept
against the file (sha256) and records its calls in order.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import config
import remedies
import uploader
from errors import PipelineError
from remedies import for_batch, for_temporal
from tests.fake_youtube import (
    QUOTA_MESSAGE,
    THUMBNAIL_FORBIDDEN_MESSAGE,
    UPLOAD_LIMIT_MESSAGE,
    FakeYouTube,
    file_sha256,
)
from tests.upload_support import (
    CHUNK_BYTES,
    add_ready_video,
    upload_clip,
    use_youtube,
)
from video_prep import MetadataMissingError
from workspace import (
    METADATA_FILE,
    THUMBNAIL_FILE,
    UPLOAD_FILE,
    UPLOAD_SESSION_FILE,
    read_json,
    workspace_dir,
)
from youtube import api

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def video(env: Path, clip_cache: Path) -> Path:
    return add_ready_video(clip_cache, env)


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    config.get_settings.cache_clear()


def videos_created(fake: FakeYouTube) -> int:
    return len(fake.videos)


def sessions_opened(fake: FakeYouTube) -> int:
    return sum(call.status == 200 for call in fake.calls_named("videos.insert"))


def assert_exact_copy(fake: FakeYouTube, record: uploader.UploadRecord, video: Path) -> None:
    assert list(fake.videos) == [record.video_id]
    assert fake.videos[record.video_id].sha256 == file_sha256(video)


# -- a clean upload -----------------------------------------------------------------------------


def test_clean_upload_sends_each_byte_once_and_goes_public_only_after_the_thumbnail(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, VIDEO_PRIVACY_STATUS="public")
    video = add_ready_video(clip_cache, env)  # prepared with the privacy status above
    size = video.stat().st_size
    reports: list[tuple[int, int]] = []

    record = uploader.upload_single_video(video, progress=lambda *done: reports.append(done))

    assert record.complete and record.target == "youtube"
    assert record.steps_done == ["video", "thumbnail", "privacy", "playlist"]
    assert record.url == f"https://youtu.be/{record.video_id}"
    assert_exact_copy(youtube, record, video)
    assert youtube.media_bytes_read == size
    published = youtube.videos[record.video_id]
    assert published.status["privacyStatus"] == "public"
    assert published.snippet["title"].startswith("An/Binh vs Chi/Dung")
    assert published.snippet["categoryId"] == "17"
    assert published.thumbnail_sha256 == file_sha256(workspace_dir(video) / THUMBNAIL_FILE)

    names = [name for name in youtube.call_names() if name != "upload.chunk"]
    assert names == [
        "videos.insert",
        "thumbnails.set",
        "videos.list",
        "videos.update",
        "playlists.list",
        "playlists.insert",
        "playlists.list",  # no other machine created it meanwhile
        "playlistItems.insert",
    ]
    assert youtube.calls_named("videos.insert")[0].detail["privacy"] == "private"
    assert youtube.calls_named("videos.update")[0].detail["privacy"] == "public"
    assert len(youtube.calls_named("upload.chunk")) == -(-size // CHUNK_BYTES)

    assert reports[-1] == (size, size)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    saved = read_json(workspace_dir(video) / UPLOAD_FILE)
    assert saved["video_id"] == record.video_id and saved["completed_at"]
    assert not (workspace_dir(video) / UPLOAD_SESSION_FILE).exists()
    assert video.is_file()


def test_private_videos_need_no_privacy_change(youtube, video):
    record = uploader.upload_single_video(video)
    assert record.complete and record.privacy_status == "private"
    assert youtube.calls_named("videos.update") == []
    assert youtube.videos[record.video_id].status["privacyStatus"] == "private"


def test_a_rerun_after_success_creates_no_second_video(youtube, video):
    first = uploader.upload_single_video(video)
    calls = len(youtube.calls)
    again = uploader.upload_single_video(video)
    assert again == first
    assert len(youtube.calls) == calls and videos_created(youtube) == 1


# -- transient faults ---------------------------------------------------------------------------


def test_503_on_chosen_chunks_is_retried_and_the_video_is_exact(youtube, video):
    youtube.fail_chunk_requests(503, 2, 4, 5)  # chunk 3 fails twice in a row
    record = uploader.upload_single_video(video)
    assert record.complete
    assert_exact_copy(youtube, record, video)
    assert sessions_opened(youtube) == 1
    assert [c.status for c in youtube.calls_named("upload.chunk")].count(503) == 3


def test_a_connection_dropped_mid_chunk_resumes_without_a_second_video(youtube, video):
    youtube.drop_chunk_request(3)
    record = uploader.upload_single_video(video)
    assert record.complete
    assert_exact_copy(youtube, record, video)
    assert sessions_opened(youtube) == 1
    assert 0 < youtube.media_bytes_read - video.stat().st_size <= CHUNK_BYTES


def test_a_lost_final_answer_finds_the_video_instead_of_making_another(youtube, video):
    youtube.lose_final_answer()
    record = uploader.upload_single_video(video)
    assert record.complete
    assert_exact_copy(youtube, record, video)
    assert sessions_opened(youtube) == 1


def test_failures_outlasting_the_retries_raise_a_retryable_error_and_the_rerun_resumes(
    youtube, video
):
    attempts = api.TRANSIENT_RETRY.attempts
    youtube.fail_chunk_requests(503, *range(3, 3 + attempts))
    with pytest.raises(uploader.UploadInterruptedError) as failure:
        uploader.upload_single_video(video)
    assert not isinstance(failure.value, PipelineError)  # Temporal retries it
    assert "the next attempt resumes" in str(failure.value)
    session = workspace_dir(video) / UPLOAD_SESSION_FILE
    assert session.stat().st_mode & 0o777 == 0o600
    assert uploader.load_upload_record(video) is None
    held = youtube.committed_bytes()
    read_before = youtube.media_bytes_read
    assert held == 2 * CHUNK_BYTES

    record = uploader.upload_single_video(video)

    assert record.complete
    assert_exact_copy(youtube, record, video)
    assert sessions_opened(youtube) == 1
    assert youtube.media_bytes_read - read_before == video.stat().st_size - held


def test_a_process_killed_mid_chunk_resumes_and_sends_at_most_one_chunk_again(youtube, video):
    pause = youtube.pause_chunk_request(3)
    script = "import sys, uploader; uploader.upload_single_video(sys.argv[1])"
    child = subprocess.Popen([sys.executable, "-c", script, str(video)], cwd=REPO)
    try:
        assert pause.reached.wait(60), "the upload never reached its third chunk"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
        pause.release.set()
    assert youtube.committed_bytes() == 2 * CHUNK_BYTES
    assert (workspace_dir(video) / UPLOAD_SESSION_FILE).is_file()

    record = uploader.upload_single_video(video)

    assert record.complete
    assert_exact_copy(youtube, record, video)
    assert sessions_opened(youtube) == 1
    sent_twice = youtube.media_bytes_read - video.stat().st_size
    assert 0 < sent_twice <= CHUNK_BYTES  # the half chunk in flight when it was killed


def test_a_cancel_from_the_progress_callback_stops_between_chunks_and_resumes_later(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, VIDEO_PRIVACY_STATUS="public")
    video = add_ready_video(clip_cache, env)

    def cancel_after_two_chunks(done: int, total: int) -> None:
        if done >= 2 * CHUNK_BYTES:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        uploader.upload_single_video(video, progress=cancel_after_two_chunks)
    assert youtube.videos == {}  # nothing on the channel, let alone public
    session = read_json(workspace_dir(video) / UPLOAD_SESSION_FILE)
    assert session["offset"] == 2 * CHUNK_BYTES

    record = uploader.upload_single_video(video)

    assert record.complete
    assert_exact_copy(youtube, record, video)
    assert youtube.media_bytes_read == video.stat().st_size  # not one byte twice


def test_an_expired_session_starts_anew_while_no_video_exists(youtube, video):
    def stop(done: int, total: int) -> None:
        if done >= 2 * CHUNK_BYTES:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        uploader.upload_single_video(video, progress=stop)
    youtube.expire_sessions()

    record = uploader.upload_single_video(video)

    assert record.complete
    assert_exact_copy(youtube, record, video)
    assert sessions_opened(youtube) == 2


def test_an_expired_session_after_the_last_chunk_went_never_risks_a_second_video(youtube, video):
    size = video.stat().st_size
    last_chunk = -(-size // CHUNK_BYTES)
    attempts = api.TRANSIENT_RETRY.attempts
    youtube.fail_chunk_requests(503, *range(last_chunk, last_chunk + attempts))
    with pytest.raises(uploader.UploadInterruptedError):
        uploader.upload_single_video(video)
    youtube.expire_sessions()

    with pytest.raises(uploader.UploadSessionLostError, match="YouTube Studio"):
        uploader.upload_single_video(video)
    assert sessions_opened(youtube) == 1


# -- errors a person must fix -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "message"),
    [("quotaExceeded", QUOTA_MESSAGE), ("uploadLimitExceeded", UPLOAD_LIMIT_MESSAGE)],
)
def test_quota_errors_say_when_the_quota_resets(youtube, video, reason, message):
    youtube.fail("videos.insert", 403, reason, message)
    with pytest.raises(uploader.QuotaExceededError) as failure:
        uploader.upload_single_video(video)
    assert "midnight Pacific time" in str(failure.value)
    assert reason in str(failure.value) and "<a href" not in str(failure.value)
    assert youtube.calls_named("upload.chunk") == [] and youtube.videos == {}

    record = uploader.upload_single_video(video)  # the next day
    assert record.complete and videos_created(youtube) == 1


def test_a_refused_thumbnail_keeps_the_video_private_and_a_rerun_finishes(
    env, monkeypatch, youtube, clip_cache
):
    set_env(monkeypatch, VIDEO_PRIVACY_STATUS="public")
    video = add_ready_video(clip_cache, env)
    youtube.fail("thumbnails.set", 403, "forbidden", THUMBNAIL_FORBIDDEN_MESSAGE)

    with pytest.raises(uploader.ThumbnailNotAllowedError) as failure:
        uploader.upload_single_video(video)

    assert "verified" in str(failure.value) and "private" in str(failure.value)
    (only,) = youtube.videos.values()
    assert only.status["privacyStatus"] == "private"
    assert youtube.calls_named("videos.update") == []
    assert uploader.load_upload_record(video).steps_done == ["video"]

    record = uploader.upload_single_video(video)  # once the channel is verified
    assert record.complete and sessions_opened(youtube) == 1
    assert only.status["privacyStatus"] == "public"
    names = youtube.call_names()
    assert names.index("videos.update") > max(
        i for i, name in enumerate(names) if name == "thumbnails.set"
    )


def test_a_400_carries_youtubes_message_and_is_not_retried(youtube, video):
    youtube.fail("videos.insert", 400, "invalidCategoryId", "The video category is not valid.")
    with pytest.raises(uploader.YouTubeRejectedError, match="The video category is not valid"):
        uploader.upload_single_video(video)
    assert len(youtube.calls_named("videos.insert")) == 1


def test_a_revoked_grant_names_the_auth_command(youtube, video):
    youtube.revoke_grant()
    with pytest.raises(uploader.AuthError) as failure:
        uploader.upload_single_video(video)
    assert "./cafe batch auth" in for_batch(failure.value)
    assert "./cafe auth" in for_temporal(failure.value)
    with pytest.raises(uploader.AuthError):
        uploader.validate_auth()


def test_a_401_that_a_refresh_does_not_cure_names_the_auth_command(youtube, video):
    youtube.fail("videos.insert", 401, "authError", "Invalid Credentials", times=None)
    with pytest.raises(uploader.AuthError, match="expired or revoked") as error:
        uploader.upload_single_video(video)
    assert "run `./cafe batch auth`" in for_batch(error.value)
    assert youtube.calls_named("token")  # a refresh was tried first


def test_missing_inputs_say_which_stage_to_run(env, monkeypatch, youtube, clip_cache):
    video = env / "videos" / "ms_HuyvsViet.mp4"
    shutil.copyfile(upload_clip(clip_cache), video)
    with pytest.raises(MetadataMissingError, match="prepare"):
        uploader.upload_single_video(video)

    ready = add_ready_video(clip_cache, env)
    (workspace_dir(ready) / THUMBNAIL_FILE).unlink()
    with pytest.raises(uploader.ThumbnailMissingError) as error:
        uploader.upload_single_video(ready)
    assert "run `./cafe batch enhance`" in for_batch(error.value)

    big = workspace_dir(ready) / THUMBNAIL_FILE
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    with pytest.raises(uploader.ThumbnailTooLargeError, match="at most 2 MB"):
        uploader.upload_single_video(ready)
    assert youtube.calls == []


# -- OAuth token --------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_and_saved_with_mode_0600(env, youtube, video):
    token = Path(config.get_settings().youtube_token_file)
    before = json.loads(token.read_text())["token"]
    youtube.expire_access_tokens()

    record = uploader.upload_single_video(video)

    assert record.complete
    saved = json.loads(token.read_text())
    assert saved["token"] != before and saved["token"] in youtube.access_tokens
    assert saved["refresh_token"] == youtube.refresh_token
    assert token.stat().st_mode & 0o777 == 0o600


def test_validate_auth_makes_one_cheap_call_and_tightens_a_loose_token_file(youtube):
    token = Path(config.get_settings().youtube_token_file)
    token.chmod(0o644)
    uploader.validate_auth()
    assert youtube.call_names() == ["channels.list"]
    assert youtube.calls_named("channels.list")[0].detail["mine"] == ["true"]
    assert token.stat().st_mode & 0o777 == 0o600


def test_validate_auth_refreshes_a_token_past_its_expiry(youtube):
    token = Path(config.get_settings().youtube_token_file)
    saved = json.loads(token.read_text())
    saved["expiry"] = "2000-01-01T00:00:00Z"
    token.write_text(json.dumps(saved))
    uploader.validate_auth()
    assert youtube.call_names() == ["token", "channels.list"]
    assert json.loads(token.read_text())["token"] != saved["token"]


def test_validate_auth_explains_a_missing_token_or_a_missing_permission(youtube, monkeypatch):
    token = Path(config.get_settings().youtube_token_file)
    saved = json.loads(token.read_text())
    saved["scopes"] = ["https://www.googleapis.com/auth/youtube.upload"]
    token.write_text(json.dumps(saved))
    with pytest.raises(uploader.AuthError, match=r"youtube\.force-ssl"):
        uploader.validate_auth()
    token.unlink()
    with pytest.raises(uploader.AuthError, match=r"No YouTube token at ") as missing:
        uploader.validate_auth()
    assert "./cafe batch auth" in for_batch(missing.value)
    assert youtube.calls == []


def run_consent(fake: FakeYouTube, capsys: pytest.CaptureFixture[str]) -> list[BaseException]:
    """Run `auth` in a thread and play the person's browser: read the printed URL, approve."""
    errors: list[BaseException] = []

    def auth() -> None:
        try:
            uploader.run_auth_flow()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=auth)
    thread.start()
    printed = ""
    deadline = time.monotonic() + 30
    while not (found := re.search(r"http\S+/o/oauth2/auth\?\S+", printed)):
        assert time.monotonic() < deadline and thread.is_alive(), f"no URL printed: {errors}"
        time.sleep(0.05)
        printed += capsys.readouterr().out
    with urllib.request.urlopen(fake.consent(found.group(0)), timeout=30) as answer:
        assert "authorized" in answer.read().decode()
    thread.join(30)
    return errors


def test_auth_saves_a_refreshable_token_with_mode_0600_and_only_the_needed_scope(
    env, monkeypatch, youtube, capsys
):
    secrets = env / "client_secrets.json"
    secrets.write_text(json.dumps(youtube.client_secrets()))
    token = env / "new-token.json"
    token.write_text("{}")
    token.chmod(0o644)
    set_env(
        monkeypatch,
        GOOGLE_CLIENT_SECRETS=str(secrets),
        YOUTUBE_TOKEN_FILE=str(token),
        YOUTUBE_AUTH_PORT="0",
        OAUTHLIB_INSECURE_TRANSPORT="1",  # the fake's token endpoint is plain http
    )

    assert run_consent(youtube, capsys) == []

    assert token.stat().st_mode & 0o777 == 0o600
    saved = json.loads(token.read_text())
    assert saved["scopes"] == ["https://www.googleapis.com/auth/youtube.force-ssl"]
    assert saved["refresh_token"] == youtube.refresh_token
    assert saved["token"] in youtube.access_tokens
    authorized = datetime.fromisoformat(saved["authorized_at"])  # for Google's 7-day rule
    assert abs((datetime.now(UTC) - authorized).total_seconds()) < 600
    youtube.expire_access_tokens()
    uploader.validate_auth()  # the saved token refreshes itself
    assert youtube.call_names()[-3:] == ["channels.list", "token", "channels.list"]
    assert json.loads(token.read_text())["token"] != saved["token"]
    assert uploader.token_authorized_at() == authorized  # a refresh keeps the consent's time


def test_the_token_is_said_to_near_its_end_two_days_before_googles_seven():
    authorized = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    assert remedies.token_end_warning(authorized, authorized + timedelta(days=4), UTC) is None
    assert remedies.token_end_warning(None, authorized + timedelta(days=9), UTC) is None
    near = remedies.token_end_warning(authorized, authorized + timedelta(days=5, hours=1), UTC)
    assert near == (
        "This machine's YouTube token was authorized on 01 Jan: if the Google Cloud app is "
        'still "Testing", Google ends it on 08 Jan 09:00. Run `./cafe auth` again now (or '
        "publish the app: docs/youtube-setup.md)."
    )
    late = remedies.token_end_warning(authorized, authorized + timedelta(days=8), UTC)
    assert late is not None and "Google ended it on 08 Jan 09:00" in late


def test_auth_without_a_client_secrets_file_says_how_to_get_one(env, monkeypatch):
    set_env(monkeypatch, GOOGLE_CLIENT_SECRETS=str(env / "missing.json"))
    with pytest.raises(uploader.ClientSecretsError, match=r"missing\.json.*Desktop app"):
        uploader.run_auth_flow()
    (env / "web.json").write_text(json.dumps({"web": {"client_id": "x"}}))
    set_env(monkeypatch, GOOGLE_CLIENT_SECRETS=str(env / "web.json"))
    with pytest.raises(uploader.ClientSecretsError, match="not a Desktop app"):
        uploader.run_auth_flow()


# -- secrets ------------------------------------------------------------------------------------


def test_no_token_code_or_session_uri_reaches_the_logs(
    env, monkeypatch, youtube, video, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    for name in ("httplib2", "googleapiclient", "google_auth_httplib2", "google", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    secrets = env / "client_secrets.json"
    secrets.write_text(json.dumps(youtube.client_secrets()))
    set_env(
        monkeypatch,
        GOOGLE_CLIENT_SECRETS=str(secrets),
        YOUTUBE_AUTH_PORT="0",
        OAUTHLIB_INSECURE_TRANSPORT="1",
    )
    assert run_consent(youtube, capsys) == []
    youtube.expire_access_tokens()  # a refresh in the middle
    youtube.drop_chunk_request(2)  # a resume

    def stop(done: int, total: int) -> None:
        if done >= 3 * CHUNK_BYTES:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        uploader.upload_single_video(video, progress=stop)
    record = uploader.upload_single_video(video)
    assert record.complete

    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "uploader" in logged and "googleapiclient" in logged  # the capture works
    assert youtube.sessions and len(youtube.secrets_issued) >= 5
    for secret in youtube.secrets_issued:
        assert secret not in logged and urllib.parse.quote(secret, safe="") not in logged
        assert secret not in (workspace_dir(video) / UPLOAD_FILE).read_text()
        assert secret not in repr(record)


# -- local target -------------------------------------------------------------------------------


def test_local_target_publishes_the_video_thumbnail_and_metadata_once(env, video):
    reports: list[tuple[int, int]] = []
    record = uploader.upload_single_video(video, progress=lambda *done: reports.append(done))

    folder = env / "published" / "md-anzbinhvschizdung-mp4"
    assert record.complete and record.target == "local"
    assert record.published_path == str(folder) and record.url == folder.resolve().as_uri()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [video.name, THUMBNAIL_FILE, METADATA_FILE]
    )
    assert file_sha256(folder / video.name) == file_sha256(video)
    assert reports[-1] == (video.stat().st_size, video.stat().st_size)

    assert uploader.upload_single_video(video) == record
    assert [p.name for p in (env / "published").iterdir()] == [folder.name]


def test_local_target_never_shows_a_half_copied_folder_and_a_rerun_finishes(env, video):
    def crash(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        uploader.upload_single_video(video, progress=crash)
    assert list((env / "published").iterdir()) == []
    assert not uploader.load_upload_record(video).complete

    record = uploader.upload_single_video(video)
    assert record.complete
    assert [p.name for p in (env / "published").iterdir()] == ["md-anzbinhvschizdung-mp4"]


def test_local_target_keeps_videos_with_similar_names_apart(env, clip_cache):
    first = add_ready_video(clip_cache, env, "ms_HuyvsViet.mp4")
    second = add_ready_video(clip_cache, env, "ms_HuyvsViet.mov")
    third = add_ready_video(clip_cache, env, "ms_HúyvsViet.mp4")  # the same slug as the first
    records = [uploader.upload_single_video(video) for video in (first, second, third)]
    folders = [Path(record.published_path).name for record in records]
    assert folders == ["ms-huyvsviet-mp4", "ms-huyvsviet-mov", "ms-huyvsviet-mp4-2"]
    for video, record in zip((first, second, third), records, strict=True):
        assert (Path(record.published_path) / video.name).is_file()


def test_local_target_never_takes_a_folder_another_video_filled_meanwhile(env, clip_cache):
    first = add_ready_video(clip_cache, env, "ms_HuyvsViet.mp4")
    second = add_ready_video(clip_cache, env, "ms_HúyvsViet.mp4")

    def interrupted(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # the folder is recorded, nothing copied yet
        uploader.upload_single_video(first, progress=interrupted)
    taken = uploader.load_upload_record(first).published_path
    assert uploader.upload_single_video(second).published_path == taken  # it was free

    record = uploader.upload_single_video(first)

    assert record.complete and record.published_path != taken
    assert (Path(record.published_path) / first.name).is_file()
    assert sorted(p.name for p in Path(taken).iterdir()) == sorted(
        [second.name, THUMBNAIL_FILE, METADATA_FILE]
    )


@pytest.mark.parametrize(
    "content", ['{"target": "local", "video_file": ', '{"target": "vimeo", "video_file": "x"}']
)
def test_a_damaged_upload_record_is_one_clear_line(env, video, content):
    uploader.upload_single_video(video)
    (workspace_dir(video) / UPLOAD_FILE).write_text(content)

    with pytest.raises(uploader.UploadRecordUnreadableError) as error:
        uploader.upload_single_video(video)
    message = str(error.value)
    assert UPLOAD_FILE in message and "delete this file" in message and "\n" not in message


def test_switching_the_target_after_publishing_asks_before_publishing_again(
    env, monkeypatch, fake, video
):
    uploader.upload_single_video(video)
    use_youtube(env, monkeypatch, fake)
    with pytest.raises(uploader.UploadTargetChangedError, match="UPLOAD_TARGET=local"):
        uploader.upload_single_video(video)
    assert fake.calls == []
