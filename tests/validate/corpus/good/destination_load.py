# allowed_hosts: ingest.warehouse.io
"""A destination: batches records to an ingest API."""
from __future__ import annotations

from cdk import AbstractDestination, DestinationConfig, SourceRecord, WriteResult


class WarehouseConfig(DestinationConfig):
    table_prefix: str = "raw_"


class WarehouseDestination(AbstractDestination):
    @staticmethod
    def get_config_class() -> type[DestinationConfig]:
        return WarehouseConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://ingest.warehouse.io/v1/ping").ok, None

    def write(self, stream: str, records: list[SourceRecord]) -> WriteResult:
        rows = [{"id": r.id, **r.data} for r in records]
        r = self.session.post(f"https://ingest.warehouse.io/v1/tables/{self.config.table_prefix}{stream}", json=rows)
        r.raise_for_status()
        return WriteResult(written=len(rows))
