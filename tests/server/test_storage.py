"""Storage: migrations applied at start keep existing data; bad database URLs are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from cdk.errors import ServiceError
from cdk.server import db as store


def test_an_old_database_is_migrated_at_start_and_keeps_its_sources(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(store.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO workspaces VALUES ('w1', 'acme', '2024-01-15 10:00:00')"))
        conn.execute(
            text(
                "INSERT INTO custom_sources VALUES ('s1', 'w1', 'Notion API', 'notion', NULL, 'code', 'MySource', "
                "'[\"pages\"]', NULL, '[]', '2024-01-15 10:00:00', NULL)"
            )
        )
    engine.dispose()
    sessions = store.open_database(url)
    with sessions() as db:
        src = db.get(store.CustomSource, "s1")
        assert (
            src is not None and src.name == "Notion API" and src.kind == "python" and src.streams == ["pages"]
        )
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"


def test_an_unreachable_database_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(ServiceError) as info:
        store.open_database("postgresql+psycopg://cdk:hunter22@127.0.0.1:1/cdk")
    assert "cannot open database" in info.value.message and "hunter22" not in info.value.message
    with pytest.raises(ServiceError) as info:
        store.open_database("nosuchdb://x")
    assert "cannot use database URL" in info.value.message
