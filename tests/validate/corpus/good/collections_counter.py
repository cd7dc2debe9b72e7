# allowed_hosts: api.counts.io
"""Counter and defaultdict."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from collections import Counter, defaultdict


class CollectionsCounterSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.counts.io/v1/ping").ok, None

    def tally(self, items: list[dict[str, Any]]) -> dict[str, int]:
        groups: defaultdict[str, list[Any]] = defaultdict(list)
        for i in items:
            groups[i['kind']].append(i)
        return dict(Counter({k: len(v) for k, v in groups.items()}))

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.counts.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
