"""The web chooser: the videos waiting for a thumbnail choice and the recent ones, from a phone.

`web.source` is what the pages need, `web.temporal_source` answers it from Temporal,
`web.app` holds the pages and `web.server` serves them.
"""

from __future__ import annotations

from config import Settings


def public_url(settings: Settings) -> str:
    """The chooser's address for people and notifications: WEB_PUBLIC_URL, else the address
    it listens on (a wildcard address named by this machine's name)."""
    if settings.web_public_url:
        return settings.web_public_url
    host = settings.web_host
    if host in ("0.0.0.0", "::"):
        import socket

        host = socket.gethostname()
    elif host in ("127.0.0.1", "::1"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.web_port}/"
