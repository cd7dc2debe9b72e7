"""A Postgres source: cursor.execute with bound parameters, keyset pagination."""
from __future__ import annotations

from typing import Any

import psycopg
from pydantic import SecretStr

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class PgConfig(SourceConfig):
    host: str
    port: int = 5432
    database: str
    user: str
    password: SecretStr
    batch_size: int = 1000


class PostgresSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["orders", "customers"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return PgConfig

    def _connect(self) -> psycopg.Connection:
        c = self.config
        return psycopg.connect(host=c.host, port=c.port, dbname=c.database, user=c.user,
                               password=c.password.get_secret_value())

    def check_connection(self) -> tuple[bool, str | None]:
        try:
            with self._connect() as conn, conn.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True, None
        except psycopg.Error as exc:
            return False, str(exc)

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        last_id = (pagination or {}).get("last_id", 0)
        table = {"orders": "orders", "customers": "customers"}[self.config.stream]
        with self._connect() as conn, conn.cursor() as cursor:
            cursor.execute(f"SELECT id, payload FROM {table} WHERE id > %s ORDER BY id LIMIT %s",
                           (last_id, self.config.batch_size))
            rows = cursor.fetchall()
        records = [SourceRecord(id=str(row[0]), data=row[1]) for row in rows]
        nxt = {"last_id": rows[-1][0]} if len(rows) == self.config.batch_size else {}
        return SourceIteration(records=records, next_pagination=nxt)
