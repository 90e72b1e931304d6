"""A local YouTube Data API v3 server for the uploader's tests and benchmark.

A real threaded HTTP server on 127.0.0.1 speaking the parts the uploader uses, as Google does:
resumable `videos.insert` (initiation -> `Location`, chunk PUTs answered `308` with `Range`, the
offset query `Content-Range: bytes */SIZE`, a final `200` with the video resource),
`thumbnails.set` (refuses images over 2 MB), `watermarks.set` (a multipart upload of the
channel's InvideoBranding and its image, answered 204),
`videos.list`, `videos.update`, `channels.list`,
`playlists.list` (paged) and `playlists.insert`, `playlistItems.list` and `playlistItems.insert`,
and the OAuth token endpoint (authorization code and refresh grants). Every API call needs a
valid bearer token.

`videos.update` REPLACES each part it names, as YouTube does: a mutable property the body leaves
out is reset to its default (`embeddable` and `publicStatsViewable` false, `license` youtube, no
`publishAt`, no description, tags or language), read-only ones (`uploadStatus`) are kept. A new
video starts embeddable, with public statistics. Titles, descriptions and tags are checked against
YouTube's limits, a playlist's title and description too (`<` or `>` refused as YouTube does,
400 `invalidPlaylistSnippet`); `publishAt` must be in the future and on a private video.

Faults are injected per test: an HTTP error on chosen chunk requests, a connection dropped in the
middle of a chunk, a chunk that stalls half-way until released (for killing a client mid-chunk),
a lost final answer, an error answered once or always by a named call (`quotaExceeded`, thumbnail
403, 400, 401...), before or after the call took effect, a call that stalls after taking effect
until released (for killing a client between a call and its record), expired access tokens,
revoked grants and expired upload sessions.

It keeps a sha256 of the bytes it committed for each video, counts every media byte it read
(`media_bytes_read`, so a test sees bytes sent twice), records each call in order (`calls`) and
counts the quota units they cost (`UNIT_COSTS`, Google's figures; `videos.insert` draws on a
bucket of its own, 100 calls a day).
"""

from __future__ import annotations

import base64
import email.policy
import hashlib
import json
import re
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
WATERMARK_MAX_BYTES = 1024 * 1024
READ_BLOCK = 1024 * 1024
CLIENT_ID = "fake-client.apps.googleusercontent.com"
CLIENT_SECRET = "fake-client-secret"

QUOTA_MESSAGE = (
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)
UPLOAD_LIMIT_MESSAGE = "The user has exceeded the number of videos they may upload."
THUMBNAIL_FORBIDDEN_MESSAGE = (
    "The authenticated user doesn't have permissions to upload and set custom video thumbnails."
)

# Quota units a successful call costs (Google's "determine quota cost" page). videos.insert is
# not here: it draws on a bucket of its own, 100 calls a day, one each.
UNIT_COSTS = {
    "channels.list": 1,
    "videos.list": 1,
    "videos.update": 50,
    "thumbnails.set": 50,
    "watermarks.set": 50,
    "playlists.list": 1,
    "playlists.insert": 50,
    "playlists.delete": 50,
    "playlistItems.list": 1,
    "playlistItems.insert": 50,
}
DAILY_UNITS = 10_000
DAILY_INSERTS = 100

TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
PLAYLIST_TITLE_MAX_CHARS = 150
# What a property left out of a videos.update body becomes; what a new video starts with.
STATUS_RESET = {"embeddable": False, "publicStatsViewable": False, "license": "youtube"}
STATUS_NEW = {"embeddable": True, "publicStatsViewable": True, "license": "youtube"}
STATUS_READ_ONLY = ("uploadStatus", "failureReason", "rejectionReason", "madeForKids")
SNIPPET_READ_ONLY = ("publishedAt", "channelId", "channelTitle", "thumbnails")
CHANNEL_ID = "UCfakeCafeChannel0000000"


def units_of(call_names: Iterable[str]) -> int:
    """The quota units these successful calls cost (videos.insert excepted)."""
    return sum(UNIT_COSTS.get(name, 0) for name in call_names)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Call:
    """One request as the fake understood it, in arrival order."""

    name: str
    status: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeVideo:
    id: str
    snippet: dict[str, Any]
    status: dict[str, Any]
    size: int
    sha256: str
    recording_details: dict[str, Any] = field(default_factory=dict)
    thumbnail_sha256: str | None = None

    def resource(self, parts: Iterable[str] = ("snippet", "status")) -> dict[str, Any]:
        held = {
            "snippet": self.snippet,
            "status": self.status,
            "recordingDetails": self.recording_details,
        }
        answer: dict[str, Any] = {"kind": "youtube#video", "id": self.id}
        answer.update({part: held[part] for part in parts if part in held})
        return answer


