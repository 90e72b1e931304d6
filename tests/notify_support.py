"""A local HTTP endpoint that takes Apprise's json:// notifications, for the notification tests."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Endpoint:
    url: str  # json://127.0.0.1:PORT/<a token in the path>
    received: list[dict] = field(default_factory=list)  # the messages answered 200, in order
    requests: int = 0  # every request that arrived, answered or not
    answered: int = 0
    hung: threading.Event = field(default_factory=threading.Event)  # set: hung requests end

    def stop_hanging(self) -> None:
        self.hung.set()

    def titles(self) -> list[str]:
        return [message["title"] for message in self.received]

    def of_type(self, kind: str) -> list[dict]:
        """The messages of an Apprise notify type: info, success, warning, failure."""
        return [message for message in self.received if message["type"] == kind]


@contextmanager
def endpoint(fail_first: int = 0, hang: bool = False) -> Iterator[Endpoint]:
    """A local endpoint recording each JSON notification. The first `fail_first` requests get a
    500; with `hang`, no request is answered until the endpoint closes."""
    failures = [fail_first]
    lock = threading.Lock()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    hook = Endpoint(f"json://127.0.0.1:{server.server_port}/hook-secret-token")

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                hook.requests += 1
            if hang:
                hook.hung.wait()
            with lock:
                failing = failures[0] > 0
                failures[0] -= failing
                if not failing and not hang:
                    hook.received.append(body)
                    hook.answered += 1
            with suppress(OSError):  # a hung request's client is long gone
                self.send_response(500 if failing else 200)
                self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server.RequestHandlerClass = Hook
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield hook
    finally:
        hook.stop_hanging()
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once it is closed
