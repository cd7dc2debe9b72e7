"""A throwaway PostgreSQL server for the sql destination (the harness of tests/server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh database on a real PostgreSQL server (initdb + pg_ctl; as `nobody` when root)."""
    from tests.server.harness import running_postgres

    with running_postgres("cdk-run-pg-") as pg:
        yield pg.new_database("pipeline")
