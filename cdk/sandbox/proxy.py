"""The egress proxy: the sandbox's only way out, run by the parent on a Unix socket.

The sandboxed child has a network namespace of its own (only its own loopback). The one file that
leads out is this proxy's Unix socket, bound into the sandbox. It speaks HTTP forward proxying
(``GET http://host/path``) and ``CONNECT host:port`` tunnels (HTTPS), refuses every host outside
``allowed_hosts`` with 403, and logs each exchange (method, URL with secrets masked, status, timing).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cdk.sdk.http import host_allowed
from cdk.secrets import mask

MAX_HEAD = 64 * 1024
DENIED_HEADER = "X-Cdk-Egress-Denied"


@dataclass
class Exchange:
    method: str
    url: str
    status: int | None
    elapsed_ms: int
    denied: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class EgressProxy:
    """``with EgressProxy(path, allowed_hosts, secrets) as proxy:`` ... ``proxy.log``."""

    def __init__(self, path: str | Path, allowed_hosts: Iterable[str], secrets: Iterable[str] = ()) -> None:
        self.path = str(path)
        self.allowed_hosts = list(allowed_hosts)
        self.secrets = [s for s in secrets if s]
        self.log: list[Exchange] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._closed = False

    def __enter__(self) -> EgressProxy:
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        Path(self.path).chmod(0o777)  # the child runs as an unprivileged user in its namespace
        self._server.listen(16)
        t = threading.Thread(target=self._accept, name="cdk-egress-proxy", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        if self._server is not None:
            try:
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._server.close()

    def _record(self, entry: Exchange) -> None:
        entry.url = mask(entry.url, self.secrets) if self.secrets else entry.url
        with self._lock:
            self.log.append(entry)

    def _accept(self) -> None:
        assert self._server is not None
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        start = time.monotonic()
        try:
            head = b""
            client.settimeout(30)
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
                if len(head) > MAX_HEAD:
                    client.sendall(
                        b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"
                    )
                    return
            head_part, _, rest = head.partition(b"\r\n\r\n")
            lines = head_part.decode("latin-1").split("\r\n")
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                client.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                return
            if method.upper() == "CONNECT":
                host, _, port_s = target.rpartition(":")
                self._connect(client, method, host.strip("[]"), port_s, start)
            else:
                self._forward(client, method, target, lines[1:], rest, start)
        except OSError:
            pass
        finally:
            try:  # shutdown wakes the other direction's pipe thread; close alone would not
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()

    def _deny(self, client: socket.socket, method: str, url: str, host: str, start: float) -> None:
        body = f"egress to {host} denied: not in allowed_hosts {self.allowed_hosts}\n".encode()
        client.sendall(
            b"HTTP/1.1 403 Forbidden\r\n"
            + f"{DENIED_HEADER}: {host}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n".encode()
            + b"Connection: close\r\n\r\n"
            + body
        )
        self._record(Exchange(method, url, 403, int((time.monotonic() - start) * 1000), denied=True))

    def _connect(self, client: socket.socket, method: str, host: str, port_s: str, start: float) -> None:
        url = f"{host}:{port_s}"
        if not host_allowed(host, self.allowed_hosts) or not port_s.isdigit():
            self._deny(client, method, url, host, start)
            return
        try:
            upstream = socket.create_connection((host, int(port_s)), timeout=15)
        except OSError as exc:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n")
            self._record(Exchange(method, url, 502, int((time.monotonic() - start) * 1000), error=str(exc)))
            return
        client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        self._record(Exchange(method, url, 200, int((time.monotonic() - start) * 1000)))
        upstream.settimeout(None)
        client.settimeout(None)
        t = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        t.start()
        _pipe(client, upstream)
        t.join(timeout=60)
        upstream.close()

    def _forward(
        self, client: socket.socket, method: str, target: str, headers: list[str], rest: bytes, start: float
    ) -> None:
        parts = urlsplit(target)
        host = parts.hostname or ""
        if parts.scheme != "http" or not host:
            self._deny(client, method, target, host or "(no host)", start)
            return
        if not host_allowed(host, self.allowed_hosts):
            self._deny(client, method, target, host, start)
            return
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        kept = [
            h for h in headers if h and not h.lower().startswith(("proxy-", "connection:", "keep-alive:"))
        ]
        request = (
            f"{method} {path} HTTP/1.1\r\n" + "".join(h + "\r\n" for h in kept) + "Connection: close\r\n\r\n"
        )
        try:
            upstream = socket.create_connection((host, parts.port or 80), timeout=15)
        except OSError as exc:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self._record(
                Exchange(method, target, 502, int((time.monotonic() - start) * 1000), error=str(exc))
            )
            return
        upstream.sendall(request.encode("latin-1") + rest)
        sender = threading.Thread(target=_pipe, args=(client, upstream), daemon=True)
        sender.start()
        status: int | None = None
        first = True
        try:
            upstream.settimeout(60)
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if first:
                    first = False
                    try:
                        status = int(data.split(b" ", 2)[1])
                    except (IndexError, ValueError):
                        status = None
                client.sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
        self._record(Exchange(method, target, status, int((time.monotonic() - start) * 1000)))


__all__ = ["DENIED_HEADER", "EgressProxy", "Exchange"]
