"""The destination's own tests. `cdk test` replays them from tests/cassettes (no network);
`cdk test --record` records them against the API of secrets/config.json."""

from __future__ import annotations

from cdk import SourceRecord


def test_check_connection(connector):
    assert connector.check_connection() == (True, None)


def test_write_sends_every_record(connector):
    records = [SourceRecord(id=str(i), data={"id": i, "name": f"row {i}"}) for i in range(1, 4)]
    result = connector.write("users", records)
    assert (result.written, result.failed, result.errors) == (3, 0, [])
