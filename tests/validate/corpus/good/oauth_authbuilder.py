# allowed_hosts: api.hubapi.com
"""HubSpot contacts: OAuth2 refresh-token auth built by the SDK from the config."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, AuthBuilder, SourceConfig, SourceIteration, SourceRecord


class HubspotSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["contacts", "companies"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def get_authenticator(self):
        return AuthBuilder.from_config(self.config.authentication)

    def check_connection(self) -> tuple[bool, str | None]:
        r = self.session.get("https://api.hubapi.com/crm/v3/objects/contacts", params={"limit": 1})
        return r.ok, None if r.ok else r.json().get("message", "failed")

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        params = {"limit": 100, **({"after": pagination["after"]} if pagination else {})}
        body = self.session.get(f"https://api.hubapi.com/crm/v3/objects/{self.config.stream}", params=params).json()
        records = [SourceRecord(id=o["id"], data=o["properties"]) for o in body["results"]]
        after = body.get("paging", {}).get("next", {}).get("after")
        return SourceIteration(records=records, next_pagination={"after": after} if after else {})
