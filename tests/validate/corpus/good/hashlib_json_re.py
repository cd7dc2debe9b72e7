# allowed_hosts: feeds.example.org
"""A feed source: json parsing, regular expressions and stable ids from hashlib."""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

ITEM_ID = re.compile(r"^item-(\d+)$")


def stable_id(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class FeedSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.head("https://feeds.example.org/feed.json").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        text = self.session.get("https://feeds.example.org/feed.json").text
        items = json.loads(text)["items"]
        records = []
        for item in items:
            m = ITEM_ID.match(item.get("guid", ""))
            rid = m.group(1) if m else stable_id(item)
            records.append(SourceRecord(id=rid, data=item))
        return SourceIteration(records=records, next_pagination={})
