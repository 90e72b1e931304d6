"""Shared set-up of the upload and cleanup tests: a real clip, prepared, with its thumbnail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

import config
from sample_clips import Segment, encode_clip
from tests.fake_youtube import FakeYouTube
from video_prep import prepare_single_video
from workspace import THUMBNAIL_FILE, workspace_dir

CHUNK_BYTES = 1024 * 1024  # UPLOAD_CHUNK_MB=1
VIDEO_NAME = "md_AnzBinhvsChizDung.mp4"


def upload_clip(cache: Path) -> Path:
    """A real 4-second H.264 clip of about 5 MB (grain and a camera's bitrate): 5 chunks."""
    clip = cache / "upload_clip.mp4"
    if not clip.exists():
        encode_clip(clip, (Segment("rally", 4.0),), grain=20.0, bit_rate=10_000_000)
    return clip


def write_thumbnail(video: Path, size: tuple[int, int] = (1280, 720)) -> Path:
    """A JPEG standing in for enhance's output (what the uploader sends as it is)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    path = workspace_dir(video) / THUMBNAIL_FILE
    image.save(path, quality=90)
    return path


def add_ready_video(
    cache: Path, env: Path, name: str = VIDEO_NAME, sidecar: dict[str, object] | None = None
) -> Path:
    """The clip in INPUT_DIR (with `sidecar` beside it), prepared (metadata.json) and with its
    thumbnail.jpg."""
    video = env / "videos" / name
    shutil.copyfile(upload_clip(cache), video)
    if sidecar is not None:
        video.with_name(name + ".json").write_text(json.dumps(sidecar), encoding="utf-8")
    prepare_single_video(video)
    write_thumbnail(video)
    return video


def use_youtube(env: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeYouTube) -> Path:
    """UPLOAD_TARGET=youtube against the fake, with a saved token; returns the token file."""
    import uploader
    from youtube import api

    token = env / "token.json"
    token.write_text(json.dumps(fake.authorized_user(list(uploader.SCOPES))))
    token.chmod(0o600)
    for name, value in {
        "UPLOAD_TARGET": "youtube",
        "YOUTUBE_API_ROOT": fake.root_url,
        "YOUTUBE_TOKEN_FILE": str(token),
        "UPLOAD_CHUNK_MB": "1",
    }.items():
        monkeypatch.setenv(name, value)
    config.get_settings.cache_clear()
    # Transient failures are retried after 1 s, 2 s...; the tests need not wait for them.
    monkeypatch.setattr(api, "TRANSIENT_RETRY", api.Backoff(4, 0.01, 0.02))
    return token
