# allowed_hosts: reports.example.com
"""A CSV export API: parsed in memory with the csv module."""
from __future__ import annotations

import csv
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class CsvExportSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["sales"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://reports.example.com/api/ping").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        text = self.session.get("https://reports.example.com/api/export.csv").text
        reader = csv.DictReader(text.splitlines())
        records = [SourceRecord(id=row["order_id"], data=dict(row)) for row in reader]
        return SourceIteration(records=records, next_pagination={})
