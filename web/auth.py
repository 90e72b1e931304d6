"""Who may use the chooser: the listening address rule, sign-in, and cross-site protection.

On a loopback address the chooser is this machine's own; anywhere else it needs WEB_PASSWORD.
Every POST carries the session's token and must come from the chooser's own pages.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.requests import Request

LOOPBACK_NAMES = ("localhost",)
FIRST_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 60.0
WRONG_PASSWORD_PAUSE_SECONDS = 1.0
MAX_TRACKED_ADDRESSES = 10_000


class UnsafeAddressError(Exception):
    def __init__(self, host: str):
        super().__init__(
            f"WEB_HOST={host} lets other machines reach the chooser: set WEB_PASSWORD (at least "
            "8 characters) first, or leave WEB_HOST unset to listen on 127.0.0.1 only."
        )


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def require_safe_address(host: str, password: str | None) -> None:
    """Refuse to listen beyond this machine without a password."""
    if not password and not is_loopback(host):
        raise UnsafeAddressError(host)


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison: the time taken says nothing about the password."""
    digest = hashlib.sha256
    return hmac.compare_digest(digest(given.encode()).digest(), digest(expected.encode()).digest())


@dataclass
class _Failures:
    count: int = 0
    next_allowed: float = 0.0


@dataclass
class SignInThrottle:
    """After each wrong password from an address, that address waits twice as long (2 s, 4 s,
    8 s ... 60 s) before its next attempt is even checked."""

    clock: Callable[[], float] = time.monotonic
    _by_address: dict[str, _Failures] = field(default_factory=dict)

    def _now(self) -> float:
        return self.clock()

    def wait_seconds(self, address: str) -> float:
        failures = self._by_address.get(address)
        return max(0.0, failures.next_allowed - self._now()) if failures else 0.0

    def failed(self, address: str, answered_in: float = 0.0) -> None:
        """A wrong password from `address`, answered `answered_in` seconds from now: the next
        attempt is checked no sooner than the delay after that answer."""
        if len(self._by_address) >= MAX_TRACKED_ADDRESSES:
            now = self._now()
            self._by_address = {
                a: f for a, f in self._by_address.items() if f.next_allowed > now - 3600
            }
        failures = self._by_address.setdefault(address, _Failures())
        failures.count += 1
        delay = min(FIRST_DELAY_SECONDS * 2 ** (failures.count - 1), MAX_DELAY_SECONDS)
        failures.next_allowed = self._now() + answered_in + delay

    def succeeded(self, address: str) -> None:
        self._by_address.pop(address, None)


def csrf_token(request: Request) -> str:
    """The session's token for forms, made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def is_same_origin_post(request: Request, form_token: str) -> bool:
    """A POST from one of the chooser's own pages: the browser says so (Sec-Fetch-Site, Origin)
    and the form carries this session's token."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        return False
    expected = request.session.get("csrf")
    return bool(expected) and hmac.compare_digest(str(form_token), expected)
