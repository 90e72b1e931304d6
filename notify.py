"""Telling people about the videos through Apprise (Telegram, Discord, e-mail, ntfy, ...).

Three parts, each plain code that knows nothing of Temporal:
- the messages: videos waiting for a choice (several in one message, with the chooser's
  address), a video that needs attention or failed (with the reason), a video published (with
  its link);
- `WaitingGroup`, the grouping rule: at most one waiting-message a minute. It reads no clock (the
  caller passes the time) and holds plain data, so a workflow can keep it;
- `send`, which tries each service a few times, logs what could not be sent and never raises:
  a notification never fails or holds up a video.

NOTIFY_URLS holds the services' Apprise URLs; they carry tokens and are never logged.
"""

from __future__ import annotations

import logging
import shlex
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from config import Settings
from errors import message_with_remedy, remedy_named
from remedies import CAFE, temporal_command_for
from temporal.messages import InboxFile
from web.redact import Redactor
from youtube.common import quiet_loggers

log = logging.getLogger(__name__)

WAITING_INTERVAL_SECONDS = 60.0
MAX_LISTED_VIDEOS = 20
SEND_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 1.0  # then 2 s: a passing hiccup, not an outage, is worth waiting for
# Their DEBUG and INFO records quote the services' addresses, tokens included ("Telegram POST
# URL: https://api.telegram.org/bot<token>/...", urllib3's request lines).
_URL_LOGGERS = ("apprise", "urllib3")

# Reasons go to third-party services: secrets hidden, every path cut to its file name.
_REASONS = Redactor(allowed_roots=(), secrets=())


def chooser_link(settings: Settings) -> str:
    """The web chooser's address for the messages: WEB_PUBLIC_URL, else the address it listens
    on (a wildcard address named by this machine's name, a loopback one as localhost)."""
    if settings.web_public_url:
        return settings.web_public_url
    host = settings.web_host
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    elif host in ("127.0.0.1", "::1"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.web_port}/"


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    kind: str  # Apprise's notify type: "info", "success", "warning" or "failure"


@dataclass(frozen=True)
class WaitingNotice:
    workflow_id: str
    video_file: str
    title: str


def waiting_message(videos: Sequence[WaitingNotice], web_link: str | None) -> Message:
    """One message for every video that started waiting for a thumbnail choice."""
    choose = f"Choose at {web_link}" if web_link else f"Choose with `{CAFE} pending`."
    if len(videos) == 1:
        video = videos[0]
        return Message(
            f"Choose a thumbnail: {video.title}",
            f"{video.title} ({video.video_file}) is waiting for a thumbnail choice.\n{choose}",
            "info",
        )
    lines = [f"- {video.title} ({video.video_file})" for video in videos[:MAX_LISTED_VIDEOS]]
    if len(videos) > MAX_LISTED_VIDEOS:
        lines.append(f"... and {len(videos) - MAX_LISTED_VIDEOS} more")
    return Message(
        f"{len(videos)} videos are waiting for a thumbnail choice",
        "\n".join([*lines, choose]),
        "info",
    )


def attention_message(
    video_file: str, title: str, problem: str, web_link: str | None, auth_on: str | None = None
) -> Message:
    """A video stopped until a person fixes something outside it (a token, the disk...);
    `auth_on`: the machine whose YouTube token must be authorized again."""
    then = ""
    if auth_on:
        then = (
            f"\nAuthorize YouTube again on {auth_on} (`{CAFE} auth` there): the "
            "videos waiting for it go on"
        )
    elif web_link:
        then = f"\nOnce it is fixed, retry it at {web_link}"
    return Message(
        f"Needs attention: {title}", f"{video_file}: {_REASONS.text(problem)}{then}", "warning"
    )


def refused_message(files: Sequence[InboxFile], web_link: str | None) -> Message:
    """Files of INPUT_DIR that will not be published until a person fixes them."""
    lines = [
        f"- {file.file} (on {file.host}): {_REASONS.text(file.problem)}"
        for file in files[:MAX_LISTED_VIDEOS]
    ]
    if len(files) > MAX_LISTED_VIDEOS:
        lines.append(f"... and {len(files) - MAX_LISTED_VIDEOS} more")
    then = f"They are listed at {web_link}" if web_link else f"`{CAFE} pending` lists them."
    title = (
        f"Not started: {files[0].file}"
        if len(files) == 1
        else f"{len(files)} files were not started"
    )
    return Message(title, "\n".join([*lines, f"Fix each file as said; {then}"]), "warning")


