"""`python main.py brand` and `all` make the branded copy, `upload` publishes it (to the local
folder, and to YouTube), and cleanup removes it."""

from __future__ import annotations

import numpy as np

import cleanup
import config
import uploader
from tests.branding_support import camera_clip, changed_share, decode_all, frame_at
from tests.fake_youtube import file_sha256
from tests.test_cleanup import run_main
from tests.upload_support import write_thumbnail
from video_branding import brand_video
from video_prep import prepare_single_video
from workspace import workspace_dir

NAME = "md_AnzBinhvsChizDung.mp4"


def test_brand_makes_the_copy_and_all_publishes_it_then_removes_it(env) -> None:
    video = camera_clip(env / "videos" / NAME, 12)
    original = decode_all(video)
    assert run_main(env, "prepare").returncode == 0

    branded = run_main(env, "brand", VIDEO_TITLE_SECONDS="2")
    done = run_main(env, "all", "--pick", "1", VIDEO_TITLE_SECONDS="2")

    assert branded.returncode == 0, branded.stdout + branded.stderr
    assert NAME in branded.stdout and "titles spliced in" in branded.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    published = decode_all(next((env / "published").iterdir()) / NAME)
    assert changed_share(frame_at(published, 1.0), frame_at(original, 1.0)) > 0.05
    assert np.array_equal(frame_at(published, 6.0), frame_at(original, 6.0))
    archived = env / "completed" / f"{NAME}.workspace"
    assert not list(archived.glob("branded*")) and not workspace_dir(video).exists()


def test_brand_skips_what_is_not_prepared_and_says_why(env) -> None:
    camera_clip(env / "videos" / NAME, 4)

    shown = run_main(env, "brand")

    assert shown.returncode == 0
    assert "not prepared yet (run `./cafe batch prepare` first)" in shown.stdout


def test_youtube_gets_the_branded_copy_and_cleanup_removes_it(env, monkeypatch, youtube) -> None:
    video = camera_clip(env / "videos" / NAME, 12)
    source = file_sha256(video)
    prepare_single_video(video)
    write_thumbnail(video)
    monkeypatch.setenv("VIDEO_TITLE_SECONDS", "2")
    config.get_settings.cache_clear()
    made = brand_video(video)
    branded = file_sha256(made.path)

    record = uploader.upload_single_video(video)
    cleanup.cleanup_single_video(video)

    assert youtube.videos[record.video_id].sha256 == branded != source
    assert not made.path.exists() and file_sha256(env / "completed" / NAME) == source
