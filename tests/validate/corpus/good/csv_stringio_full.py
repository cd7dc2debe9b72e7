# allowed_hosts: reports.acme.io
"""A CSV report: the body is text, io.StringIO feeds csv.DictReader."""
from __future__ import annotations

import csv
import io
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class ReportSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["rows"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.head("https://reports.acme.io/v2/daily.csv").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        text = self.session.get("https://reports.acme.io/v2/daily.csv").text
        rows = csv.DictReader(io.StringIO(text))
        return SourceIteration(
            records=[SourceRecord(id=row["id"], data=dict(row)) for row in rows], next_pagination={}
        )
