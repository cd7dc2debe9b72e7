# allowed_hosts: dumps.acme.io
"""Gzipped JSON lines decompressed in memory."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
import gzip
import io
import json


class BytesioGzipDecompressSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://dumps.acme.io/v1/ping").ok, None

    def lines(self, blob: bytes) -> list[dict[str, Any]]:
        raw = io.BytesIO(gzip.decompress(blob)).read().decode()
        return [json.loads(line) for line in raw.splitlines() if line]

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://dumps.acme.io/v1/items", params=pagination or {})
        items = [item for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
