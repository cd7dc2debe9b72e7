# allowed_hosts: api.notion.com
"""Notion pages with cursor pagination and incremental reads by last_edited_time."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIncrementalState, SourceIteration, SourceRecord

API = "https://api.notion.com/v1"


class NotionConfig(SourceConfig):
    notion_version: str = "2022-06-28"


class NotionSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["pages"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return NotionConfig

    def check_connection(self) -> tuple[bool, str | None]:
        r = self.session.get(f"{API}/users/me", headers={"Notion-Version": self.config.notion_version})
        return r.status_code == 200, None if r.status_code == 200 else r.text[:200]

    def _search(self, body: dict[str, Any]) -> SourceIteration:
        data = self.session.post(f"{API}/search", json=body,
                                 headers={"Notion-Version": self.config.notion_version}).json()
        records = [
            SourceRecord(id=p["id"], data=p, timestamp=datetime.fromisoformat(p["last_edited_time"].replace("Z", "+00:00")))
            for p in data["results"]
        ]
        nxt = {"start_cursor": data["next_cursor"]} if data.get("has_more") else {}
        return SourceIteration(records=records, next_pagination=nxt)

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        return self._search({"page_size": 100, **(pagination or {})})

    def get_records_after(self, source_state: SourceIncrementalState,
                          pagination: dict[str, Any] | None = None) -> SourceIteration:
        since = source_state.last_run.astimezone(timezone.utc).isoformat()
        body = {"filter": {"timestamp": "last_edited_time", "last_edited_time": {"after": since}}}
        return self._search({**body, **(pagination or {})})
