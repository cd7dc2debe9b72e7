# allowed_hosts: api.tz.io
"""Local times in a ZoneInfo zone."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from datetime import datetime
from zoneinfo import ZoneInfo


class ZoneinfoLocalTimesSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.tz.io/v1/ping").ok, None

    def local(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, ZoneInfo('Europe/Paris')).isoformat()

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.tz.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
