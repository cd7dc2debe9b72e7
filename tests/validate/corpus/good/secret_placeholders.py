# allowed_hosts: api.sendgrid.com
"""SendGrid stats: header names and placeholders that are not secrets."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

TOKEN_HEADER = "Authorization"
API_KEY_PARAM = "api_key"
DEFAULT_TOKEN = ""
EXAMPLE_CONFIG = {"authentication": {"type": "bearer", "params": {"token": "CDK_ENV_SENDGRID_TOKEN"}}}


class SendgridSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["stats"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.sendgrid.com/v3/scopes").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        body = self.session.get("https://api.sendgrid.com/v3/stats", params={"start_date": "2024-01-01"}).json()
        records = [SourceRecord(id=day["date"], data=day["stats"][0]["metrics"]) for day in body]
        return SourceIteration(records=records, next_pagination={})
