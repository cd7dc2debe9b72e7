# allowed_hosts: *.zendesk.com
"""Zendesk tickets: a pydantic config with enums, bounds and a secret token."""
from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class Region(str, Enum):
    us = "us"
    eu = "eu"


class ZendeskConfig(SourceConfig):
    subdomain: str = Field(..., description="acme for acme.zendesk.com")
    region: Region = Region.us
    api_token: SecretStr
    sort: Literal["asc", "desc"] = "asc"
    page_size: int = Field(100, ge=1, le=1000)

    @field_validator("subdomain")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class ZendeskSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["tickets"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return ZendeskConfig

    def _url(self, path: str) -> str:
        return f"https://{self.config.subdomain}.zendesk.com/api/v2/{path}"

    def check_connection(self) -> tuple[bool, str | None]:
        ok = self.session.get(self._url("users/me.json")).ok
        return ok, None if ok else "authentication failed"

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        url = (pagination or {}).get("next") or self._url(f"tickets.json?page[size]={self.config.page_size}")
        body = self.session.get(url).json()
        records = [SourceRecord(id=str(t["id"]), data=t) for t in body["tickets"]]
        nxt = body.get("links", {}).get("next")
        return SourceIteration(records=records, next_pagination={"next": nxt} if body.get("meta", {}).get("has_more") else {})
