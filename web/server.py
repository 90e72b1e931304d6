"""Serving the chooser with uvicorn inside the CLI's own event loop and signal handling."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Callable, Iterator

import uvicorn
from starlette.applications import Starlette
from temporalio.client import Client

from config import Settings
from temporal.client import OperatorError, connect_config
from web.app import ChooserOptions, create_app
from web.redact import Redactor
from web.temporal_source import TemporalVideoSource

log = logging.getLogger(__name__)


class WebAddressError(OperatorError):
    """The chooser cannot listen where WEB_HOST and WEB_PORT say."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the CLI's handlers set `stop`, which ends the server


def listening_socket(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise WebAddressError(
            f"WEB_HOST={host} is not an address of this machine ({error.strerror})."
        ) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise WebAddressError(
                f"WEB_PORT {port} is taken on {host}: stop the program using it, or set WEB_PORT."
            ) from None
        raise WebAddressError(f"Cannot listen on {host}:{port}: {error.strerror}.") from None
    return sock


def bound_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


async def serve(
    app: Starlette, sock: socket.socket, stop: asyncio.Event, announce: Callable[[str], object]
) -> None:
    """Serve `app` on `sock` until `stop` is set; `announce` gets the address once it answers."""
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if server.started:
        announce(f"Web chooser at {bound_url(sock)}")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stopping.cancel()
        await serving
        sock.close()


def chooser_options(settings: Settings) -> ChooserOptions:
    folders = (
        settings.input_dir,
        settings.workspace_dir,
        settings.completed_dir,
        settings.publish_dir,
    )
    secrets = [settings.web_password or "", *settings.notify_urls]
    secrets.append(connect_config().get("api_key") or "")
    return ChooserOptions(
        host=settings.web_host,
        password=settings.web_password,
        redactor=Redactor([folder.resolve() for folder in folders], secrets),
        timezone=settings.cafe_timezone,
    )


async def serve_chooser(
    client: Client, settings: Settings, stop: asyncio.Event, announce: Callable[[str], object]
) -> None:
    """The chooser over Temporal on WEB_HOST:WEB_PORT until `stop` is set."""
    sock = listening_socket(settings.web_host, settings.web_port)
    app = create_app(TemporalVideoSource(client, settings), chooser_options(settings))
    await serve(app, sock, stop, announce)
