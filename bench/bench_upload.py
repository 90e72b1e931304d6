"""YouTube upload throughput: our uploader against one raw HTTP PUT of the same file, one run;
and the YouTube quota units each video costs.

Both go over loopback to the same local YouTube-compatible server (tests/fake_youtube.py, in a
process of its own, as YouTube is not in ours), which hashes every byte it receives:
  (a) `uploader.upload_single_video` with UPLOAD_TARGET=youtube and UPLOAD_CHUNK_MB=16: resumable
      session, 16 MB chunks each answered 308, the session saved after each, then the thumbnail,
      the privacy change (status read, then sent back whole) and the playlist;
  (b) one `http.client` PUT of the whole file (1 MiB writes), nothing else.
Target: (a) at least 80% of (b)'s MB/s; best of --runs each, alternated.

The server counts the units of every call at Google's prices (`UNIT_COSTS`): the first upload
creates the tournament's playlist, the later ones find it.

    python bench/bench_upload.py [--mb 512] [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, and its tests/

import config
from tests.fake_youtube import DAILY_INSERTS, DAILY_UNITS, FakeYouTube, file_sha256, units_of
from video_prep import VideoInfo, describe_match
from workspace import METADATA_FILE, THUMBNAIL_FILE, UPLOAD_FILE, atomic_write_json, workspace_dir

TARGET_RATIO = 0.80
CHUNK_MB = 16
MIB = 1024 * 1024
VIDEO_NAME = "md_AnzBinhvsChizDung_Bench.mp4"


def make_video(path: Path, megabytes: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as handle:
        for index in range(megabytes):
            handle.write(index.to_bytes(8, "big") + block[8:])


def prepare_workspace(video: Path) -> None:
    """metadata.json as prepare writes it (probe values stand in: the bytes are not a video)."""
    info = VideoInfo(600.0, 30.0, 1920, 1080, 1920, 1080, 0, "h264", "yuv420p", 8, None)
    directory = workspace_dir(video)
    atomic_write_json(directory / METADATA_FILE, describe_match(video, info).to_dict())
    (directory / THUMBNAIL_FILE).write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(200_000))


def time_uploader(video: Path) -> float:
    import uploader

    (workspace_dir(video) / UPLOAD_FILE).unlink(missing_ok=True)
    start = time.perf_counter()
    record = uploader.upload_single_video(video)
    elapsed = time.perf_counter() - start
    assert record.complete, record
    return elapsed


def time_raw_put(root_url: str, video: Path) -> float:
    host, port = root_url.removeprefix("http://").rstrip("/").split(":")
    size = video.stat().st_size
    start = time.perf_counter()
    connection = http.client.HTTPConnection(host, int(port), blocksize=MIB)
    with video.open("rb") as body:
        connection.request("PUT", "/raw-upload", body=body, headers={"Content-Length": str(size)})
        response = connection.getresponse()
        response.read()
    connection.close()
    elapsed = time.perf_counter() - start
    assert response.status == 200, response.status
    return elapsed


def serve_fake(pipe: Connection) -> None:
    """The server process: sends its address and a token, then the hashes it received and the
    successful calls, in order."""
    import uploader

    with FakeYouTube() as fake:
        pipe.send((fake.root_url, fake.authorized_user(list(uploader.SCOPES))))
        pipe.recv()
        hashes = {video.sha256 for video in fake.videos.values()}
        calls = [call.name for call in fake.calls if call.status == 200]
        pipe.send((hashes | {digest for _, digest in fake.raw_uploads}, calls))


def units_per_upload(calls: list[str]) -> list[int]:
    """The units each upload cost: the calls from one videos.insert to the next."""
    uploads: list[list[str]] = []
    for name in calls:
        if name == "videos.insert":
            uploads.append([])
        elif uploads:
            uploads[-1].append(name)
    return [units_of(names) for names in uploads]


def best(runs: list[float]) -> float:
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=512, help="size of the test file in MiB")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    pipe, child_pipe = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve_fake, args=(child_pipe,), daemon=True)
    server.start()
    root_url, token = pipe.recv()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        root = Path(tmp)
        os.environ.update(
            INPUT_DIR=str(root / "videos"),
            WORKSPACE_DIR=str(root / "workspace"),
            UPLOAD_TARGET="youtube",
            UPLOAD_CHUNK_MB=str(CHUNK_MB),
            YOUTUBE_API_ROOT=root_url,
            YOUTUBE_TOKEN_FILE=str(root / "token.json"),
            VIDEO_PRIVACY_STATUS="unlisted",
            LOG_LEVEL="WARNING",
        )
        config.get_settings.cache_clear()
        (root / "token.json").write_text(json.dumps(token))
        (root / "token.json").chmod(0o600)
        (root / "videos").mkdir()
        video = root / "videos" / VIDEO_NAME
        make_video(video, args.mb)
        prepare_workspace(video)
        expected = file_sha256(video)

        measures: dict[str, list[float]] = {"uploader": [], "raw": []}
        runners: dict[str, Callable[[], float]] = {
            "uploader": lambda: time_uploader(video),
            "raw": lambda: time_raw_put(root_url, video),
        }
        for _ in range(args.runs):
            for name, run in runners.items():
                measures[name].append(run())

    pipe.send("done")
    received, calls = pipe.recv()
    server.join()
    assert received == {expected}, "the server received other bytes than the file's"
    units = units_per_upload(calls)

    megabytes = args.mb * MIB / 1e6
    ours = megabytes / best(measures["uploader"])
    raw = megabytes / best(measures["raw"])
    ratio = ours / raw
    verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
    print(f"{args.mb} MiB over loopback, {CHUNK_MB} MB chunks, best of {args.runs}:")
    print(f"  (a) uploader (resumable, chunked, + thumbnail, privacy, playlist):{ours:8.1f} MB/s")
    print(f"  (b) one raw HTTP PUT (http.client):                                  {raw:8.1f} MB/s")
    print(f"  a/b = {ratio:.0%} (target at least {TARGET_RATIO:.0%}): {verdict}")
    first, usual = units[0], units[-1]
    print(
        f"YouTube quota per unlisted video: {usual} units ({first} for the first of a tournament, "
        f"which creates its playlist) of {DAILY_UNITS:,} a day, plus 1 videos.insert of "
        f"{DAILY_INSERTS} a day: {min(DAILY_UNITS // usual, DAILY_INSERTS)} videos a day"
    )


if __name__ == "__main__":
    main()
