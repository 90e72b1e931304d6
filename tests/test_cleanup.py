"""Cleanup archives published videos and their workspaces, on one filesystem or across two,
never overwriting, and finishes the job when run again after a crash."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

import cleanup
import config
import uploader
from errors import NeedsAttentionError, RetryLaterError
from remedies import for_batch
from tests.fake_youtube import file_sha256
from tests.upload_support import VIDEO_NAME, add_ready_video, upload_clip
from workspace import UPLOAD_FILE, atomic_write_json, read_json, workspace_dir

REPO = Path(__file__).resolve().parents[1]
SHM = Path("/dev/shm")


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    config.get_settings.cache_clear()


@pytest.fixture
def published(env: Path, clip_cache: Path) -> Path:
    """A video published to the local target (every step of its upload done)."""
    video = add_ready_video(clip_cache, env)
    assert uploader.upload_single_video(video).complete
    return video


@pytest.fixture
def other_filesystem(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """COMPLETED_DIR on /dev/shm (a tmpfs), the workspace and videos on tmp_path's disk."""
    if not SHM.is_dir() or SHM.stat().st_dev == env.stat().st_dev:
        pytest.skip(reason="needs /dev/shm on another filesystem than the test's tmp_path")
    root = SHM / f"cleanup-test-{uuid.uuid4().hex}"
    completed = root / "completed"
    set_env(monkeypatch, COMPLETED_DIR=str(completed))
    yield completed
    shutil.rmtree(root, ignore_errors=True)


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): file_sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_moves_the_video_and_its_workspace_and_a_rerun_is_a_no_op(env, published):
    video_sha = file_sha256(published)
    workspace = workspace_dir(published)
    files = snapshot(workspace)

    result = cleanup.cleanup_single_video(published)

    archived = env / "completed" / VIDEO_NAME
    archived_workspace = env / "completed" / f"{VIDEO_NAME}.workspace"
    assert result.mode == "move" and not result.already_done
    assert (result.archived_video, result.archived_workspace) == (
        str(archived),
        str(archived_workspace),
    )
    assert not published.exists() and not workspace.exists()
    assert file_sha256(archived) == video_sha
    moved = snapshot(archived_workspace)
    assert {name: sha for name, sha in moved.items() if name != cleanup.CLEANUP_FILE} == files
    assert read_json(archived_workspace / cleanup.CLEANUP_FILE)["completed_at"]
    assert str(result) == f"archived to {archived} (and its workspace beside it)"

    archive = snapshot(env / "completed")
    again = cleanup.cleanup_single_video(published)  # e.g. a retried activity
    assert again.already_done and again.archived_video == str(archived)
    assert snapshot(env / "completed") == archive
    assert sorted(p.name for p in (env / "completed").iterdir()) == sorted(
        [archived.name, archived_workspace.name]
    )


def test_across_filesystems_copies_verifies_and_only_then_deletes(env, published, other_filesystem):
    video_sha = file_sha256(published)
    files = snapshot(workspace_dir(published))

    result = cleanup.cleanup_single_video(published)

    archived = other_filesystem / VIDEO_NAME
    assert result.archived_video == str(archived) and not result.already_done
    assert archived.stat().st_dev != env.stat().st_dev
    assert file_sha256(archived) == video_sha
    moved = snapshot(other_filesystem / f"{VIDEO_NAME}.workspace")
    assert {name: sha for name, sha in moved.items() if name != cleanup.CLEANUP_FILE} == files
    assert not published.exists() and not workspace_dir(published).exists()
    leftovers = [p.name for p in other_filesystem.iterdir() if p.name.startswith(".")]
    leftovers += [p.name for p in (env / "workspace").iterdir()]
    assert leftovers == []
    assert cleanup.cleanup_single_video(published).already_done


def test_a_crash_after_the_copy_before_the_delete_is_finished_by_the_rerun(
    env, monkeypatch, published, other_filesystem
):
    video_sha = file_sha256(published)

    def crash(source: Path) -> None:
        raise OSError("simulated crash before deleting the source")

    real_file = cleanup._FILE
    monkeypatch.setattr(cleanup, "_FILE", dataclasses.replace(real_file, delete=crash))
    with pytest.raises(OSError, match="simulated crash"):
        cleanup.cleanup_single_video(published)
    archived = other_filesystem / VIDEO_NAME
    assert published.is_file() and archived.is_file()  # both copies, nothing lost
    monkeypatch.setattr(cleanup, "_FILE", real_file)

    result = cleanup.cleanup_single_video(published)

    assert result.archived_video == str(archived) and not result.already_done
    assert not published.exists() and file_sha256(archived) == video_sha
    assert (other_filesystem / f"{VIDEO_NAME}.workspace" / UPLOAD_FILE).is_file()


