"""Helpers of the service tests: the real server (uvicorn on 127.0.0.1, ephemeral port) and a throwaway
PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the [server] extra is not installed")
httpx = pytest.importorskip("httpx", reason="httpx (dev extra) is not installed")

from cdk.sandbox import Limits  # noqa: E402
from cdk.server import db as store  # noqa: E402
from cdk.server import make_server  # noqa: E402
from cdk.server.app import ServiceConfig  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    url: str
    root: Path
    user: str | None

    def pg_ctl(self, *args: str) -> None:
        cmd = ["pg_ctl", "-D", str(self.root / "data"), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def new_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def running_postgres(prefix: str) -> Iterator[Postgres]:
    """A real PostgreSQL server (initdb + pg_ctl on a temp dir and a free port), run as `nobody` when we are
    root (initdb refuses root); skips with the reason where the binaries are absent."""
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not on PATH")
    pytest.importorskip("psycopg", reason="psycopg is not installed ([server] extra)")
    # our own folder, not pytest's basetemp: parallel pytest runs of the same user prune old basetemps
    root = Path(tempfile.mkdtemp(prefix=prefix))
    user = None
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            pytest.skip("running as root and runuser is missing: initdb refuses to run as root")
        user = "nobody"
        shutil.chown(root, user)
    port = free_port()
    pg = Postgres(url=f"postgresql+psycopg://cdk@127.0.0.1:{port}/postgres", root=root, user=user)
    init = ["initdb", "-D", str(root / "data"), "-A", "trust", "-U", "cdk", "--no-sync"]
    subprocess.run(
        ["runuser", "-u", user, "--", *init] if user else init, check=True, capture_output=True, timeout=120
    )
    pg.pg_ctl(
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    try:
        yield pg
    finally:
        pg.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Service:
    url: str
    database_url: str
    keys: dict[str, str]  # workspace -> API key
    server: object

    def client(self, workspace: str = "acme") -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.keys[workspace]}"}, timeout=120
        )


def start_service(database_url: str, **config: object) -> Iterator[Service]:
    sessions = store.open_database(database_url)
    keys = {}
    with sessions() as db:
        for ws in ("acme", "globex"):
            keys[ws], _ = store.create_key(db, ws)
        db.commit()
    limits = config.pop("limits", Limits(wall_seconds=60, cpu_seconds=30))
    cfg = ServiceConfig(database_url=database_url, limits=limits, **config)  # type: ignore[arg-type]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = make_server(cfg, host="127.0.0.1", port=port, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Service(url=f"http://127.0.0.1:{port}", database_url=database_url, keys=keys, server=server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
