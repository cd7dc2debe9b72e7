# allowed_hosts: api.intercom.io
"""Intercom conversations fetched by id in batches (itertools, functools)."""
from __future__ import annotations

import functools
import itertools
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


def batched(items: list[str], size: int) -> list[list[str]]:
    it = iter(items)
    return [list(chunk) for chunk in iter(lambda: list(itertools.islice(it, size)), [])]


class IntercomSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["conversations"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    @functools.cached_property
    def _ids(self) -> list[str]:
        return [c["id"] for c in self.session.get("https://api.intercom.io/conversations").json()["conversations"]]

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.intercom.io/me").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        index = (pagination or {}).get("batch", 0)
        batches = batched(self._ids, 20)
        if index >= len(batches):
            return SourceIteration(records=[], next_pagination={})
        records = [SourceRecord(id=i, data=self.session.get(f"https://api.intercom.io/conversations/{i}").json())
                   for i in batches[index]]
        return SourceIteration(records=records, next_pagination={"batch": index + 1} if index + 1 < len(batches) else {})
