# allowed_hosts: api.lever.co
"""Lever: a shared base class in the connector defines the common methods."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


@dataclass(frozen=True)
class Endpoint:
    path: str
    id_field: str = "id"


class LeverBase(AbstractSource):
    ENDPOINTS = {"opportunities": Endpoint("opportunities"), "postings": Endpoint("postings")}

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.lever.co/v1/users").ok, None


class LeverSource(LeverBase):
    @staticmethod
    def streams() -> list[str]:
        return sorted(LeverBase.ENDPOINTS)

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        ep = self.ENDPOINTS[self.config.stream]
        params = {"limit": 100, **({"offset": pagination["offset"]} if pagination else {})}
        body = self.session.get(f"https://api.lever.co/v1/{ep.path}", params=params).json()
        records = [SourceRecord(id=item[ep.id_field], data=item) for item in body["data"]]
        return SourceIteration(records=records, next_pagination={"offset": body["next"]} if body.get("hasNext") else {})
