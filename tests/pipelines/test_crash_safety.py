"""The core promise of `cdk run` under SIGKILL: 10,000 records in pages of 100 into the sql destination,
the run killed at 20 random moments and resumed each time; the table ends with each record exactly once.

A kill can land anywhere: mid-request, mid-transaction, between the destination's commit and the state's
rename. Were the state ever committed before the destination's ack, a resumed run would skip that page
and the final count would fall short: each kill waits for a page to be acknowledged first, so no run
restarts from scratch and nothing masks a lost page.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.guides import examples
from tests.guides.guide_api import GuideAPI
from tests.guides.test_guide_examples import make_connector

pytest.importorskip("sqlalchemy", reason="the sql destination needs connector-cdk[sql]")

TOTAL, PAGE, KILLS = 10_000, 100, 20

PIPELINE = """name: crash-safety
source:
  name: my_source
  stream: users
  api_url: {url}
  page_size: {page}
destination:
  name: sql
  config:
    url: {db}
"""


def _state(path: Path) -> dict:
    try:
        return json.loads(path.read_text()).get("streams", {}).get("users", {})
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _run_with_kills(
    tmp_path: Path, db_url: str, seed: int, *, folder: bool = False
) -> tuple[int, list[dict], subprocess.CompletedProcess]:
    """``folder``: the guide's source as a connector folder, whose streams have ``primary_key: [id]`` (the
    upsert key is then the data's id); else the single file, keyed on the record id."""
    rng = random.Random(seed)
    state = tmp_path / ".cdk" / "state" / "crash-safety.json"
    cmd = [sys.executable, "-m", "cdk", "run", "config.yml", "--format", "json"]
    if folder:
        make_connector(tmp_path, examples.QUICKSTART)
    else:
        (tmp_path / "my_source.py").write_text(examples.QUICKSTART)
        cmd += ["--custom-source", "my_source.py"]
    env = {**os.environ, "NO_COLOR": "1"}
    with GuideAPI({"users": TOTAL}) as api:
        pipeline = PIPELINE.format(url=api.url, page=PAGE, db=db_url)
        if folder:
            pipeline = pipeline.replace("name: my_source", "name: ./guide-source")
        (tmp_path / "config.yml").write_text(pipeline)
        killed_mid_run: list[dict] = []
        kills = 0
        while kills < KILLS:
            before = _state(state).get("pages", 0)
            proc = subprocess.Popen(
                cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 60
            while (
                proc.poll() is None
                and _state(state).get("pages", 0) == before
                and time.monotonic() < deadline
            ):
                time.sleep(0.005)  # at least one more page acknowledged, so every run makes progress
            time.sleep(rng.uniform(0, 0.06))
            if proc.poll() is not None:
                break  # finished before its kill
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            entry = _state(state)
            if entry.get("status") == "running":
                killed_mid_run.append(entry)
        final = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=300)
    return kills, killed_mid_run, final


def _check(kills: int, killed_mid_run: list[dict], final: subprocess.CompletedProcess) -> None:
    assert final.returncode == 0, final.stderr.decode()
    summary = json.loads(final.stdout)["streams"][0]
    assert summary["completed"]
    assert kills == KILLS, f"the run finished after {kills} kills: the test needs {KILLS}"
    assert len(killed_mid_run) == KILLS  # every kill interrupted an unfinished read
    assert summary["resumed_from"] is not None  # the last run resumed: no restart hid a lost page


def test_sigkill_at_random_moments_into_sqlite_loses_and_duplicates_nothing(tmp_path):
    import sqlite3

    kills, mid, final = _run_with_kills(tmp_path, "sqlite:///crash.db", seed=16)
    _check(kills, mid, final)
    db = sqlite3.connect(tmp_path / "crash.db")
    assert db.execute("select count(*), count(distinct id) from users").fetchone() == (TOTAL, TOTAL)
    ids = {int(i) for (i,) in db.execute("select id from users")}
    assert ids == set(range(1, TOTAL + 1))


def test_sigkill_into_sqlite_upserting_on_the_streams_primary_key(tmp_path):
    import sqlite3

    kills, mid, final = _run_with_kills(tmp_path, "sqlite:///pk.db", seed=160, folder=True)
    _check(kills, mid, final)
    assert json.loads(final.stdout)["streams"][0]["primary_key"] == ["id"]
    db = sqlite3.connect(tmp_path / "pk.db")
    assert db.execute(
        "select count(*), count(distinct id), count(distinct record_id) from users"
    ).fetchone() == (
        TOTAL,
        TOTAL,
        TOTAL,
    )
    ids = {int(i) for (i,) in db.execute("select id from users")}
    assert ids == set(range(1, TOTAL + 1))


def test_sigkill_at_random_moments_into_postgresql_loses_and_duplicates_nothing(tmp_path, postgres_url):
    import sqlalchemy as sa

    kills, mid, final = _run_with_kills(tmp_path, postgres_url, seed=61)
    _check(kills, mid, final)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert tuple(conn.execute(sa.text("select count(*), count(distinct id) from users")).one()) == (
            TOTAL,
            TOTAL,
        )
        ids = {int(i) for (i,) in conn.execute(sa.text("select id from users"))}
    engine.dispose()
    assert ids == set(range(1, TOTAL + 1))


def test_a_sql_destination_raising_on_random_batches_loses_and_duplicates_nothing(tmp_path):
    import sqlite3

    from cdk.errors import ConnectorError
    from cdk.pipelines import run_pipeline
    from cdk.pipelines.destinations import SqlDestination

    class Flaky(SqlDestination):
        """Commits the batch or raises before committing, on a random 5% of batches."""

        rng = random.Random(5)
        failures = 0

        def write(self, stream, records):
            if self.rng.random() < 0.05:
                Flaky.failures += 1
                raise RuntimeError("the warehouse went away")
            return super().write(stream, records)

    (tmp_path / "my_source.py").write_text(examples.QUICKSTART)
    with GuideAPI({"users": TOTAL}) as api:
        (tmp_path / "config.yml").write_text(PIPELINE.format(url=api.url, page=PAGE, db="sqlite:///flaky.db"))
        dest = Flaky({"url": "sqlite:///flaky.db", "max_batch_records": 50}, base=tmp_path)
        for _ in range(500):
            try:
                result = run_pipeline(
                    tmp_path / "config.yml", custom_source=tmp_path / "my_source.py", destination=dest
                )
            except ConnectorError:
                continue
            break
    assert result.streams[0].completed and result.streams[0].resumed_from is not None
    assert Flaky.failures >= 5
    db = sqlite3.connect(tmp_path / "flaky.db")
    assert db.execute("select count(*), count(distinct id) from users").fetchone() == (TOTAL, TOTAL)
