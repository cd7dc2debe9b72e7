# allowed_hosts: api.pipedrive.com
"""Pipedrive deals: page-number pagination with a total count for progress."""
from __future__ import annotations

import math
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class PipedriveSource(AbstractSource):
    PAGE = 50

    @staticmethod
    def streams() -> list[str]:
        return ["deals", "persons"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        r = self.session.get("https://api.pipedrive.com/v1/users/me")
        return r.ok, None if r.ok else "check the API token"

    def get_total_records_count(self) -> int | None:
        r = self.session.get(f"https://api.pipedrive.com/v1/{self.config.stream}/summary")
        return int(r.json()["data"]["total_count"])

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        page = (pagination or {}).get("page", 0)
        r = self.session.get(f"https://api.pipedrive.com/v1/{self.config.stream}",
                             params={"start": page * self.PAGE, "limit": self.PAGE}).json()
        records = [SourceRecord(id=str(d["id"]), data=d) for d in r.get("data") or []]
        pages = math.ceil(r["additional_data"]["pagination"].get("total", 0) / self.PAGE)
        return SourceIteration(records=records, next_pagination={"page": page + 1} if page + 1 < pages else {})
