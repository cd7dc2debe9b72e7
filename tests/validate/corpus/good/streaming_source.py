# allowed_hosts: stream.example.com
"""A streaming source: server-sent change events with a checkpoint per event id."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cdk import SourceConfig, SourceRecord, StreamingSource


class ChangesSource(StreamingSource):
    @staticmethod
    def streams() -> list[str]:
        return ["changes"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://stream.example.com/health").ok, None

    def read_stream(self, stream: str, checkpoint: dict[str, Any] | None) -> Iterator[SourceRecord]:
        after = (checkpoint or {}).get("last_id", "0")
        with self.session.get("https://stream.example.com/events", params={"after": after}, stream=True) as r:
            for line in r.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    event = line[5:].strip()
                    yield SourceRecord(id=event.split(",", 1)[0], data={"raw": event})

    def commit(self, checkpoint: dict[str, Any]) -> None:
        self.session.post("https://stream.example.com/ack", json=checkpoint)
