# allowed_hosts: api.logs.io
"""Module logger with logging.getLogger."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
import logging

log = logging.getLogger(__name__)


class LoggingGetLoggerSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.logs.io/v1/ping").ok, None

    def note(self, n: int) -> None:
        log.info('read %d items', n)

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.logs.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