def test_a_crash_between_the_video_and_the_workspace_is_finished_by_the_rerun(
    env, monkeypatch, published, other_filesystem
):
    real_tree = cleanup._TREE

    def crash_once(source: Path) -> None:
        monkeypatch.setattr(cleanup, "_TREE", real_tree)
        raise OSError("simulated crash before deleting the workspace")

    monkeypatch.setattr(cleanup, "_TREE", dataclasses.replace(real_tree, delete=crash_once))
    with pytest.raises(OSError, match="simulated crash"):
        cleanup.cleanup_single_video(published)
    assert not published.exists() and workspace_dir(published).is_dir()

    result = cleanup.cleanup_single_video(published)

    assert not workspace_dir(published).exists()
    assert (other_filesystem / f"{VIDEO_NAME}.workspace" / UPLOAD_FILE).is_file()
    assert (other_filesystem / VIDEO_NAME).is_file() and not result.already_done


def test_taken_names_get_a_suffix_and_nothing_is_overwritten(env, clip_cache, published):
    completed = env / "completed"
    completed.mkdir()
    (completed / VIDEO_NAME).write_bytes(b"last week's match")
    stem, suffix = VIDEO_NAME.rsplit(".", 1)
    (completed / f"{stem} (2).{suffix}.workspace").mkdir()  # only the workspace name taken

    result = cleanup.cleanup_single_video(published)

    assert result.archived_video == str(completed / f"{stem} (3).{suffix}")
    assert result.archived_workspace == str(completed / f"{stem} (3).{suffix}.workspace")
    assert (completed / VIDEO_NAME).read_bytes() == b"last week's match"
    assert list((completed / f"{stem} (2).{suffix}.workspace").iterdir()) == []
    assert cleanup.cleanup_single_video(published).already_done


def test_refuses_until_every_upload_step_is_done(env, clip_cache):
    video = add_ready_video(clip_cache, env)
    with pytest.raises(cleanup.NotUploadedError, match="not uploaded yet") as refused:
        cleanup.cleanup_single_video(video)
    assert "run `./cafe batch upload`" in for_batch(refused.value)

    started = uploader.UploadRecord(target="youtube", video_file=video.name, video_id="abc")
    started.mark_done(uploader.STEP_VIDEO)
    atomic_write_json(workspace_dir(video) / UPLOAD_FILE, asdict(started))
    with pytest.raises(cleanup.NotUploadedError, match="still to do: thumbnail, privacy"):
        cleanup.cleanup_single_video(video)
    assert video.is_file() and workspace_dir(video).is_dir()
    assert not (env / "completed").exists()


def test_keep_mode_leaves_everything_in_place(env, monkeypatch, published):
    set_env(monkeypatch, CLEANUP_MODE="keep")
    result = cleanup.cleanup_single_video(published)
    assert result.mode == "keep" and str(result) == "kept in place (CLEANUP_MODE=keep)"
    assert published.is_file() and workspace_dir(published).is_dir()
    assert not (env / "completed").exists()


# -- the batch CLI ------------------------------------------------------------------------------


def run_main(env: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "300", "LOG_LEVEL": "WARNING", **settings}
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        cwd=env,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_main_all_publishes_and_archives_every_video_and_a_second_run_has_nothing_left(
    env, clip_cache
):
    names = ["md_AnzBinhvsChizDung.mp4", "ws_LanvsMai_Friendly Game.mp4"]
    for name in names:
        shutil.copyfile(upload_clip(clip_cache), env / "videos" / name)

    done = run_main(env, "all", "--pick", "1")

    assert done.returncode == 0, done.stdout + done.stderr
    for name in names:
        assert name in done.stdout
        assert (env / "completed" / name).is_file()
        assert (env / "completed" / f"{name}.workspace" / UPLOAD_FILE).is_file()
    published = sorted(p.name for p in (env / "published").iterdir())
    assert published == ["md-anzbinhvschizdung-mp4", "ws-lanvsmai-friendly-game-mp4"]
    assert (env / "published" / published[0] / names[0]).is_file()
    assert list((env / "videos").iterdir()) == []

    again = run_main(env, "all", "--pick", "1")
    assert again.returncode == 0 and "No videos" in again.stdout


