# allowed_hosts: api.airtable.com
"""Airtable records; streams are a classmethod over a class-level table list."""
from __future__ import annotations

from typing import Any, ClassVar

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class AirtableConfig(SourceConfig):
    base_id: str


class AirtableSource(AbstractSource):
    TABLES: ClassVar[tuple[str, ...]] = ("projects", "tasks")

    @classmethod
    def streams(cls) -> list[str]:
        return list(cls.TABLES)

    @classmethod
    def get_config_class(cls) -> type[SourceConfig]:
        return AirtableConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get(f"https://api.airtable.com/v0/meta/bases/{self.config.base_id}/tables").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        params = {"pageSize": 100, **({"offset": pagination["offset"]} if pagination else {})}
        body = self.session.get(f"https://api.airtable.com/v0/{self.config.base_id}/{self.config.stream}", params=params).json()
        records = [SourceRecord(id=r["id"], data=r["fields"]) for r in body["records"]]
        return SourceIteration(records=records, next_pagination={"offset": body["offset"]} if "offset" in body else {})
