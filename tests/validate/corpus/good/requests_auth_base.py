# allowed_hosts: api.signed.io
"""A custom requests.auth.AuthBase, as the Python source guide shows."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from requests.auth import AuthBase


class RequestsAuthBaseSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.signed.io/v1/ping").ok, None

    class TokenAuth(AuthBase):
        def __init__(self, token: str) -> None:
            self.token = token

        def __call__(self, request: Any) -> Any:
            request.headers['X-Token'] = self.token
            return request

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.signed.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
