"""The sql destination upserts on the stream's primary_key (connector.yaml), nested (`member.id`) and
composite (`[org, id]`) included, on SQLite and on a real PostgreSQL server: a replayed batch — a second
run whose record ids all differ but whose keys do not — leaves no duplicate row and the newest data.
A stream without a primary key is keyed on the record id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdk.errors import ConfigError, DestinationError
from cdk.pipelines import run_pipeline
from cdk.pipelines.destinations import SqlDestination
from cdk.sdk.records import SourceRecord
from tests.conftest import run_cdk
from tests.pipelines.projects import members_source

sa = pytest.importorskip("sqlalchemy", reason="the sql destination needs connector-cdk[sql]")

PIPELINE = """name: members
source:
  name: ./members-source
  streams: [members, memberships, events]
  count: 12
  run: {run}
destination:
  name: sql
  config:
    url: {url}
"""


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _run_twice_and_check(tmp_path: Path, url: str) -> None:
    members_source(tmp_path)
    config = tmp_path / "pipeline.yml"
    for run in (1, 2):  # run 2 sends every key again under new record ids, with new data
        config.write_text(PIPELINE.format(run=run, url=url))
        result = run_pipeline(config, ignore_checkpoint=True)
        assert {s.stream: s.records for s in result.streams} == {
            "members": 12,
            "memberships": 24,
            "events": 12,
        }
        assert {s.stream: s.primary_key for s in result.streams} == {
            "members": ["member.id"],
            "memberships": ["org", "id"],
            "events": [],
        }
    members = _rows(url, 'select "member.id", record_id, data from members')
    assert sorted(int(k) for k, _, _ in members) == list(range(1, 13))  # 12 rows, not 24
    assert {rid.split("-")[0] for _, rid, _ in members} == {"r2"}  # the newest version of each
    data = {k: (json.loads(d) if isinstance(d, str) else d) for k, _, d in members}
    assert data["7"] == {"member": {"id": 7}, "name": "member 7 run 2"}
    memberships = _rows(url, "select org, id, data from memberships")
    assert sorted((o, int(i)) for o, i, _ in memberships) == sorted(
        (o, i) for o in ("acme", "globex") for i in range(1, 13)
    )  # (acme, 1) and (globex, 1) are two rows: keyed on both fields, not on id alone
    roles = {(json.loads(d) if isinstance(d, str) else d)["role"] for _, _, d in memberships}
    assert roles == {"role 2"}
    events = _rows(url, "select id from events")  # no primary key: keyed on the record id
    assert len(events) == 24 and {i.split("-")[0] for (i,) in events} == {"r1", "r2"}


def test_upsert_on_nested_and_composite_primary_keys_in_sqlite(tmp_path):
    db = f"sqlite:///{tmp_path / 'members.db'}"
    _run_twice_and_check(tmp_path, db)
    pk = sa.inspect(sa.create_engine(db)).get_pk_constraint("memberships")["constrained_columns"]
    assert pk == ["org", "id"]


def test_upsert_on_nested_and_composite_primary_keys_in_postgresql(tmp_path, postgres_server):
    url = postgres_server.new_database("primary_keys")
    _run_twice_and_check(tmp_path, url)
    pk = sa.inspect(sa.create_engine(url)).get_pk_constraint("memberships")["constrained_columns"]
    assert pk == ["org", "id"]


def test_the_same_batch_written_twice_leaves_one_row_per_key(tmp_path, postgres_server):
    batch = [
        SourceRecord(id=f"x{n}", data={"org": org, "id": i, "v": n})
        for n, (org, i) in enumerate([("a", 1), ("b", 1), ("a", 2), ("a", 1)])  # (a, 1) twice in one batch
    ]
    for url in (f"sqlite:///{tmp_path / 'replay.db'}", postgres_server.new_database("replay")):
        dest = SqlDestination({"url": url})
        dest.declare_stream("memberships", primary_key=["org", "id"])
        for _ in range(2):
            assert dest.write("memberships", batch).written == 4
        dest.finalize()
        rows = _rows(url, "select org, id, record_id from memberships order by org, id")
        assert rows == [("a", "1", "x3"), ("a", "2", "x2"), ("b", "1", "x1")]  # the last version wins


def test_a_record_without_its_primary_key_is_refused_naming_it(tmp_path):
    dest = SqlDestination({"url": f"sqlite:///{tmp_path / 'k.db'}"})
    dest.declare_stream("members", primary_key=["member.id"])
    with pytest.raises(DestinationError) as caught:
        dest.write(
            "members",
            [
                SourceRecord(id="ok", data={"member": {"id": 1}}),
                SourceRecord(id="bad-9", data={"member": {}}),
            ],
        )
    assert "record id 'bad-9'" in caught.value.message and "'member.id' is missing" in caught.value.message
    assert _rows(f"sqlite:///{tmp_path / 'k.db'}", "select count(*) from members") == [
        (0,)
    ]  # nothing written
    with pytest.raises(ConfigError) as clash:
        dest.declare_stream("members", primary_key=["data"])
    assert "'data'" in clash.value.message


def test_a_table_keyed_otherwise_by_an_earlier_run_is_a_clear_error(tmp_path):
    members_source(tmp_path)
    config = tmp_path / "pipeline.yml"
    config.write_text(PIPELINE.format(run=1, url="sqlite:///members.db"))
    db = sa.create_engine(f"sqlite:///{tmp_path / 'members.db'}")
    with db.begin() as conn:  # the table an earlier version made, keyed on the record id
        conn.execute(sa.text("create table members (id varchar primary key, stream varchar, data json)"))
    db.dispose()
    result = run_cdk("run", "pipeline.yml", "-s", "members", cwd=tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "table 'members' already exists with primary key (id)" in err and "(member.id)" in err
    assert "Traceback" not in err
