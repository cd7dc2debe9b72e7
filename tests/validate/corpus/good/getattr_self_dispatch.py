# allowed_hosts: api.dispatch.io
"""getattr(self, name) dispatches on the connector's own methods."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class GetattrSelfDispatchSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.dispatch.io/v1/ping").ok, None

    def shape_items(self, item: dict[str, Any]) -> dict[str, Any]:
        return item

    def shape(self, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        return getattr(self, 'shape_' + kind)(item)

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.dispatch.io/v1/items", params=pagination or {})
        items = [self.shape('items', item) for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