@dataclass
class FakePlaylist:
    id: str
    title: str
    privacy: str
    video_ids: list[str] = field(default_factory=list)
    # to the microsecond, so that playlists created in one second still have an order
    published_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def resource(self) -> dict[str, Any]:
        return {
            "kind": "youtube#playlist",
            "id": self.id,
            "snippet": {
                "title": self.title,
                "channelId": CHANNEL_ID,
                "publishedAt": self.published_at,
            },
            "status": {"privacyStatus": self.privacy},
        }


@dataclass
class Session:
    id: str
    size: int
    body: dict[str, Any]
    parts: list[str]
    committed: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    video_id: str | None = None


@dataclass
class Pause:
    """A chunk request that stops half-way: `reached` is set then, `release` lets it drop."""

    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class Consent:
    """What the person agreed to in the (simulated) browser: the code's scopes and PKCE."""

    scopes: list[str]
    redirect_uri: str
    code_challenge: str | None


@dataclass
class InjectedError:
    status: int
    reason: str
    message: str
    times: int | None  # None: every time
    after_effect: bool = False  # answered once the call took effect


@dataclass
class FakeWatermark:
    """The channel's branding watermark: the InvideoBranding body and the image."""

    channel_id: str
    branding: dict[str, Any]
    image: bytes
    image_type: str


