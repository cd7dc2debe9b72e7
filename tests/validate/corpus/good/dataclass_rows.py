# allowed_hosts: api.rows.io
"""Dataclasses for rows."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from dataclasses import asdict, dataclass


@dataclass
class Row:
    id: str
    name: str


class DataclassRowsSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.rows.io/v1/ping").ok, None

    def row(self, item: dict[str, Any]) -> dict[str, Any]:
        return asdict(Row(id=str(item['id']), name=item['name']))

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.rows.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
