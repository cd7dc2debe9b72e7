# allowed_hosts: api.stripe.com
"""Stripe charges sliced into daily windows with datetime and timedelta."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class StripeConfig(SourceConfig):
    start_date: str = "2024-01-01"
    window_days: int = 1


class StripeSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["charges"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return StripeConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.stripe.com/v1/balance").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        start = datetime.fromisoformat((pagination or {}).get("window_start", self.config.start_date)).replace(tzinfo=timezone.utc)
        end = start + timedelta(days=self.config.window_days)
        params = {"created[gte]": int(start.timestamp()), "created[lt]": int(end.timestamp()), "limit": 100}
        body = self.session.get("https://api.stripe.com/v1/charges", params=params).json()
        records = [SourceRecord(id=c["id"], data=c, timestamp=datetime.fromtimestamp(c["created"], timezone.utc))
                   for c in body["data"]]
        now = datetime.now(timezone.utc)
        return SourceIteration(records=records, next_pagination={"window_start": end.isoformat()} if end < now else {})
