"""Fixtures of the service tests: the real server (uvicorn on 127.0.0.1, ephemeral port) over SQLite and
over a real throwaway PostgreSQL server (initdb/pg_ctl on a temp dir and a free port)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the [server] extra is not installed")

from tests.server.harness import Postgres, Service, free_port, start_service  # noqa: E402


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """A real PostgreSQL server (initdb + pg_ctl), run as `nobody` when we are root (initdb refuses root)."""
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not on PATH")
    pytest.importorskip("psycopg", reason="psycopg is not installed ([server] extra)")
    # our own folder, not pytest's basetemp: parallel pytest runs of the same user prune old basetemps
    root = Path(tempfile.mkdtemp(prefix="cdk-serve-pg-"))
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        folder = tempfile.mkdtemp(prefix="cdk-serve-db-")
        yield f"sqlite:///{folder}/serve.sqlite3"
        shutil.rmtree(folder, ignore_errors=True)
        return
    pg: Postgres = request.getfixturevalue("postgres")
    yield pg.new_database(f"t{time.time_ns()}")


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    yield from start_service(database_url)
