"""The simple contract of the hosted service: get_streams, check_connection, get_records."""
from typing import Iterator

from cdk import AbstractSource, SourceRecord


class MySource(AbstractSource):
    def get_streams(self) -> list[str]:
        return ["users", "orders"]

    def check_connection(self) -> bool:
        # Verify API credentials
        return True

    def get_records(self, stream: str) -> Iterator[SourceRecord]:
        if stream == "users":
            yield SourceRecord(id="1", data={"name": "Alice"})
            yield SourceRecord(id="2", data={"name": "Bob"})