class FakeYouTube:
    """Start with `with FakeYouTube() as fake:`; `fake.root_url` is YOUTUBE_API_ROOT."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.secrets_issued: list[str] = []
        self.access_tokens = {self.new_secret("ya29.fake-access-")}
        self.refresh_token = self.new_secret("1//fake-refresh-")
        self.grant_revoked = False
        self.consented_scopes: list[str] = []
        self.videos: dict[str, FakeVideo] = {}
        self.sessions: dict[str, Session] = {}
        self.calls: list[Call] = []
        self.media_bytes_read = 0
        self.chunk_requests = 0
        self.chunk_faults: dict[int, int] = {}
        self.dropped_chunks: set[int] = set()
        self.paused_chunks: dict[int, Pause] = {}
        self.drop_final_answer = False
        self.errors: dict[str, InjectedError] = {}
        self.paused_calls: dict[str, Pause] = {}
        self.meanwhile_calls: dict[str, Callable[[], Any]] = {}
        self.playlists: dict[str, FakePlaylist] = {}
        self.playlist_page_size = 50  # at most; a test lowers it to see every page read
        self.issued_codes: dict[str, Consent] = {}
        self.raw_uploads: list[tuple[int, str]] = []
        self.watermark: FakeWatermark | None = None  # the channel's, as watermarks.set left it
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def new_secret(self, prefix: str = "") -> str:
        """A token, code or session id; each is kept in `secrets_issued` for leak checks."""
        secret = prefix + secrets.token_urlsafe(24)
        self.secrets_issued.append(secret)
        return secret

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> FakeYouTube:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for pause in [*self.paused_chunks.values(), *self.paused_calls.values()]:
            pause.release.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def root_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def token_uri(self) -> str:
        return self.root_url + "token"

    def client_secrets(self) -> dict[str, Any]:
        """An installed-app OAuth client whose token endpoint is this server."""
        return {
            "installed": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "auth_uri": self.root_url + "o/oauth2/auth",
                "token_uri": self.token_uri,
                "redirect_uris": ["http://localhost"],
            }
        }

    def authorized_user(self, scopes: list[str]) -> dict[str, Any]:
        """A token file's content, as `auth` saves it, holding this server's valid tokens."""
        return {
            "token": next(iter(self.access_tokens)),
            "refresh_token": self.refresh_token,
            "token_uri": self.token_uri,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": scopes,
            "expiry": "2999-01-01T00:00:00Z",
        }

    def consent(self, authorization_url: str) -> str:
        """Play the person's browser on Google's consent page: approve the request and return
        the redirect (to the app's local server) carrying the authorization code and state."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            raise ValueError(f"not an authorization request of this client: {query}")
        code = self.new_secret("4/fake-code-")
        with self.lock:
            self.issued_codes[code] = Consent(
                query["scope"].split(), query["redirect_uri"], query.get("code_challenge")
            )
        return f"{query['redirect_uri']}?{urlencode({'state': query['state'], 'code': code})}"

    # -- fault injection ------------------------------------------------------------------------

    def fail_chunk_requests(self, status: int, *numbers: int) -> None:
        """Answer `status` to the chunk PUTs with these 1-based arrival numbers."""
        self.chunk_faults.update(dict.fromkeys(numbers, status))

    def drop_chunk_request(self, number: int) -> None:
        """Read half of that chunk PUT, then close the connection without an answer."""
        self.dropped_chunks.add(number)

    def pause_chunk_request(self, number: int) -> Pause:
        """Read half of that chunk PUT, wait for `release`, then drop the connection."""
        pause = self.paused_chunks[number] = Pause()
        return pause

    def lose_final_answer(self) -> None:
        """Commit the last chunk and create the video, but close without answering once."""
        self.drop_final_answer = True

    def fail(
        self,
        call: str,
        status: int,
        reason: str,
        message: str,
        times: int | None = 1,
        after_effect: bool = False,
    ) -> None:
        """Answer `call` (e.g. `videos.insert`) with a Google-style error; `after_effect`: once
        the call has taken effect (a backend that failed after committing)."""
        self.errors[call] = InjectedError(status, reason, message, times, after_effect)

    def pause_after(self, call: str) -> Pause:
        """Let `call` take effect, then hold its answer until `release`, then drop it."""
        pause = self.paused_calls[call] = Pause()
        return pause

    def meanwhile(self, call: str, action: Callable[[], Any]) -> None:
        """Run `action` once, just before `call` takes effect (another machine acting then)."""
        self.meanwhile_calls[call] = action

    def stop_failing(self, call: str) -> None:
        """Switch off the error injected for `call` (a quota that was reset, say)."""
        with self.lock:
            self.errors.pop(call, None)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far gets 401; a refresh still works."""
        with self.lock:
            self.access_tokens.clear()

    def revoke_grant(self) -> None:
        """The user revoked the app: 401 for API calls, `invalid_grant` for refreshes."""
        with self.lock:
            self.access_tokens.clear()
            self.grant_revoked = True

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    # -- inspection -----------------------------------------------------------------------------

    def call_names(self) -> list[str]:
        with self.lock:
            return [call.name for call in self.calls]

    def calls_named(self, name: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.name == name]

    def committed_bytes(self) -> int:
        with self.lock:
            return sum(session.committed for session in self.sessions.values())

    def units_spent(self) -> int:
        """Quota units of every successful call so far (videos.insert has its own bucket)."""
        with self.lock:
            return units_of(call.name for call in self.calls if 200 <= call.status < 300)

    def add_playlist(self, title: str, privacy: str = "public") -> FakePlaylist:
        """A playlist the channel already has."""
        with self.lock:
            return self._new_playlist(title, privacy)

    def playlists_titled(self, title: str) -> list[FakePlaylist]:
        with self.lock:
            return [p for p in self.playlists.values() if p.title == title]

    # -- internals used by the handler ----------------------------------------------------------

    def record(self, name: str, status: int, **detail: Any) -> None:
        with self.lock:
            self.calls.append(Call(name, status, detail))

    def injected(self, call: str, after_effect: bool = False) -> InjectedError | None:
        with self.lock:
            error = self.errors.get(call)
            if error is None or error.after_effect != after_effect:
                return None
            if error.times is not None:
                error.times -= 1
                if error.times <= 0:
                    del self.errors[call]
            return error

    def create_video(self, session: Session) -> FakeVideo:
        video_id = _new_id()
        parts = session.parts
        snippet = dict(session.body.get("snippet", {})) if "snippet" in parts else {}
        snippet.update(publishedAt=_now_rfc3339(), channelId=CHANNEL_ID)
        status = {**STATUS_NEW, "privacyStatus": "public"}
        status.update(session.body.get("status", {}) if "status" in parts else {})
        status["uploadStatus"] = "uploaded"
        status["madeForKids"] = bool(status.get("selfDeclaredMadeForKids", False))
        recording = session.body.get("recordingDetails", {}) if "recordingDetails" in parts else {}
        video = FakeVideo(
            video_id, snippet, status, session.size, session.digest.hexdigest(), dict(recording)
        )
        self.videos[video_id] = video
        session.video_id = video_id
        return video

    def _new_playlist(self, title: str, privacy: str) -> FakePlaylist:
        playlist = FakePlaylist("PL" + _new_id() * 2, title, privacy)
        self.playlists[playlist.id] = playlist
        return playlist


def _multipart(content_type: str, data: bytes) -> list[tuple[str, bytes]]:
    """The parts of a multipart/related body: (content type, payload) each."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + data
    )
    if not message.is_multipart():
        return []
    parts = message.iter_parts()
    return [(part.get_content_type(), part.get_payload(decode=True)) for part in parts]


