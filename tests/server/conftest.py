"""Fixtures of the service tests: the real server (uvicorn on 127.0.0.1, ephemeral port) over SQLite and
over a real throwaway PostgreSQL server (initdb/pg_ctl on a temp dir and a free port)."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi", reason="the [server] extra is not installed")

from tests.server.harness import Postgres, Service, running_postgres, start_service  # noqa: E402


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL server for the whole session."""
    with running_postgres("cdk-serve-pg-") as pg:
        yield pg


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
