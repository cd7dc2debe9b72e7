# allowed_hosts: api.enum.io
"""An Enum of states."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from enum import Enum


class State(str, Enum):
    OPEN = 'open'
    CLOSED = 'closed'


class EnumStatesSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.enum.io/v1/ping").ok, None

    def closed(self, item: dict[str, Any]) -> bool:
        return State(item['state']) is State.CLOSED

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.enum.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
