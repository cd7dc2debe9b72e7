# allowed_hosts: api.bom.io
"""A file saved with a UTF-8 BOM."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class BomSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.bom.io/v1/ping").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        items = self.session.get("https://api.bom.io/v1/items").json()["items"]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
