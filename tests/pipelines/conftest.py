"""A throwaway PostgreSQL server for the sql destination (the harness of tests/server, started here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh database on a real PostgreSQL server (initdb + pg_ctl; as `nobody` when root)."""
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not on PATH")
    pytest.importorskip("psycopg", reason="psycopg is not installed ([server] extra)")
    from tests.server.harness import Postgres, free_port

    root = Path(tempfile.mkdtemp(prefix="cdk-run-pg-"))
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
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    try:
        yield pg.new_database("pipeline")
    finally:
        pg.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
