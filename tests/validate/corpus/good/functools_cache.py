# allowed_hosts: api.cache.io
"""functools.lru_cache on a pure helper."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
import functools


@functools.lru_cache(maxsize=128)
def slug(value: str) -> str:
    return value.strip().lower().replace(' ', '-')


class FunctoolsCacheSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.cache.io/v1/ping").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.cache.io/v1/items", params=pagination or {})
        items = [{**item, 'slug': slug(item['name'])} for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
