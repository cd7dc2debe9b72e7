"""The streaming source's own tests (the standard ones come from connector.yaml). `cdk test` replays
them from tests/cassettes (no network); `cdk test --record` records them against your API."""

from __future__ import annotations


def test_reads_each_change_once_with_its_timestamp(connector):
    records = list(connector.read_stream("users", None))
    assert records, "the stream returned no records"
    assert all(record.timestamp is not None for record in records)
    ids = [record.id for record in records]
    assert len(ids) == len(set(ids)), "a record came twice"


def test_resumes_right_after_a_checkpoint(connector):
    first = list(connector.read_stream("users", None))
    middle = len(first) // 2
    checkpoint = connector.checkpoint_for(first[middle - 1])
    rest = list(connector.read_stream("users", checkpoint))
    assert [record.id for record in rest] == [record.id for record in first[middle:]]
