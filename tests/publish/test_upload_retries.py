"""Uploads through twine against a real (scripted) registry on 127.0.0.1: transient 5xx are retried,
and a landed upload that twine reports as a conflict is recognised by its sha256."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cdk.errors import OutsideError
from cdk.publish.registry import Credentials, HttpRegistry


class ScriptedRegistry:
    """Stores uploads in memory; ``script(n)`` decides the answer to the n-th POST:
    'ok', 'store+502' (keep the file, answer 502), a status code, or 'dup' (409 if already stored)."""

    def __init__(self, script) -> None:  # type: ignore[no-untyped-def]
        self.script = script
        self.files: dict[str, bytes] = {}
        self.posts = 0
        self.json_index = False
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                if (
                    self.path.rstrip("/") == "/simple/acme-connector"
                    and registry.files
                    and registry.json_index
                    and "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", "")
                ):
                    page = {
                        "meta": {"api-version": "1.0"},
                        "name": "acme-connector",
                        "files": [
                            {
                                "filename": n,
                                "url": f"/f/{n}",
                                "hashes": {"sha256": hashlib.sha256(b).hexdigest()},
                            }
                            for n, b in registry.files.items()
                        ],
                    }
                    self._send(200, json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json")
                elif self.path.rstrip("/") == "/simple":  # the root index: cdk reads it before any project
                    listed = '<a href="/simple/acme-connector/">acme-connector</a>' if registry.files else ""
                    self._send(200, f"<html><body>{listed}</body></html>".encode())
                elif self.path.startswith("/f/") and self.path[3:] in registry.files:
                    self._send(200, registry.files[self.path[3:]], "application/octet-stream")
                elif self.path.rstrip("/") == "/simple/acme-connector" and registry.files:
                    links = "".join(
                        f'<a href="/f/{n}#sha256={hashlib.sha256(b).hexdigest()}">{n}</a>'
                        for n, b in registry.files.items()
                    )
                    self._send(200, f"<html><body>{links}</body></html>".encode())
                else:
                    self._send(404, b"not found")

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                registry.posts += 1
                answer = registry.script(registry.posts)
                msg = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
                )
                part = next(
                    p
                    for p in msg.iter_parts()
                    if p.get_param("name", header="content-disposition") == "content"
                )
                name, data = part.get_filename(), part.get_payload(decode=True)
                if answer == "dup":
                    answer = 409 if name in registry.files else "ok"
                if answer in ("ok", "store+502"):
                    registry.files[name] = data
                self._send(200 if answer == "ok" else 502 if answer == "store+502" else int(answer), b"")

            def _send(self, code: int, body: bytes, ctype: str = "text/html") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None  # a client that went away is fine here
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator:
    servers: list[ScriptedRegistry] = []

    def start(script) -> ScriptedRegistry:  # type: ignore[no-untyped-def]
        servers.append(ScriptedRegistry(script))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def registry_for(server: ScriptedRegistry, sleeps: list[float]) -> HttpRegistry:
    return HttpRegistry(server.url, credentials=Credentials("u", "pw-123456"), sleep=sleeps.append)


def test_a_landed_upload_reported_as_a_conflict_is_a_success(
    scripted, built_dists: tuple[Path, Path]
) -> None:  # type: ignore[no-untyped-def]
    # the first POST lands but answers 502; twine retries by itself and gets 409 "already exists"
    server = scripted(lambda n: "store+502" if n == 1 else "dup")
    wheel = built_dists[1]
    sleeps: list[float] = []
    report = registry_for(server, sleeps).upload([wheel])
    assert report.uploaded == [wheel.name] and report.already_identical == []
    assert server.files[wheel.name] == wheel.read_bytes()
    assert sleeps == []


def test_transient_failures_are_retried_with_backoff_until_it_lands(
    scripted, built_dists: tuple[Path, Path]
) -> None:  # type: ignore[no-untyped-def]
    # twine itself tries 5 times per run; the first whole run fails with 503s
    server = scripted(lambda n: 503 if n <= 5 else "ok")
    wheel = built_dists[1]
    sleeps: list[float] = []
    report = registry_for(server, sleeps).upload([wheel])
    assert report.uploaded == [wheel.name] and report.attempts == 2
    assert sleeps == [1.0]


def test_a_registry_that_stays_down_is_exit_3_after_bounded_retries(
    scripted, built_dists: tuple[Path, Path]
) -> None:  # type: ignore[no-untyped-def]
    server = scripted(lambda n: 503)
    wheel = built_dists[1]
    sleeps: list[float] = []
    with pytest.raises(OutsideError) as info:
        registry_for(server, sleeps).upload([wheel])
    assert "kept failing after 3 attempts" in info.value.message and info.value.exit_code == 3
    assert sleeps == [1.0, 2.0] and server.posts == 15  # 3 attempts x twine's own 5 tries
    assert "pw-123456" not in info.value.message


def test_a_partial_upload_is_reported_and_the_next_one_resumes(
    scripted, built_dists: tuple[Path, Path]
) -> None:  # type: ignore[no-untyped-def]
    sdist, wheel = built_dists
    server = scripted(lambda n: "ok" if n == 1 else 400)  # the first file lands, the second is rejected
    with pytest.raises(OutsideError) as info:
        registry_for(server, []).upload([sdist, wheel])
    [landed] = server.files  # twine sends the wheel first
    [missing] = {sdist.name, wheel.name} - {landed}
    assert f"partial upload: {landed} landed; run the same publish again" in (info.value.hint or "")
    server.script = lambda n: "ok"
    report = registry_for(server, []).upload([sdist, wheel])
    assert report.already_identical == [landed] and report.uploaded == [missing]


def test_pep691_json_index_is_used_when_offered(scripted, built_dists: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    server = scripted(lambda n: "ok")
    server.json_index = True
    sdist, wheel = built_dists
    reg = registry_for(server, [])
    reg.upload([wheel])
    [listed] = reg.files("acme-connector")
    assert (listed.filename, listed.version, listed.url) == (
        wheel.name,
        "1.0.0",
        f"{server.url}f/{wheel.name}",
    )
    assert reg.fetch(listed) == wheel.read_bytes()
    server.files[wheel.name] = b"tampered"  # served bytes no longer match the sha256 the index gave
    with pytest.raises(OutsideError, match="does not match its index sha256"):
        reg.fetch(listed)
