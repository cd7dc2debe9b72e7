# allowed_hosts: api.errors.io
"""Raises cdk's typed errors."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from cdk.errors import AuthenticationError


class CdkErrorsTypedSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.errors.io/v1/ping").ok, None

    def guard(self, code: int) -> None:
        if code == 401:
            raise AuthenticationError('token rejected')

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.errors.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
