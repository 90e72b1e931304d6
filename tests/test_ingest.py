"""Ingest without Temporal: when a file has settled, what it is, which recording it holds, and
whose workspace is whose."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import ingest
from errors import NeedsAttentionError
from ingest import FolderTracker
from temporal.client import workflow_id_for
from tests.temporal_support import add_video
from workspace import SOURCE_FILE, UPLOAD_FILE, claim_workspace, workspace_dir

MIB = 1024 * 1024


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write(path: Path, data: bytes, mtime: float) -> Path:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def test_a_file_starts_once_unchanged_for_the_settle_time_and_is_reported_once(tmp_path):
    clock = Clock(1_000_000.0)
    tracker = FolderTracker(settle_seconds=30, clock=clock)
    video = write(tmp_path / "md_AnzBinhvsChizDung.mp4", b"x" * 10, clock.now - 5)

    first = tracker.scan(tmp_path)
    assert first.ready == [] and first.settling == [video]
    assert [skip.path for skip in first.newly_settling] == [video]
    assert "still being copied" in first.newly_settling[0].reason
    assert "INGEST_SETTLE" in first.newly_settling[0].reason

    clock.now += 10  # the copy goes on: the file grows
    write(video, b"x" * 20, clock.now)
    second = tracker.scan(tmp_path)
    assert second.ready == [] and second.newly_settling == []  # not reported again

    clock.now += 29
    assert tracker.scan(tmp_path).ready == []
    clock.now += 2  # 31 s without a change
    assert tracker.scan(tmp_path).ready == [video]
    tracker.mark_handled([video])
    assert tracker.scan(tmp_path).ready == []  # handled: never again for this content


def test_an_old_file_starts_at_once_and_a_changed_one_waits_again(tmp_path):
    clock = Clock(1_000_000.0)
    tracker = FolderTracker(settle_seconds=30, clock=clock)
    video = write(tmp_path / "ms_HuyvsViet.mkv", b"old recording", clock.now - 3600)
    assert tracker.scan(tmp_path).ready == [video]
    tracker.mark_handled([video])

    clock.now += 5  # replaced by another recording whose copy kept the old time (cp -p)
    write(video, b"new recording, longer", clock.now - 3600)
    assert tracker.scan(tmp_path).ready == []
    clock.now += 31
    assert tracker.scan(tmp_path).ready == [video]


def test_a_modification_time_in_the_future_does_not_hold_a_file_back(tmp_path):
    # a camera whose clock is hours ahead; the copy kept its time (Explorer, Finder, cp -p)
    video = write(tmp_path / "ms_AnvsBinh.mp4", b"a finished copy", time.time() + 12 * 3600)
    clock = Clock(time.time() + 2)
    tracker = FolderTracker(settle_seconds=1, clock=clock)
    assert tracker.scan(tmp_path).ready == [video]
    assert ingest.still_being_copied(video, 0) is None

    waiting = FolderTracker(settle_seconds=30, clock=clock).scan(tmp_path).newly_settling
    assert "it changed 2 s ago" in waiting[0].reason  # by this machine's clock, never negative


def test_hidden_files_other_extensions_and_folders_are_ignored_and_gone_files_forgotten(tmp_path):
    clock = Clock(1_000_000.0)
    tracker = FolderTracker(settle_seconds=0, clock=clock)
    old = clock.now - 100
    write(tmp_path / ".ms_AnvsBinh.mp4.part", b"x", old)
    write(tmp_path / "notes.txt", b"x", old)
    (tmp_path / "folder.mp4").mkdir()
    video = write(tmp_path / "MS_AnvsBinh.MP4", b"x", old)
    assert tracker.scan(tmp_path).ready == [video]
    tracker.mark_handled([video])
    video.unlink()
    tracker.scan(tmp_path)
    write(video, b"x", old)  # back again: a new file for the tracker
    assert tracker.scan(tmp_path).ready == [video]


def test_still_being_copied_for_a_one_off_start(tmp_path):
    fresh = tmp_path / "md_AvsB.mp4"
    fresh.write_bytes(b"x")
    assert "still being copied" in ingest.still_being_copied(fresh, 30)
    os.utime(fresh, (fresh.stat().st_mtime - 31,) * 2)
    assert ingest.still_being_copied(fresh, 30) is None


def test_fingerprint_follows_the_content_not_the_name(tmp_path):
    first = tmp_path / "md_AvsB.mp4"
    first.write_bytes(os.urandom(3 * MIB))
    renamed = tmp_path / "md_AvsB_renamed.mp4"
    renamed.write_bytes(first.read_bytes())
    assert ingest.fingerprint(first) == ingest.fingerprint(renamed)

    data = bytearray(first.read_bytes())
    data[-1] ^= 0xFF  # the end of another recording
    rematch = tmp_path / "rematch.mp4"
    rematch.write_bytes(bytes(data))
    assert ingest.fingerprint(rematch) != ingest.fingerprint(first)
    longer = tmp_path / "longer.mp4"
    longer.write_bytes(first.read_bytes() + b"\0")
    assert ingest.fingerprint(longer) != ingest.fingerprint(first)


def test_workflow_ids_are_short_readable_and_from_the_content(tmp_path):
    video = tmp_path / "md_Nguyễn Đức HuyzAnvsTrâmzVy_Tour HCM.mp4"
    video.write_bytes(b"one recording")
    workflow_id = workflow_id_for(video)
    assert workflow_id.startswith("md-nguyen-duc-huyzanvstramzvy-tour-hcm-")
    assert len(workflow_id.rsplit("-", 1)[1]) == 6 and workflow_id.isascii()
    long_name = tmp_path / f"xd_{'A' * 60}zBvsCzD.mp4"
    long_name.write_bytes(b"one recording")
    assert len(workflow_id_for(long_name)) <= 40 + 7
    assert workflow_id_for(long_name) != workflow_id_for(video)
    video.write_bytes(b"a rematch under the same name")
    assert workflow_id_for(video) != workflow_id


def test_bad_names_and_non_videos_are_refused_with_how_to_fix_them(env, clip_cache):
    misnamed = add_video(clip_cache, env / "videos", "match1.mp4")
    with pytest.raises(ingest.PipelineError) as refused:
        ingest.examine(misnamed)
    assert "rename it as {type}_{team1}vs{team2}" in ingest.refusal(misnamed, refused.value)
    assert not ingest.refusal(misnamed, refused.value).startswith("match1.mp4")

    text = env / "videos" / "md_AnzBinhvsChizDung.mp4"
    text.write_text("not a video")
    with pytest.raises(ingest.PipelineError, match="not a video file"):
        ingest.examine(text)

    good = add_video(clip_cache, env / "videos", "md_NhozVinhvsKhanhzLeo.mp4")
    incoming = ingest.examine(good)
    assert incoming.summary == "Nho/Vinh vs Khanh/Leo · Cafe Game"
    assert incoming.fingerprint == ingest.fingerprint(good)


def test_a_rematch_sets_the_old_workspace_aside_and_never_deletes_it(env):
    video = env / "videos" / "md_AvsB.mp4"
    video.write_bytes(b"yesterday")
    old = ingest.fingerprint(video)
    workspace = claim_workspace(video, old)
    (workspace / UPLOAD_FILE).write_text('{"target": "youtube", "video_id": "abc"}')
    assert claim_workspace(video, old) == workspace and (workspace / UPLOAD_FILE).exists()

    video.write_bytes(b"today's rematch")
    new = ingest.fingerprint(video)
    assert claim_workspace(video, new) == workspace
    aside = workspace.with_name(f"{workspace.name}.replaced-{old[:6]}")
    assert (aside / UPLOAD_FILE).read_text() == '{"target": "youtube", "video_id": "abc"}'
    assert not (workspace / UPLOAD_FILE).exists()
    assert (workspace / SOURCE_FILE).is_file()


def test_a_workspace_of_unknown_content_is_kept_unless_it_recorded_an_upload(env):
    video = env / "videos" / "md_AvsB.mp4"
    video.write_bytes(b"a recording")
    workspace = workspace_dir(video)
    workspace.mkdir(parents=True)
    (workspace / "metadata.json").write_text("{}")  # the batch CLI prepared it
    claim_workspace(video, ingest.fingerprint(video))
    assert (workspace / "metadata.json").exists()

    other = env / "videos" / "md_CvsD.mp4"
    other.write_bytes(b"another recording")
    published = workspace_dir(other)
    published.mkdir()
    (published / UPLOAD_FILE).write_text("{}")
    claim_workspace(other, ingest.fingerprint(other))
    assert (published.with_name(f"{published.name}.replaced-unknow") / UPLOAD_FILE).exists()


def test_a_replaced_or_missing_source_needs_attention_and_says_what_to_do(env):
    video = env / "videos" / "md_AvsB.mp4"
    video.write_bytes(b"the recording the workflow started with")
    expected = ingest.fingerprint(video)
    claim_workspace(video, expected)
    ingest.require_same_source(video, expected)

    video.write_bytes(b"another recording copied over it")
    with pytest.raises(ingest.SourceReplacedError) as replaced:
        ingest.require_same_source(video, expected)
    assert isinstance(replaced.value, NeedsAttentionError)
    assert str(video) in str(replaced.value) and "Put the original" in str(replaced.value)

    video.unlink()
    with pytest.raises(ingest.SourceMissingError, match="no longer there"):
        ingest.require_same_source(video, expected)
    ingest.require_same_source(video, expected, gone_ok=True)  # archived by a cleanup
    ingest.require_same_source(video, "")  # started before fingerprints: nothing checked


def test_a_workspace_taken_by_another_recording_is_refused(env):
    video = env / "videos" / "md_AvsB.mp4"
    video.write_bytes(b"first")
    first = ingest.fingerprint(video)
    claim_workspace(video, "f" * 32)  # another workflow's recording of that name took it
    with pytest.raises(ingest.SourceReplacedError, match="workspace now belongs"):
        ingest.require_same_source(video, first)
    ingest.require_same_source(video, first, workspace=False)


def copy_going_on_while_read(video: Path):
    """`open` for the ingest module: the file grows each time it is opened, as a copy that
    goes on while the fingerprint reads it."""

    def opened(path, mode="r", *args, **kwargs):
        handle = open(path, mode, *args, **kwargs)  # noqa: SIM115 (the caller closes it)
        with open(video, "ab") as copy:
            copy.write(b"more of the recording")
        return handle

    return opened


def test_a_file_that_changes_while_its_fingerprint_is_read_gets_none(tmp_path, monkeypatch):
    video = tmp_path / "md_AnzBinhvsChizDung.mp4"
    video.write_bytes(os.urandom(3 * MIB))
    with monkeypatch.context() as copying, pytest.raises(ingest.ChangedWhileReadError) as changed:
        copying.setattr(ingest, "open", copy_going_on_while_read(video), raising=False)
        ingest.fingerprint(video)
    assert f"{video}: it changed while it was read" in str(changed.value)

    same_bytes = tmp_path / "md_CvsD.mp4"
    same_bytes.write_bytes(video.read_bytes())
    assert ingest.fingerprint(video) == ingest.fingerprint(same_bytes)  # of what it holds now
