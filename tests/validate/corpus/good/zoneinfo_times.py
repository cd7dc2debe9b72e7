# allowed_hosts: api.calendly.com
"""Calendly events: times converted with zoneinfo."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class CalendlyConfig(SourceConfig):
    timezone: str = "UTC"
    organization: str


class CalendlySource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["scheduled_events"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return CalendlyConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.calendly.com/users/me").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        url = (pagination or {}).get("next_page") or "https://api.calendly.com/scheduled_events"
        body = self.session.get(url, params=None if pagination else {"organization": self.config.organization}).json()
        tz = ZoneInfo(self.config.timezone)
        records = []
        for e in body["collection"]:
            start = datetime.fromisoformat(e["start_time"].replace("Z", "+00:00")).astimezone(tz)
            records.append(SourceRecord(id=e["uri"].rsplit("/", 1)[-1], data={**e, "local_start": start.isoformat()}))
        nxt = body["pagination"].get("next_page")
        return SourceIteration(records=records, next_pagination={"next_page": nxt} if nxt else {})