def _new_id() -> str:
    return secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")[:11]


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else None


def snippet_problem(snippet: dict[str, Any], required: bool) -> tuple[str, str] | None:
    """(reason, message) for a snippet YouTube would refuse, or None."""
    title = snippet.get("title", "")
    if (required or "title" in snippet) and (
        not title or len(title) > TITLE_MAX_CHARS or "<" in title or ">" in title
    ):
        return "invalidTitle", "The video title is invalid."
    description = snippet.get("description", "")
    if (
        len(description.encode()) > DESCRIPTION_MAX_BYTES
        or "<" in description
        or ">" in description
    ):
        return "invalidDescription", "The video description is invalid."
    tags = snippet.get("tags", [])
    if sum(len(tag) + 2 * (" " in tag) for tag in tags) + max(0, len(tags) - 1) > TAGS_MAX_CHARS:
        return "invalidTags", "The video keywords are invalid."
    for key in ("defaultLanguage", "defaultAudioLanguage"):
        if key in snippet and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]+)*", snippet[key]):
            return "invalidDefaultLanguage", f"The {key} is invalid."
    if required and not snippet.get("categoryId"):
        return "invalidCategoryId", "The video category is not valid."
    return None


def playlist_snippet_problem(snippet: dict[str, Any]) -> str | None:
    """Why YouTube refuses a playlist's snippet (400 invalidPlaylistSnippet), or None: a title
    empty, too long or with `<` or `>`, a description too long or with them."""
    title, description = snippet.get("title", ""), snippet.get("description", "")
    if not title or len(title) > PLAYLIST_TITLE_MAX_CHARS or {"<", ">"} & set(title):
        return "The playlist title is invalid."
    if len(description.encode()) > DESCRIPTION_MAX_BYTES or {"<", ">"} & set(description):
        return "The playlist description is invalid."
    return None


def status_problem(status: dict[str, Any]) -> tuple[str, str] | None:
    if "publishAt" not in status:
        return None
    when = _time(status["publishAt"])
    if status.get("privacyStatus") != "private" or when is None:
        return "invalidPublishAt", "publishAt needs a private video and an RFC 3339 time."
    if when <= datetime.now(UTC):
        return "invalidPublishAt", "The scheduled publish time must be in the future."
    return None


def recording_problem(details: dict[str, Any]) -> tuple[str, str] | None:
    if "recordingDate" in details and _time(details["recordingDate"]) is None:
        return "invalidRecordingDetails", "The recording date is invalid."
    return None


def error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "youtube", "reason": reason}],
        }
    }


