"""The resumable `videos.insert`: the video sent in chunks, resumable after any failure.

The session's URI (a credential) is kept in the workspace's `upload_session.json` with mode
0600, never logged: after a crash the next run asks YouTube how many bytes it holds and sends
only the rest.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import re
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest, MediaIoBaseUpload

from errors import Remedy
from workspace import UPLOAD_SESSION_FILE, atomic_write_json, read_json, workspace_dir
from youtube import api
from youtube.api import Channel
from youtube.common import ProgressCallback, utc_now_iso
from youtube.errors import UploadInterruptedError, UploadSessionLostError
from youtube.oauth import auth_failures

log = logging.getLogger(__name__)

SESSION_SAVE_SECONDS = 5.0


class _ChunkMedia(MediaIoBaseUpload):
    """The video read chunk by chunk into memory, the next chunk read while this one is sent.

    googleapiclient otherwise hands httplib2 a slice of the open file; when httplib2 or the
    token refresh repeats a request (stale connection, 401), that slice is already consumed
    and the repeat sends a truncated body. A chunk in memory can be sent again as it is. It is
    a memoryview so http.client sends it as it is, instead of copying it behind the headers.
    """

    def __init__(self, handle: BinaryIO, mimetype: str, chunk_bytes: int, reader: Executor):
        super().__init__(handle, mimetype, chunksize=chunk_bytes, resumable=True)
        self._descriptor = handle.fileno()
        self._reader = reader
        self._ahead: tuple[int, Future[bytes]] | None = None

    def has_stream(self) -> bool:
        return False

    def getbytes(self, begin: int, length: int) -> memoryview:
        if self._ahead is not None and self._ahead[0] == begin:
            data = self._ahead[1].result()
        else:
            data = os.pread(self._descriptor, length, begin)
        following = begin + len(data)
        self._ahead = None
        if following < self.size():
            read = self._reader.submit(os.pread, self._descriptor, length, following)
            self._ahead = (following, read)
        return memoryview(data)


def session_path(video: Path) -> Path:
    return workspace_dir(video) / UPLOAD_SESSION_FILE


def forget_session(video: Path) -> None:
    session_path(video).unlink(missing_ok=True)


class ResumableUpload:
    """`videos.insert` of `video` with `body` (its parts), resuming a recorded session if any.

    The bytes sent are `media`'s (by default the video itself; its branded copy when there is
    one); the session is kept in `video`'s workspace and restarts when `media` changes."""

    def __init__(
        self,
        channel: Channel,
        video: Path,
        body: dict[str, Any],
        chunk_bytes: int,
        progress: ProgressCallback,
        media: Path | None = None,
    ) -> None:
        self.channel = channel
        self.video = video
        self.media = media or video
        self.body = body
        self.chunk_bytes = chunk_bytes
        self.progress = progress
        stat = self.media.stat()
        self.size = stat.st_size
        self.mtime_ns = stat.st_mtime_ns
        self.final_chunk_sent = False
        self.saved_at = 0.0
        self.handle: BinaryIO
        self.reader: Executor
        self.request: HttpRequest

    def run(self) -> dict[str, Any]:
        """The video resource YouTube created."""
        with self.media.open("rb") as self.handle, ThreadPoolExecutor(1) as self.reader:
            self.request = self._insert_request()
            session = self._recorded_session()
            if session is not None:
                self.request.resumable_uri = session["uri"]
                self.request.resumable_progress = session["offset"]
                self.final_chunk_sent = session.get("final_chunk_sent", False)
            return self._send(resync=session is not None)

    def _insert_request(self) -> HttpRequest:
        mimetype = mimetypes.guess_type(self.video.name)[0] or "application/octet-stream"
        media = _ChunkMedia(self.handle, mimetype, self.chunk_bytes, self.reader)
        parts = ",".join(self.body)
        return self.channel.service.videos().insert(part=parts, body=self.body, media_body=media)

    def _recorded_session(self) -> dict[str, Any] | None:
        path = session_path(self.video)
        if not path.is_file():
            return None
        session = read_json(path)
        if (session.get("size"), session.get("mtime_ns")) != (self.size, self.mtime_ns):
            log.warning("%s changed since its upload began; starting a new upload", self.video)
            forget_session(self.video)
            return None
        return session

    def _save_session(self) -> None:
        session = {
            "uri": self.request.resumable_uri,
            "offset": self.request.resumable_progress,
            "final_chunk_sent": self.final_chunk_sent,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "saved_at": utc_now_iso(),
        }
        atomic_write_json(session_path(self.video), session, mode=0o600)
        self.saved_at = time.monotonic()

    def _before_chunk(self) -> None:
        if self.request.resumable_uri is None:
            self._open_session()
        # Recorded before the last chunk goes: if the session then expires, YouTube may hold
        # the whole video, and a new session could make a second one.
        last = self.request.resumable_progress + self.chunk_bytes >= self.size
        if last and not self.final_chunk_sent:
            self.final_chunk_sent = True
            self._save_session()

    def _after_chunk(self) -> None:
        """Keep the recorded offset recent (YouTube's own answer decides where to resume)."""
        if time.monotonic() - self.saved_at >= SESSION_SAVE_SECONDS:
            self._save_session()
        try:
            self.progress(self.request.resumable_progress, self.size)
        except BaseException:  # the caller stops the upload: leave the exact offset behind
            self._save_session()
            raise

    def _send(self, resync: bool) -> dict[str, Any]:
        """Chunk loop; transient failures are retried after asking YouTube for its offset."""
        name = self.video.name
        failures = 0
        self.progress(self.request.resumable_progress, self.size)
        while True:
            try:
                with auth_failures(self.channel.account.token_file):
                    if resync:
                        finished = self._resync()
                        if finished is not None:
                            return finished
                        resync = False
                    self._before_chunk()
                    _, finished = self.request.next_chunk()
            except api.RETRYABLE_TYPES as error:
                expired = isinstance(error, HttpError) and error.resp.status in (404, 410)
                if not (api.is_transient(error) or expired):
                    token_file = self.channel.account.token_file
                    raise api.final(error, name, "videos.insert", token_file) from None
                failures += 1
                if failures >= api.TRANSIENT_RETRY.attempts:
                    raise UploadInterruptedError(
                        f"{name}: the upload failed {failures} times in a row at byte "
                        f"{self.request.resumable_progress} of {self.size} "
                        f"({api.describe(error)}); the session is kept: the next attempt resumes "
                        "from there."
                    ) from error
                api.wait_before_retry(name, "the upload", error, failures)
                resync = True
                continue
            failures = 0
            if finished is not None:
                self.progress(self.size, self.size)
                return finished
            self._after_chunk()

    def _open_session(self) -> None:
        """Start the session ourselves, so its URI is saved before the first byte is sent."""
        request = self.request
        headers = {
            **request.headers,
            "X-Upload-Content-Type": request.resumable.mimetype(),
            "X-Upload-Content-Length": str(self.size),
            "content-length": str(request.body_size),
        }
        response, content = request.http.request(
            request.uri, method=request.method, body=request.body, headers=headers
        )
        if response.status != 200 or "location" not in response:
            raise HttpError(response, content, uri=request.uri)
        request.resumable_uri = response["location"]
        request.resumable_progress = 0
        self.final_chunk_sent = False
        self._save_session()
        log.info("%s: upload session opened (%d bytes to send)", self.video.name, self.size)

    def _resync(self) -> dict[str, Any] | None:
        """Ask YouTube how much of the video it holds; returns the video if it has it all."""
        # A new request: after a failure the old one would ask for the offset again itself.
        request = self._insert_request()
        request.resumable_uri = self.request.resumable_uri
        request.resumable_progress = self.request.resumable_progress
        self.request = request
        headers = {"Content-Range": f"bytes */{self.size}", "Content-Length": "0"}
        response, content = request.http.request(request.resumable_uri, "PUT", headers=headers)
        if response.status in (200, 201):
            return json.loads(content)
        if response.status == 308:
            held = re.fullmatch(r"bytes=0-(\d+)", response.get("range", ""))
            request.resumable_progress = int(held.group(1)) + 1 if held else 0
            log.info(
                "%s: resuming at byte %d of %d",
                self.video.name,
                request.resumable_progress,
                self.size,
            )
            return None
        if response.status in (404, 410):
            self._session_expired()
            return None
        raise HttpError(response, content, uri=request.uri)  # the session URI stays out

    def _session_expired(self) -> None:
        if self.final_chunk_sent:
            raise UploadSessionLostError(
                f"{self.video.name}: the upload session expired after its last chunk was sent, "
                "so YouTube may already have the video. Look in YouTube Studio: if it is there, "
                "delete it or keep it by hand; if not, delete "
                f"{session_path(self.video)}",
                Remedy.UPLOAD,
            )
        log.warning("%s: the upload session expired; starting a new one", self.video.name)
        forget_session(self.video)
        self.request.resumable_uri = None
        self.request.resumable_progress = 0
