"""Runner pieces in-process: the JSON Lines sink, instants, state files."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest

from cdk.errors import ConfigError
from cdk.sdk.records import SourceRecord
from cdk.sdk.runner import JsonLinesSink, StateStore, parse_instant


def test_sink_writes_one_json_object_per_record():
    out = io.BytesIO()
    when = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    JsonLinesSink(out)(
        "users",
        [
            SourceRecord(id="1", data={"a": 1, "when": when}),
            SourceRecord(id="2", data={"b": "é"}, timestamp=when, destination_id="proj.ds.users"),
        ],
    )
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0] == {"stream": "users", "id": "1", "data": {"a": 1, "when": "2024-05-01T12:00:00+00:00"}}
    assert rows[1] == {
        "stream": "users",
        "id": "2",
        "data": {"b": "é"},
        "timestamp": "2024-05-01T12:00:00+00:00",
        "destination_id": "proj.ds.users",
    }
    assert out.getvalue().endswith(b"\n")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:01:00Z", datetime(2024, 1, 1, 0, 1, tzinfo=timezone.utc)),
        ("2024-01-01T00:01:00", datetime(2024, 1, 1, 0, 1, tzinfo=timezone.utc)),
        (1704067260, datetime(2024, 1, 1, 0, 1, tzinfo=timezone.utc)),
        (1704067260000, datetime(2024, 1, 1, 0, 1, tzinfo=timezone.utc)),
        ("not a date", None),
    ],
)
def test_parse_instant(value, expected):
    assert parse_instant(value) == expected


def test_state_store_is_rewritten_atomically_and_reports_corruption(tmp_path):
    path = tmp_path / "state.json"
    store = StateStore(path)
    store.put("users", {"status": "running", "pagination": {"offset": 10}})
    assert json.loads(path.read_text())["streams"]["users"]["pagination"] == {"offset": 10}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left behind
    path.write_text('{"streams": ')
    with pytest.raises(ConfigError) as info:
        StateStore(path)
    assert "state.json:1:" in str(info.value)


def test_cursor_advances_to_the_latest_instant_whatever_the_format():
    from cdk.sdk.runner import _advance

    def recs(*values):
        return [SourceRecord(id=str(i), data={"u": v}) for i, v in enumerate(values)]

    assert (
        _advance(None, recs("2024-01-01T00:00:09Z", "2024-01-01T00:00:10Z", "2024-01-01T00:00:08Z"), "u")
        == "2024-01-01T00:00:10Z"
    )
    # offsets: string order would pick the first, but the second is the later instant
    assert (
        _advance(None, recs("2024-01-01T10:00:00+02:00", "2024-01-01T09:00:00+00:00"), "u")
        == "2024-01-01T09:00:00+00:00"
    )
    assert _advance("2024-01-02T00:00:00Z", recs("2024-01-01T00:00:00Z"), "u") == "2024-01-02T00:00:00Z"
    assert _advance(None, recs(5, 12, 7), "u") == "1970-01-01T00:00:12+00:00"


def test_a_sources_own_state_is_saved_when_the_read_completes_and_handed_back(tmp_path):
    """SourceIteration.state (a child stream's cursors per partition) becomes incremental.state, and
    only once the read completes: an interrupted read keeps the previous run's."""
    from cdk.sdk.config import SourceConfig
    from cdk.sdk.records import SourceIteration
    from cdk.sdk.runner import read
    from cdk.sdk.source import AbstractSource

    class Counting(AbstractSource):
        seen: list = []

        @staticmethod
        def streams():
            return ["s"]

        @staticmethod
        def get_config_class():
            return SourceConfig

        def check_connection(self):
            return True, None

        def get(self, pagination=None):
            raise AssertionError("incremental only")

        def get_records_after(self, source_state, pagination=None):
            self.seen.append(dict(source_state.state))
            run = source_state.state.get("run", 0) + 1
            page = (pagination or {}).get("page", 1)
            records = [SourceRecord(id=f"{run}-{page}", data={"id": page})]
            if page == 1:
                return SourceIteration(records, {"page": 2}, state={"run": run, "page": 1})
            return SourceIteration(records, {}, state={"run": run, "page": 2})

    store = StateStore(tmp_path / "state.json")
    source = Counting(SourceConfig(name="t", stream="s"))
    read(source, "s", lambda s, r: None, state=store, incremental=True, max_iterations=1)
    assert "state" not in store.get("s")["incremental"]  # not completed: nothing committed
    read(source, "s", lambda s, r: None, state=store, incremental=True)
    assert store.get("s")["incremental"]["state"] == {"run": 1, "page": 2}
    read(source, "s", lambda s, r: None, state=StateStore(tmp_path / "state.json"), incremental=True)
    assert source.seen[-2] == {"run": 1, "page": 2}  # the next run starts from it
    assert StateStore(tmp_path / "state.json").get("s")["incremental"]["state"] == {"run": 2, "page": 2}
