"""`cdk run`: the guide's config.yml and single-file source, into logger, jsonl and sql, with nothing lost.

Real subprocesses (`python -m cdk run ...`) against the guide's imitation API on 127.0.0.1; the library
(`cdk.pipelines.run_pipeline`) where a test needs a destination that fails on purpose.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cdk.errors import ConnectorError, RecordTooLargeError, TransientError
from cdk.pipelines import run_pipeline, split_batches
from cdk.sdk.records import SourceRecord, WriteResult
from tests.conftest import jsonl, run_cdk
from tests.guides import examples
from tests.guides.guide_api import GuideAPI

TOKEN = "k-pipeline-123456"

# The guide's config.yml, verbatim but for api_url (the local imitation API) and the destination block.
GUIDE_CONFIG = """name: my-custom-pipeline
source:
  name: my_source
  stream: users
  api_url: {url}
  page_size: 100
  authentication:
    type: api_key
    params:
      token: BIZON_ENV_API_TOKEN
destination:
{destination}"""

LOGGER = "  name: logger\n  config: {}\n"


@pytest.fixture
def api():
    with GuideAPI({"users": 250, "orders": 42}, api_key=TOKEN) as server:
        yield server


def setup(tmp_path: Path, api: GuideAPI, destination: str = LOGGER, code: str = examples.QUICKSTART) -> Path:
    (tmp_path / "my_source.py").write_text(code)
    (tmp_path / "config.yml").write_text(GUIDE_CONFIG.format(url=api.url, destination=destination))
    return tmp_path / "config.yml"


def cdk_run(tmp_path: Path, *args: str, timeout: float = 120) -> Any:
    return run_cdk(
        "run",
        "config.yml",
        "--custom-source",
        "./my_source.py",
        *args,
        cwd=tmp_path,
        env={"API_TOKEN": TOKEN},
        timeout=timeout,
    )


def test_guide_example_into_the_logger_destination(tmp_path, api):
    setup(tmp_path, api)
    result = cdk_run(tmp_path, "--log-level", "DEBUG")
    err = result.stderr.decode()
    assert result.returncode == 0, err
    logged = [line for line in err.splitlines() if "cdk.pipelines.logger" in line]
    assert len(logged) == 250
    assert {line.split("cdk.pipelines.logger: users ", 1)[1].split(" ", 1)[0] for line in logged} == {
        str(i) for i in range(1, 251)
    }
    assert TOKEN not in err and TOKEN not in result.stdout.decode()
    assert all(r["headers"].get("X-API-Key") == TOKEN for r in api.requests if r["path"] == "/users")
    assert "250 records" in err


def test_guide_example_into_jsonl_and_json_summary(tmp_path, api):
    setup(tmp_path, api, "  name: jsonl\n  config:\n    path: out\n")
    result = cdk_run(tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    summary = json.loads(result.stdout)
    assert summary["records"] == 250 and summary["streams"][0]["completed"] is True
    assert summary["streams"][0]["pages"] == 3 and summary["streams"][0]["targets"] == {"users": 250}
    rows = jsonl((tmp_path / "out" / "users.jsonl").read_bytes())
    assert [int(r["id"]) for r in rows] == list(range(1, 251))
    assert rows[0]["stream"] == "users" and rows[0]["data"]["id"] == 1


def test_guide_example_into_sqlite_upserts_on_the_id(tmp_path, api):
    setup(tmp_path, api, "  name: sql\n  config:\n    url: sqlite:///out.db\n")
    for _ in range(2):  # a full refresh run twice: upserts, no duplicate row
        result = cdk_run(tmp_path)
        assert result.returncode == 0, result.stderr.decode()
    db = sqlite3.connect(tmp_path / "out.db")
    assert db.execute("select count(*), count(distinct id) from users").fetchone() == (250, 250)
    data = json.loads(db.execute("select data from users where id = '7'").fetchone()[0])
    assert data["id"] == 7 and data["stream"] == "users"


def test_max_iterations_of_the_config_bounds_the_run_and_the_next_run_resumes(tmp_path, api):
    config = setup(tmp_path, api, "  name: jsonl\n  config:\n    path: out\n")
    config.write_text(
        config.read_text().replace("  page_size: 100\n", "  page_size: 100\n  max_iterations: 1\n")
    )
    first = cdk_run(tmp_path, "--format", "json")
    assert first.returncode == 0, first.stderr.decode()
    assert json.loads(first.stdout)["streams"][0]["stopped_by"] == "max_iterations=1"
    assert len(jsonl((tmp_path / "out" / "users.jsonl").read_bytes())) == 100
    cdk_run(tmp_path)
    cdk_run(tmp_path)
    ids = [int(r["id"]) for r in jsonl((tmp_path / "out" / "users.jsonl").read_bytes())]
    assert ids == list(range(1, 251))


def test_routing_by_destination_id_into_files_and_tables(tmp_path, api):
    setup(tmp_path, api, "  name: jsonl\n  config:\n    path: out\n", code=examples.ROUTING)
    config = tmp_path / "config.yml"
    config.write_text(config.read_text().replace("stream: users", "stream: orders"))
    result = cdk_run(tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["click_events.jsonl", "view_events.jsonl"]
    for kind in ("click", "view"):
        rows = jsonl((tmp_path / "out" / f"{kind}_events.jsonl").read_bytes())
        assert rows and {r["data"]["type"] for r in rows} == {kind}
        assert {r["destination_id"] for r in rows} == {f"project.dataset.{kind}_events"}
    assert len(jsonl((tmp_path / "out" / "click_events.jsonl").read_bytes())) == 21
    config.write_text(
        config.read_text().replace(
            "name: jsonl\n  config:\n    path: out", "name: sql\n  config:\n    url: sqlite:///r.db"
        )
    )
    assert cdk_run(tmp_path).returncode == 0
    db = sqlite3.connect(tmp_path / "r.db")
    for kind, n in (("click", 21), ("view", 21)):
        types = db.execute(f"select distinct json_extract(data, '$.type') from {kind}_events").fetchall()
        assert types == [(kind,)]
        assert db.execute(f"select count(*) from {kind}_events").fetchone() == (n,)


class Recorder:
    """A destination that keeps what it acknowledged (by id, like an upsert) and fails when told to."""

    max_batch_records: int | None = 30
    max_batch_bytes: int | None = None

    def __init__(self, fail_at: set[int] | None = None, fail_rate: float = 0.0, seed: int = 0) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.batches: list[tuple[str, list[str]]] = []
        self.calls = 0
        self.fail_at = fail_at or set()
        self.fail_rate = fail_rate
        self.random = random.Random(seed)

    def check_connection(self) -> tuple[bool, str | None]:
        return True, None

    def write(self, stream: str, records: list[SourceRecord]) -> WriteResult:
        self.calls += 1
        if self.calls in self.fail_at or self.random.random() < self.fail_rate:
            raise ConnectionError(f"warehouse rejected batch {self.calls}")
        self.batches.append((stream, [r.id for r in records]))
        for r in records:
            self.rows[r.id] = r.data
        return WriteResult(written=len(records))

    def finalize(self) -> None:
        pass


def test_a_destination_failing_mid_run_loses_nothing_on_the_next_run(tmp_path, api, monkeypatch):
    monkeypatch.setenv("API_TOKEN", TOKEN)
    config = setup(tmp_path, api)
    failing = Recorder(fail_at={6})  # pages of 100 in batches of 30: batch 6 is in the second page
    with pytest.raises(TransientError) as caught:  # a ConnectionError: an outside failure, exit 3
        run_pipeline(config, custom_source=tmp_path / "my_source.py", destination=failing)
    assert "batch" in caught.value.message and "warehouse rejected batch 6" in caught.value.message
    assert len(failing.rows) == 100 + 30  # page 1 acknowledged, page 2 partly (batch 5), batch 6 refused
    state = json.loads((tmp_path / ".cdk" / "state" / "my-custom-pipeline.json").read_text())
    assert state["streams"]["users"]["pagination"] == {"page": 2}  # only the acknowledged page counts
    second = Recorder()
    result = run_pipeline(config, custom_source=tmp_path / "my_source.py", destination=second)
    assert result.streams[0].resumed_from == {"page": 2} and result.streams[0].completed
    assert set(failing.rows) | set(second.rows) == {str(i) for i in range(1, 251)}
    assert set(second.rows) == {str(i) for i in range(101, 251)}  # page 2 sent again, page 1 not


def test_a_destination_failing_on_random_batches_loses_nothing(tmp_path, api, monkeypatch):
    monkeypatch.setenv("API_TOKEN", TOKEN)
    config = setup(tmp_path, api)
    dest = Recorder(fail_rate=0.05, seed=7)
    dest.max_batch_records = 10
    failures = 0
    for _ in range(200):
        try:
            result = run_pipeline(config, custom_source=tmp_path / "my_source.py", destination=dest)
        except ConnectorError:
            failures += 1
            continue
        if result.streams[0].completed:
            break
    assert failures >= 2  # the test exercised failures
    assert set(dest.rows) == {str(i) for i in range(1, 251)}


def test_batches_are_homogeneous_and_fit_the_limits() -> None:
    records = [
        SourceRecord(id=str(i), data={"i": i, "pad": "x" * 40}, destination_id=f"d.{i % 3}")
        for i in range(50)
    ]
    batches = split_batches("s", records, 4, 400)
    assert sum(len(b) for _, b in batches) == 50
    for target, batch in batches:
        assert {r.destination_id for r in batch} == {target}
        assert len(batch) <= 4
        assert (
            sum(
                len(
                    json.dumps(
                        {"stream": "s", "id": r.id, "data": r.data, "destination_id": r.destination_id},
                        separators=(",", ":"),
                    )
                )
                for r in batch
            )
            <= 400
        )
    assert [r.id for _, b in batches for r in b if r.destination_id == "d.1"] == [
        str(i) for i in range(1, 50, 3)
    ]
    big = [*records[:3], SourceRecord(id="huge-7", data={"blob": "y" * 1000})]
    with pytest.raises(RecordTooLargeError) as caught:
        split_batches("s", big, 4, 400)
    assert "record id 'huge-7'" in caught.value.message and "max_batch_bytes=400" in caught.value.message


def test_a_record_over_the_byte_limit_is_a_clear_error_and_nothing_is_written(tmp_path, api):
    setup(tmp_path, api, "  name: jsonl\n  config:\n    path: out\n    max_batch_bytes: 60\n")
    result = cdk_run(tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "record id '1'" in err and "max_batch_bytes=60" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "users.jsonl").exists()


def test_dry_run_checks_both_ends_and_reads_nothing(tmp_path, api):
    setup(tmp_path, api, "  name: jsonl\n  config:\n    path: out\n")
    result = cdk_run(tmp_path, "--dry-run", "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    plan = json.loads(result.stdout)
    assert plan["checks"] == {
        "destination": {"ok": True, "message": None},
        "source": {"ok": True, "message": None},
    }
    assert plan["plan"][0]["stream"] == "users" and plan["streams"] == []
    assert not any(r["path"] == "/users" for r in api.requests)


def test_errors_name_what_where_and_next(tmp_path, api):
    setup(tmp_path, api, "  name: jsonl\n  config:\n    pth: out\n")
    result = cdk_run(tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 1 and "destination.config" in err and "pth" in err and "Traceback" not in err
    setup(tmp_path, api, "  name: loger\n  config: {}\n")
    result = cdk_run(tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 1 and "destination.name 'loger'" in err and "did you mean 'logger'?" in err
    setup(tmp_path, api)
    result = run_cdk("run", "config.yml", "--custom-source", "./nope.py", cwd=tmp_path)
    assert result.returncode == 2 and "nope.py" in result.stderr.decode()


def test_several_streams_read_concurrently_each_with_its_own_checkpoint(tmp_path, api):
    config = setup(tmp_path, api, "  name: sql\n  config:\n    url: sqlite:///multi.db\n")
    config.write_text(
        config.read_text().replace("  stream: users\n", "  stream: users\n  streams: [users, orders]\n")
    )
    result = cdk_run(tmp_path, "--concurrency", "2", "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    summary = json.loads(result.stdout)
    assert {s["stream"]: s["records"] for s in summary["streams"]} == {
        "users": 250,
        "orders": 42,
    }
    state = json.loads((tmp_path / ".cdk" / "state" / "my-custom-pipeline.json").read_text())["streams"]
    assert {k: v["status"] for k, v in state.items()} == {
        "users": "done",
        "orders": "done",
    }
    db = sqlite3.connect(tmp_path / "multi.db")
    for table, n in (("users", 250), ("orders", 42)):
        assert db.execute(f"select count(distinct id), min(stream), max(stream) from {table}").fetchone() == (
            n,
            table,
            table,
        )
    only = cdk_run(tmp_path, "-s", "orders", "--format", "json")
    assert [s["stream"] for s in json.loads(only.stdout)["streams"]] == ["orders"]


def test_jsonl_is_exactly_once_after_a_crash_between_the_write_and_the_checkpoint(tmp_path, api, monkeypatch):
    from cdk.sdk.runner import StateStore

    monkeypatch.setenv("API_TOKEN", TOKEN)
    config = setup(tmp_path, api, "  name: jsonl\n  config:\n    path: out\n")
    real = StateStore.put
    calls: list[str] = []

    def dies_before_the_second_checkpoint(self: StateStore, stream: str, entry: dict) -> None:
        calls.append(stream)
        if len(calls) == 2:
            raise KeyboardInterrupt  # page 2 is written and fsync'ed; its checkpoint never saved
        real(self, stream, entry)

    monkeypatch.setattr(StateStore, "put", dies_before_the_second_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(config, custom_source=tmp_path / "my_source.py")
    out = tmp_path / "out" / "users.jsonl"
    assert len(jsonl(out.read_bytes())) == 200  # page 2 is in the file but not covered by the state
    monkeypatch.setattr(StateStore, "put", real)
    result = run_pipeline(config, custom_source=tmp_path / "my_source.py")
    assert result.streams[0].resumed_from == {"page": 2}
    assert [int(r["id"]) for r in jsonl(out.read_bytes())] == list(range(1, 251))  # each line once


def test_routing_into_duckdb_upserts_on_the_id(tmp_path, api):
    pytest.importorskip("duckdb_engine", reason="duckdb-engine is not installed ([sql] extra)")
    import duckdb

    setup(tmp_path, api, "  name: sql\n  config:\n    url: duckdb:///out.duckdb\n", code=examples.ROUTING)
    config = tmp_path / "config.yml"
    config.write_text(config.read_text().replace("stream: users", "stream: orders"))
    for _ in range(2):
        result = cdk_run(tmp_path)
        assert result.returncode == 0, result.stderr.decode()
    db = duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True)
    for kind in ("click", "view"):
        assert db.execute(f"select count(*), count(distinct id) from {kind}_events").fetchone() == (21, 21)
        assert db.execute(
            f"select distinct json_extract_string(data, '$.type') from {kind}_events"
        ).fetchall() == [(kind,)]
