"""One way the tests' imitation APIs listen: 127.0.0.1 on a free port, a daemon thread, quiet about
clients that hang up (the crash tests SIGKILL readers mid-request)."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client killed mid-request is expected: no traceback on stderr for it."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


class LocalAPI:
    """Base of an imitation API: ``with API() as api:`` serves ``handler`` (which sees the instance as
    ``self.fake``) at ``api.url`` until the block ends."""

    handler: ClassVar[type[BaseHTTPRequestHandler]]
    _server: QuietServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Any:
        bound = type("Handler", (self.handler,), {"fake": self})
        self._server = QuietServer(("127.0.0.1", 0), bound)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