class _Dropped(Exception):
    """The connection was closed on purpose, without an answer."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeYouTube/1"

    @property
    def fake(self) -> FakeYouTube:
        return self.server.fake  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm holds the body
        # until the client's delayed ACK (40 ms a JSON answer), which Google's servers don't do.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # the tests' output stays quiet
        pass

    # -- plumbing -------------------------------------------------------------------------------

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def _send_error(self, name: str, status: int, reason: str, message: str) -> None:
        self.fake.record(name, status, reason=reason)
        self._send_json(status, error_body(status, reason, message))

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _drop(self) -> None:
        self.close_connection = True
        raise _Dropped

    def _authorized(self, name: str) -> bool:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        with self.fake.lock:
            valid = token in self.fake.access_tokens
        if not valid:
            self._body()
            self._send_error(
                name, 401, "authError", "Request had invalid authentication credentials."
            )
        return valid

    def _injected_error(self, name: str) -> bool:
        error = self.fake.injected(name)
        if error is None:
            return False
        self._body()
        self._send_error(name, error.status, error.reason, error.message)
        return True

    def _refuse(self, name: str, problem: tuple[str, str] | None) -> bool:
        """Answer 400 with the problem's reason and message, if there is one."""
        if problem is not None:
            self._send_error(name, 400, *problem)
        return problem is not None

    def _reply(self, name: str, data: Any, **detail: Any) -> None:
        """Answer a call that took effect: unless a fault holds or replaces the answer."""
        fake = self.fake
        pause = fake.paused_calls.pop(name, None)
        if pause is not None:
            fake.record(name, 200, answered=False, **detail)  # it took effect, and costs
            pause.reached.set()
            pause.release.wait()
            self._drop()
        error = fake.injected(name, after_effect=True)
        if error is not None:
            self._send_error(name, error.status, error.reason, error.message)
            return
        fake.record(name, 200, **detail)
        self._send_json(200, data)

    def _api_call(self, name: str) -> bool:
        """Whether the call may go on: a valid token and no fault injected before it."""
        if not self._authorized(name) or self._injected_error(name):
            return False
        action = self.fake.meanwhile_calls.pop(name, None)
        if action is not None:
            action()
        return True

    def _dispatch(self, handlers: dict[str, Any]) -> None:
        path, query = self._route()
        handler = handlers.get(path)
        try:
            if handler is None:
                self._body()
                self._send_error(f"unknown {self.command} {path}", 404, "notFound", "Not Found")
            else:
                handler(query)
        except _Dropped:
            pass

    def do_POST(self) -> None:
        self._dispatch(
            {
                "/upload/youtube/v3/videos": self._insert,
                "/upload/youtube/v3/thumbnails/set": self._thumbnail,
                "/upload/youtube/v3/watermarks/set": self._watermark,
                "/youtube/v3/playlists": self._playlist_insert,
                "/youtube/v3/playlistItems": self._item_insert,
                "/token": self._token,
            }
        )

    def do_PUT(self) -> None:
        self._dispatch(
            {
                "/upload/youtube/v3/videos": self._chunk,
                "/youtube/v3/videos": self._update,
                "/raw-upload": self._raw_upload,
            }
        )

    def do_DELETE(self) -> None:
        self._dispatch({"/youtube/v3/playlists": self._playlist_delete})

    def do_GET(self) -> None:
        self._dispatch(
            {
                "/youtube/v3/channels": self._channels,
                "/youtube/v3/videos": self._videos_list,
                "/youtube/v3/playlists": self._playlists_list,
                "/youtube/v3/playlistItems": self._items_list,
            }
        )

    # -- OAuth ----------------------------------------------------------------------------------

    def _token(self, query: dict[str, list[str]]) -> None:
        form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
        basic = self.headers.get("Authorization", "").removeprefix("Basic ")
        if basic:  # the client may authenticate in the body or with HTTP Basic, as at Google
            client_id, _, client_secret = base64.b64decode(basic).decode().partition(":")
            form.update(client_id=client_id, client_secret=client_secret)
        fake = self.fake
        grant = form.get("grant_type")
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            fake.record("token", 401, grant=grant)
            self._send_json(401, {"error": "invalid_client"})
            return
        scopes = self._granted_scopes(grant, form)
        if scopes is None:
            fake.record("token", 400, grant=grant)
            self._send_json(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
            return
        access = fake.new_secret("ya29.fake-access-")
        with fake.lock:
            fake.access_tokens.add(access)
        answer = {
            "access_token": access,
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
        }
        if grant == "authorization_code":
            answer["refresh_token"] = fake.refresh_token
        fake.record("token", 200, grant=grant)
        self._send_json(200, answer)

    def _granted_scopes(self, grant: str | None, form: dict[str, str]) -> list[str] | None:
        """The scopes a valid grant carries, or None for an invalid one."""
        fake = self.fake
        with fake.lock:
            if grant == "refresh_token":
                if fake.grant_revoked or form.get("refresh_token") != fake.refresh_token:
                    return None
                return form["scope"].split() if form.get("scope") else fake.consented_scopes
            consent = fake.issued_codes.pop(form.get("code", ""), None)
        if grant != "authorization_code" or consent is None:
            return None
        if form.get("redirect_uri") != consent.redirect_uri:
            return None
        if consent.code_challenge is not None:
            verifier = form.get("code_verifier", "").encode()
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if challenge.decode() != consent.code_challenge:
                return None
        fake.consented_scopes = consent.scopes
        return consent.scopes

    # -- channels.list --------------------------------------------------------------------------

    def _channels(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("channels.list"):
            return
        answer = {"kind": "youtube#channelListResponse", "items": [{"id": CHANNEL_ID}]}
        self._reply("channels.list", answer, mine=query.get("mine"))

    # -- videos.insert (resumable) --------------------------------------------------------------

    def _insert(self, query: dict[str, list[str]]) -> None:
        if query.get("uploadType") != ["resumable"]:
            self._body()
            self._send_error("videos.insert", 400, "badRequest", "Only resumable uploads here.")
            return
        if not self._api_call("videos.insert"):
            return
        body = json.loads(self._body() or b"{}")
        size = int(self.headers.get("X-Upload-Content-Length", "-1"))
        parts = _parts(query)
        for problem in (
            snippet_problem(body.get("snippet", {}), required=True),
            status_problem(body.get("status", {})),
            recording_problem(body.get("recordingDetails", {})),
        ):
            if self._refuse("videos.insert", problem):
                return
        session = Session(self.fake.new_secret(), size, body, parts)
        with self.fake.lock:
            self.fake.sessions[session.id] = session
        self.fake.record(
            "videos.insert",
            200,
            privacy=body.get("status", {}).get("privacyStatus"),
            part=query.get("part"),
            size=size,
        )
        location = f"{self.fake.root_url}upload/youtube/v3/videos?uploadType=resumable"
        self._send_empty(200, {"Location": f"{location}&upload_id={session.id}"})

    def _chunk(self, query: dict[str, list[str]]) -> None:
        fake = self.fake
        with fake.lock:
            session = fake.sessions.get(query.get("upload_id", [""])[0])
        if session is None:
            self._body()
            self._send_error("upload.chunk", 404, "notFound", "The upload session expired.")
            return
        if not self._authorized("upload.chunk"):
            return
        content_range = self.headers.get("Content-Range", "")
        length = int(self.headers.get("Content-Length") or 0)
        if content_range.startswith("bytes */"):
            self._answer_offset(session, "upload.query")
            return
        with fake.lock:
            fake.chunk_requests += 1
            number = fake.chunk_requests
        if number in fake.chunk_faults:
            self._read_media(length)
            self._send_error("upload.chunk", fake.chunk_faults[number], "backendError", "Backend")
            return
        start = int(content_range.removeprefix("bytes ").split("-")[0])
        if number in fake.dropped_chunks or number in fake.paused_chunks:
            self._read_media(length // 2)
            fake.record("upload.chunk", 0, start=start, dropped=True)
            if number in fake.paused_chunks:
                fake.paused_chunks[number].reached.set()
                fake.paused_chunks[number].release.wait()
            self._drop()
        with fake.lock:
            held = session.committed
        # Hashed while it arrives (as the raw PUT of the benchmark is), into a copy kept only
        # if the whole chunk comes; bytes the session already holds are skipped.
        pending = session.digest.copy()
        received = self._read_media(length, pending, skip=max(0, held - start))
        if received < length:
            fake.record("upload.chunk", 0, start=start, dropped=True)
            self._drop()
        with fake.lock:
            if start <= held < start + length and session.committed == held:
                session.digest = pending
                session.committed = start + length
            finished = session.committed >= session.size and session.video_id is None
            if finished:
                fake.create_video(session)
        fake.record("upload.chunk", 200, start=start, length=length)
        if finished and fake.drop_final_answer:
            fake.drop_final_answer = False
            self._drop()
        self._answer_offset(session, "upload.chunk", record=False)

    def _read_media(self, length: int, digest: Any = None, skip: int = 0) -> int:
        """Read up to `length` body bytes, hashing those after the first `skip`."""
        received = 0
        while received < length:
            block = self.rfile.read(min(READ_BLOCK, length - received))
            if not block:
                break
            if digest is not None and received + len(block) > skip:
                digest.update(block[max(0, skip - received) :])
            received += len(block)
            with self.fake.lock:
                self.fake.media_bytes_read += len(block)
        return received

    def _answer_offset(self, session: Session, name: str, record: bool = True) -> None:
        if session.video_id is not None:
            if record:
                self.fake.record(name, 200)
            self._send_json(200, self.fake.videos[session.video_id].resource(session.parts))
            return
        if record:
            self.fake.record(name, 308, committed=session.committed)
        headers = {"Range": f"bytes=0-{session.committed - 1}"} if session.committed else {}
        self._send_empty(308, headers)

    # -- thumbnails.set -------------------------------------------------------------------------

    def _thumbnail(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("thumbnails.set"):
            return
        data = self._body()
        video = self.fake.videos.get(query.get("videoId", [""])[0])
        if video is None:
            self._send_error("thumbnails.set", 404, "videoNotFound", "Video not found.")
            return
        if len(data) > THUMBNAIL_MAX_BYTES:
            self._send_error(
                "thumbnails.set",
                400,
                "mediaBodyTooLarge",
                "The thumbnail image file is too large (at most 2 MB).",
            )
            return
        if self.headers.get("Content-Type") not in ("image/jpeg", "image/png"):
            self._send_error("thumbnails.set", 400, "invalidImage", "The image is not JPEG/PNG.")
            return
        video.thumbnail_sha256 = hashlib.sha256(data).hexdigest()
        url = f"{self.fake.root_url}vi/{video.id}/maxresdefault.jpg"
        answer = {
            "kind": "youtube#thumbnailSetResponse",
            "items": [{"default": {"url": url, "width": 1280, "height": 720}}],
        }
        self._reply("thumbnails.set", answer, video_id=video.id, size=len(data))

    # -- watermarks.set (a multipart media upload: the InvideoBranding, then the image) -------

    def _watermark(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("watermarks.set"):
            return
        data = self._body()
        channel_id = query.get("channelId", [""])[0]
        if channel_id != CHANNEL_ID:
            self._send_error("watermarks.set", 403, "forbidden", "Not your channel.")
            return
        parts = _multipart(self.headers.get("Content-Type", ""), data)
        if query.get("uploadType") != ["multipart"] or len(parts) != 2:
            self._send_error(
                "watermarks.set", 400, "badRequest", "Expected the branding, then the image."
            )
            return
        (_, branding), (image_type, image) = parts
        body = json.loads(branding)
        if "timing" not in body or body.get("position", {}).get("type") != "corner":
            self._send_error("watermarks.set", 400, "invalidValue", "timing and position needed.")
            return
        if image_type not in ("image/png", "image/jpeg") or len(image) > WATERMARK_MAX_BYTES:
            self._send_error("watermarks.set", 400, "invalidImage", "A PNG or JPEG under 1 MB.")
            return
        self.fake.watermark = FakeWatermark(channel_id, body, image, image_type)
        self.fake.record("watermarks.set", 204, channel_id=channel_id, size=len(image))
        self._send_empty(204)  # YouTube answers No Content

    # -- videos.list and videos.update ----------------------------------------------------------

    def _videos_list(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("videos.list"):
            return
        parts = _parts(query)
        wanted = ",".join(query.get("id", [""])).split(",")
        with self.fake.lock:
            found = [self.fake.videos[i] for i in wanted if i in self.fake.videos]
        answer = {
            "kind": "youtube#videoListResponse",
            "items": [video.resource(parts) for video in found],
        }
        self._reply("videos.list", answer, parts=parts)

    def _update(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("videos.update"):
            return
        body = json.loads(self._body() or b"{}")
        video = self.fake.videos.get(body.get("id", ""))
        if video is None:
            self._send_error("videos.update", 404, "videoNotFound", "Video not found.")
            return
        parts = _parts(query)
        problems = {
            "snippet": lambda: snippet_problem(body.get("snippet", {}), required=True),
            "status": lambda: status_problem(body.get("status", {})),
            "recordingDetails": lambda: recording_problem(body.get("recordingDetails", {})),
        }
        for part in parts:
            if self._refuse("videos.update", problems.get(part, lambda: None)()):
                return
        with self.fake.lock:
            for part in parts:
                _replace_part(video, part, body.get(part, {}))
        privacy = video.status.get("privacyStatus")
        self._reply("videos.update", video.resource(parts), video_id=video.id, privacy=privacy)

    # -- playlists ------------------------------------------------------------------------------

    def _playlists_list(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("playlists.list"):
            return
        if query.get("mine") != ["true"]:
            self._send_error("playlists.list", 400, "missingFilter", "Only mine=true here.")
            return
        fake = self.fake
        size = min(int(query.get("maxResults", ["5"])[0]), 50, fake.playlist_page_size)
        start = int(query.get("pageToken", ["0"])[0])
        with fake.lock:
            everything = list(fake.playlists.values())
        answer: dict[str, Any] = {
            "kind": "youtube#playlistListResponse",
            "items": [playlist.resource() for playlist in everything[start : start + size]],
            "pageInfo": {"totalResults": len(everything), "resultsPerPage": size},
        }
        if start + size < len(everything):
            answer["nextPageToken"] = str(start + size)
        self._reply("playlists.list", answer, page=start // size)

    def _playlist_insert(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("playlists.insert"):
            return
        body = json.loads(self._body() or b"{}")
        snippet = body.get("snippet", {})
        title = snippet.get("title", "")
        if problem := playlist_snippet_problem(snippet):
            self._send_error("playlists.insert", 400, "invalidPlaylistSnippet", problem)
            return
        privacy = body.get("status", {}).get("privacyStatus", "public")
        with self.fake.lock:
            playlist = self.fake._new_playlist(title, privacy)
        self._reply("playlists.insert", playlist.resource(), title=title, privacy=privacy)

    def _playlist_delete(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("playlists.delete"):
            return
        playlist_id = query.get("id", [""])[0]
        with self.fake.lock:
            deleted = self.fake.playlists.pop(playlist_id, None)
        if deleted is None:
            self._send_error("playlists.delete", 404, "playlistNotFound", "Not found.")
            return
        self.fake.record("playlists.delete", 200, playlist=playlist_id)  # 204 at YouTube
        self._send_empty(204)

    def _items_list(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("playlistItems.list"):
            return
        playlist = self.fake.playlists.get(query.get("playlistId", [""])[0])
        if playlist is None:
            self._send_error("playlistItems.list", 404, "playlistNotFound", "Not found.")
            return
        only = query.get("videoId", [None])[0]
        with self.fake.lock:
            held = [v for v in playlist.video_ids if only is None or v == only]
        items = [_playlist_item(playlist.id, video_id) for video_id in held]
        answer = {"kind": "youtube#playlistItemListResponse", "items": items}
        self._reply("playlistItems.list", answer, video_id=only)

    def _item_insert(self, query: dict[str, list[str]]) -> None:
        if not self._api_call("playlistItems.insert"):
            return
        snippet = json.loads(self._body() or b"{}").get("snippet", {})
        playlist = self.fake.playlists.get(snippet.get("playlistId", ""))
        video_id = snippet.get("resourceId", {}).get("videoId", "")
        if playlist is None:
            self._send_error("playlistItems.insert", 404, "playlistNotFound", "Not found.")
            return
        if video_id not in self.fake.videos:
            self._send_error("playlistItems.insert", 404, "videoNotFound", "Video not found.")
            return
        with self.fake.lock:
            playlist.video_ids.append(video_id)  # YouTube, too, lets a video in twice
        answer = _playlist_item(playlist.id, video_id)
        self._reply("playlistItems.insert", answer, playlist=playlist.id, video_id=video_id)

    # -- the benchmark's baseline: one plain PUT of a whole file --------------------------------

    def _raw_upload(self, query: dict[str, list[str]]) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        digest = hashlib.sha256()
        remaining = length
        while remaining:
            block = self.rfile.read(min(READ_BLOCK, remaining))
            if not block:
                self._drop()
            digest.update(block)
            remaining -= len(block)
        self.fake.raw_uploads.append((length, digest.hexdigest()))
        self._send_empty(200)


def _parts(query: dict[str, list[str]]) -> list[str]:
    return [part for part in ",".join(query.get("part", [""])).split(",") if part]


def _replace_part(video: FakeVideo, part: str, sent: dict[str, Any]) -> None:
    """What videos.update does to one part: the body's properties replace the mutable ones,
    those it leaves out go back to their defaults; read-only ones stay."""
    if part == "status":
        kept = {k: v for k, v in video.status.items() if k in STATUS_READ_ONLY}
        video.status = {**kept, **STATUS_RESET, "privacyStatus": "private", **sent}
        video.status["madeForKids"] = bool(sent.get("selfDeclaredMadeForKids", False))
    elif part == "snippet":
        kept = {k: v for k, v in video.snippet.items() if k in SNIPPET_READ_ONLY}
        video.snippet = {**kept, **sent}
    elif part == "recordingDetails":
        video.recording_details = dict(sent)


def _playlist_item(playlist_id: str, video_id: str) -> dict[str, Any]:
    return {
        "kind": "youtube#playlistItem",
        "id": f"{playlist_id}.{video_id}",
        "snippet": {
            "playlistId": playlist_id,
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
        },
    }
