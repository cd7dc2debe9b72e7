# allowed_hosts: api.events.io
"""Parses ISO timestamps with datetime."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from datetime import datetime, timedelta, timezone


class DatetimeParsingSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.events.io/v1/ping").ok, None

    def since(self, days: int) -> str:
        return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.events.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
