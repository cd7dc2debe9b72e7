"""``cdk serve`` and ``cdk serve keys`` as a user runs them: real processes, real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.harness import free_port
from tests.server.sources import FULL

API = "/api/v1/custom-sources"
CDK = [sys.executable, "-m", "cdk"]


def cdk(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CDK, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CDK_HOME": str(home), **(env or {})},
    )


class Server:
    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = home / f"serve-{self.port}.log"
        self.proc = subprocess.Popen(
            [*CDK, "serve", "--port", str(self.port), *args],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "CDK_HOME": str(home), **(env or {})},
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.log.read_text()) from None
                time.sleep(0.1)

    def stop(self) -> str:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        return self.log.read_text()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_keys_create_list_revoke_against_the_running_server(home: Path) -> None:
    created = cdk(home, "serve", "keys", "create", "acme", "--label", "ci-bot")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("cdk_") and "not shown again" in created.stderr
    key_id = key.split("_")[1]
    listed = cdk(home, "serve", "keys", "list")
    assert key_id in listed.stdout and "acme" in listed.stdout and "live" in listed.stdout
    assert key not in listed.stdout and key.split("_", 2)[2] not in listed.stdout

    server = Server(home)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        r = httpx.post(server.url + API, json={"name": "People", "code": FULL}, headers=headers)
        assert r.status_code == 201, r.text
        assert httpx.get(server.url + API, headers=headers).json()[0]["name"] == "People"
        revoked = cdk(home, "serve", "keys", "revoke", key_id)
        assert revoked.returncode == 0 and key_id in revoked.stdout
        assert httpx.get(server.url + API, headers=headers).status_code == 401
        assert cdk(home, "serve", "keys", "revoke", key_id).returncode != 0  # already revoked
    finally:
        log = server.stop()
    assert key not in log and "AbstractSource" not in log  # neither keys nor code reach the log
    assert (home / "serve.sqlite3").exists()  # SQLite under $CDK_HOME by default


def test_without_bubblewrap_preview_is_refused_unless_unsafe_sandbox(home: Path) -> None:
    key = cdk(home, "serve", "keys", "create", "acme").stdout.strip().splitlines()[-1]
    no_bwrap = {"PATH": str(Path(sys.executable).parent)}  # a PATH where bwrap cannot be found
    headers = {"X-API-Key": key}
    body = {
        "code": FULL,
        "stream": "users",
        "authentication": {"type": "api_key", "params": {"token": "tok-9876"}},
    }

    server = Server(home, env=no_bwrap)
    try:
        r = httpx.post(server.url + f"{API}/preview", json=body, headers=headers, timeout=60)
        assert r.status_code == 503
        assert r.json()["error"] == "sandbox_unavailable" and "bubblewrap" in r.json()["message"]
    finally:
        server.stop()

    server = Server(home, "--unsafe-sandbox", env=no_bwrap)
    try:
        r = httpx.post(server.url + f"{API}/preview", json=body, headers=headers, timeout=60)
        assert r.status_code == 200 and r.json()["success"] is True and r.json()["total_count"] == 2
    finally:
        log = server.stop()
    assert "WITHOUT operating-system isolation" in log
    assert "tok-9876" not in log
