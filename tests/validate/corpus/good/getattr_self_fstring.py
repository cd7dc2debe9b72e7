# allowed_hosts: api.fstring.io
"""getattr(self, f'parse_{stream}') with a default."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class GetattrSelfFstringSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.fstring.io/v1/ping").ok, None

    def parse_items(self, item: dict[str, Any]) -> dict[str, Any]:
        return item

    def parser(self, stream: str) -> Any:
        return getattr(self, f'parse_{stream}', None)

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.fstring.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
