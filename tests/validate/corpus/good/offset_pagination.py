# allowed_hosts: api.acme.io
"""Acme users: offset pagination over /v2/users."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

BASE_URL = "https://api.acme.io/v2"


class AcmeConfig(SourceConfig):
    page_size: int = 100


class AcmeSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["users", "teams"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return AcmeConfig

    def check_connection(self) -> tuple[bool, str | None]:
        response = self.session.get(f"{BASE_URL}/me")
        return (True, None) if response.ok else (False, f"HTTP {response.status_code}")

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        offset = (pagination or {}).get("offset", 0)
        params = {"offset": offset, "limit": self.config.page_size}
        body = self.session.get(f"{BASE_URL}/{self.config.stream}", params=params).json()
        records = [SourceRecord(id=str(item["id"]), data=item) for item in body["data"]]
        more = len(records) == self.config.page_size
        return SourceIteration(records=records, next_pagination={"offset": offset + len(records)} if more else {})
