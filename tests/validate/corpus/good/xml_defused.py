# allowed_hosts: soap.legacy-erp.com
"""A legacy XML API parsed with defusedxml."""
from __future__ import annotations

from typing import Any

from defusedxml import ElementTree

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

NS = {"erp": "urn:legacy-erp:v1"}


class ErpSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["invoices"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://soap.legacy-erp.com/status").status_code == 200, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        page = (pagination or {}).get("page", 1)
        root = ElementTree.fromstring(self.session.get(f"https://soap.legacy-erp.com/invoices?page={page}").content)
        records = [
            SourceRecord(id=el.get("id"), data={"total": el.findtext("erp:total", namespaces=NS)})
            for el in root.findall("erp:invoice", NS)
        ]
        return SourceIteration(records=records, next_pagination={"page": page + 1} if records else {})