def test_main_all_checks_youtube_auth_before_any_work(env, clip_cache):
    video = env / "videos" / VIDEO_NAME
    shutil.copyfile(upload_clip(clip_cache), video)

    refused = run_main(
        env, "all", "--pick", "1", UPLOAD_TARGET="youtube", YOUTUBE_TOKEN_FILE="missing.json"
    )

    assert refused.returncode == 2
    assert "./cafe batch auth" in refused.stdout and "Nothing was done" in refused.stdout
    assert not workspace_dir(video).exists() and video.is_file()


def test_main_all_needs_no_display_when_every_video_is_chosen(env, clip_cache):
    video = add_ready_video(clip_cache, env)
    run_main(env, "rank")
    assert run_main(env, "select", "--pick", "1").returncode == 0

    done = run_main(env, "all", DISPLAY="")

    assert done.returncode == 0, done.stdout + done.stderr
    assert (env / "completed" / video.name).is_file()


def test_a_copy_of_the_wrong_size_keeps_the_source_and_says_to_run_again(
    env, monkeypatch, published, other_filesystem
):
    def short_copy(source: Path, target: Path) -> None:
        target.write_bytes(source.read_bytes()[:1000])

    monkeypatch.setattr(cleanup.shutil, "copy2", short_copy)
    with pytest.raises(cleanup.CopyVerificationError, match="gave 1000 bytes") as error:
        cleanup.cleanup_single_video(published)
    assert isinstance(error.value, RetryLaterError)
    assert str(error.value).endswith("the source is kept")  # no command: each CLI adds its own
    assert for_batch(error.value).endswith("the source is kept; run `./cafe batch cleanup`.")
    assert published.is_file() and list(other_filesystem.glob(".*partial")) == []


def test_a_damaged_record_is_one_clear_line_in_the_cleanup_summary(env, published):
    (workspace_dir(published) / UPLOAD_FILE).write_text("{not json")

    done = run_main(env, "cleanup")

    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "damaged" in done.stdout and published.is_file()


def test_a_damaged_cleanup_plan_says_what_to_check(env, published):
    (workspace_dir(published) / cleanup.CLEANUP_FILE).write_text('{"source_video": 1}')

    with pytest.raises(cleanup.CleanupPlanUnreadableError, match="delete this file") as error:
        cleanup.cleanup_single_video(published)
    assert published.is_file()
    assert isinstance(error.value, NeedsAttentionError)  # under Temporal: waits, does not fail
    assert for_batch(error.value).endswith("delete this file; run `./cafe batch cleanup`.")


def test_main_upload_then_cleanup(env, clip_cache):
    ready = add_ready_video(clip_cache, env)
    not_enhanced = add_ready_video(clip_cache, env, "ms_HuyvsViet.mp4")
    (workspace_dir(not_enhanced) / "thumbnail.jpg").unlink()

    uploaded = run_main(env, "upload", PUBLISH_AT="23:59")
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert "published to" in uploaded.stdout and "without a thumbnail" in uploaded.stdout
    assert "public at" in uploaded.stdout and ":59:00" in uploaded.stdout

    cleaned = run_main(env, "cleanup")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "not published yet" in cleaned.stdout and "ms_HuyvsViet.mp4" in cleaned.stdout
    assert (env / "completed" / ready.name).is_file() and not ready.exists()
    assert not_enhanced.is_file()


def test_a_full_disk_across_filesystems_leaves_no_partial_copy_and_goes_on_once_freed(
    env, monkeypatch, published, small_disk
):
    disk = small_disk("completed-disk", 8 * 1024)  # room for the video, once the filler goes
    completed = disk.path / "completed"
    completed.mkdir()
    set_env(monkeypatch, COMPLETED_DIR=str(completed))
    video_sha = file_sha256(published)
    disk.fill()

    with pytest.raises(OSError) as full:
        cleanup.cleanup_single_video(published)

    assert full.value.errno == errno.ENOSPC
    assert list(completed.iterdir()) == []  # no hidden .partial left taking the space
    assert file_sha256(published) == video_sha and workspace_dir(published).is_dir()
    disk.free()
    result = cleanup.cleanup_single_video(published)
    assert file_sha256(Path(result.archived_video)) == video_sha and not published.exists()
