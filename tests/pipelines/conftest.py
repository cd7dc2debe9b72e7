"""A throwaway PostgreSQL server for the sql destination (the harness of tests/server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A real PostgreSQL server (initdb + pg_ctl; as `nobody` when root), shared by the session."""
    from tests.server.harness import running_postgres

    with running_postgres("cdk-run-pg-") as pg:
        yield pg


@pytest.fixture(scope="session")
def postgres_url(postgres_server: Any) -> str:
    """The URL of a fresh database on that server."""
    return str(postgres_server.new_database("pipeline"))