def failed_message(video_file: str, title: str, reason: str, redo: str | None = None) -> Message:
    """A video that failed; `redo`: the errors.Remedy that fixes it."""
    text = message_with_remedy(_REASONS.text(reason), remedy_named(redo), temporal_command_for)
    return Message(f"Failed: {title}", f"{video_file}: {text}", "failure")


def published_message(
    video_file: str,
    title: str,
    link: str | None,
    playlist_problem: str | None = None,
    web_link: str | None = None,
    changeable_until: str | None = None,
    zone: tzinfo = UTC,
) -> Message:
    """A video published; `playlist_problem`: why it is not in its playlist (YouTube refused
    it), said once, here; `changeable_until` (ISO): how long its thumbnail can be changed, said
    with the web chooser's address and the command, in the café's time `zone`."""
    where = f": {link}" if link else ""
    body = f"{video_file} is published{where}"
    if changeable_until:
        closes = datetime.fromisoformat(changeable_until).astimezone(zone)
        until = f"{closes:%d %b %H:%M} ({getattr(zone, 'key', None) or closes.tzname()})"
        at = f" at {web_link} or" if web_link else ""
        select = f"{CAFE} select {shlex.quote(video_file)}"
        body += f"\nChange its thumbnail until {until}{at} with `{select}`"
    if playlist_problem:
        retry = f"{CAFE} retry {shlex.quote(video_file)}"  # `<` in names
        body += f"\nBut it is {_REASONS.text(playlist_problem)}. Once fixed, `{retry}` adds it."
        return Message(f"Published, not in its playlist: {title}", body, "warning")
    return Message(f"Published: {title}", body, "success")


@dataclass
class WaitingGroup:
    """Videos that started waiting, gathered into one message at most every interval.

    `add` a video when it starts waiting; `seconds_until_due(now)` says how long to wait before
    `take(now)` returns the batch to send. Times are POSIX seconds from the caller's clock
    (`workflow.now().timestamp()` in a workflow).
    """

    interval_seconds: float = WAITING_INTERVAL_SECONDS
    pending: list[WaitingNotice] = field(default_factory=list)
    last_sent_at: float | None = None

    def add(self, notice: WaitingNotice) -> None:
        if all(video.workflow_id != notice.workflow_id for video in self.pending):
            self.pending.append(notice)

    def discard(self, workflow_id: str) -> None:
        """A video chosen before its message went out needs no message."""
        self.pending = [video for video in self.pending if video.workflow_id != workflow_id]

    def seconds_until_due(self, now: float) -> float | None:
        """None while nothing is pending; 0 when `take` would return the batch now."""
        if not self.pending:
            return None
        if self.last_sent_at is None:
            return 0.0
        return max(0.0, self.last_sent_at + self.interval_seconds - now)

    def take(self, now: float) -> list[WaitingNotice]:
        """The videos to announce now (and the clock restarts), or [] when not yet due."""
        if self.seconds_until_due(now) != 0.0:
            return []
        batch, self.pending = self.pending, []
        self.last_sent_at = now
        return batch


def send(
    message: Message,
    urls: Sequence[str],
    attempts: int = SEND_ATTEMPTS,
    pause: Callable[[float], None] = time.sleep,
) -> bool:
    """Send `message` to every service in `urls`, trying each failed one again (`attempts` in
    all, pausing 1 s then 2 s...). Returns whether every service took it; never raises."""
    from apprise import Apprise, NotifyFormat

    delivered = True
    with quiet_loggers(*_URL_LOGGERS):
        for number, url in enumerate(urls, 1):
            service = Apprise.instantiate(url, suppress_exceptions=True)
            if service is None:
                log.warning(
                    "NOTIFY_URLS #%d is not an Apprise URL; %r not sent", number, message.title
                )
                delivered = False
                continue
            name = f"{service.service_name} (NOTIFY_URLS #{number})"
            for attempt in range(1, attempts + 1):
                if _notify_once(service, message, NotifyFormat.TEXT, name):
                    break
                if attempt < attempts:
                    pause(RETRY_PAUSE_SECONDS * 2 ** (attempt - 1))
            else:
                log.warning(
                    "%s: could not send %r after %d attempts", name, message.title, attempts
                )
                delivered = False
    return delivered


def _notify_once(service, message: Message, body_format, name: str) -> bool:
    try:
        return bool(
            service.notify(
                body=message.body,
                title=message.title,
                notify_type=message.kind,
                body_format=body_format,
            )
        )
    except Exception as error:  # a service's bug must not fail the video
        log.warning("%s: sending failed (%s)", name, type(error).__name__)
        return False
