"""``cdk serve``: the custom-sources HTTP API (FastAPI under uvicorn), its storage and API keys.

Requires the ``[server]`` extra. :func:`serve` is what the CLI calls; :func:`cdk.server.app.create_app`
builds the application for any ASGI server.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from cdk.server.app import ServiceConfig, create_app

log = logging.getLogger("cdk.server")


def make_server(
    config: ServiceConfig, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info"
) -> Any:
    """A uvicorn server for the app (migrations applied now); ``server.run(sockets=[...])`` serves."""
    import uvicorn

    app = create_app(config)
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=True))


def serve(
    config: ServiceConfig, *, host: str = "127.0.0.1", port: int = 8000, sock: socket.socket | None = None
) -> None:
    """Run the service until interrupted."""
    server = make_server(config, host=host, port=port)
    server.run(sockets=[sock] if sock is not None else None)


__all__ = ["ServiceConfig", "create_app", "make_server", "serve"]
