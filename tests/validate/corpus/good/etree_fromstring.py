# allowed_hosts: api.xml.io
"""XML bodies parsed from strings."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
import xml.etree.ElementTree as ET


class EtreeFromstringSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.xml.io/v1/ping").ok, None

    def titles(self, body: str) -> list[str]:
        return [e.text or '' for e in ET.fromstring(body).iter('title')]

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.xml.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
