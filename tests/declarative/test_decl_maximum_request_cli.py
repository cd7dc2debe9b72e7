"""`cdk read` (real subprocesses) of 10,050 records when maximumRequest caps the run: the first run says so
on stderr and exits 4 with the state at the stop, the second run with the same --state reads the rest;
appended output holds every record exactly once. --allow-partial accepts the cap with exit 0."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from decl_helpers import write_connector

from cdk.testing.demo_api import DemoAPI
from tests.conftest import run_cdk

RECORDS = 10_050


@pytest.fixture(scope="module")
def big_api() -> Any:
    with DemoAPI({"users": RECORDS, "orders": 1}) as api:
        yield api


def connector(tmp_path: Path, limit: int, maximum: int | None) -> tuple[Path, Path]:
    pagination: dict[str, Any] = {
        "type": "OFFSET",
        "limitName": "limit",
        "limitValue": limit,
        "offSetName": "offset",
    }
    if maximum is not None:
        pagination["maximumRequest"] = maximum
    folder = write_connector(
        tmp_path / "c",
        {
            "spec": {"type": "object", "properties": {"base": {"type": "string"}}, "required": ["base"]},
            "streams": {
                "users": {
                    "urlParams": {"host": "${base}", "path": "/users"},
                    "contentPath": {"path": "$.items", "overrideWrapperAttribute": ""},
                    "paginationParams": pagination,
                }
            },
        },
        streams=[{"name": "users", "primary_key": ["id"]}],
    )
    return folder, tmp_path / "config.json"


def read(folder: Path, config: Path, state: Path, out: Path, *extra: str) -> tuple[int, str]:
    proc = run_cdk(
        "read", "-C", str(folder), "--config", str(config), "--state", str(state), *extra, timeout=300
    )
    with out.open("ab") as f:  # `>> out.jsonl`
        f.write(proc.stdout)
    return proc.returncode, proc.stderr.decode()


def ids(out: Path) -> list[int]:
    return [json.loads(line)["data"]["id"] for line in out.read_text().splitlines()]


def test_the_cap_exits_4_with_the_checkpoint_and_the_second_run_reads_the_rest(
    tmp_path: Path, big_api: Any
) -> None:
    folder, config = connector(tmp_path, limit=100, maximum=100)
    config.write_text(json.dumps({"name": "t", "stream": "users", "base": big_api.url}))
    state, out = tmp_path / "state.json", tmp_path / "users.jsonl"
    code, err = read(folder, config, state, out)
    assert code == 4, err
    assert "stream 'users': stopped at maximumRequest=100 (100 requests, 10,000 records in this run)" in err
    assert "run the same command again" in err and "Traceback" not in err
    assert len(ids(out)) == 10_000
    saved = json.loads(state.read_text())["streams"]["users"]
    assert saved["status"] == "running" and saved["pagination"]["offset"] == 10_000
    code, err = read(folder, config, state, out)
    assert code == 0, err
    assert ids(out) == list(range(1, RECORDS + 1))  # nothing skipped, nothing twice
    assert json.loads(state.read_text())["streams"]["users"]["status"] == "done"


def test_allow_partial_exits_0_and_warns_and_keeps_the_resume_point(tmp_path: Path, big_api: Any) -> None:
    folder, config = connector(tmp_path, limit=1000, maximum=4)
    config.write_text(json.dumps({"name": "t", "stream": "users", "base": big_api.url}))
    state, out = tmp_path / "state.json", tmp_path / "users.jsonl"
    code, err = read(folder, config, state, out, "--allow-partial", "--quiet")
    assert code == 0, err
    assert (
        "warning: stream 'users': stopped at maximumRequest=4" in err and "accepted (--allow-partial)" in err
    )
    assert len(ids(out)) == 4000
    for _ in range(2):
        assert read(folder, config, state, out, "--allow-partial")[0] == 0
    assert ids(out) == list(range(1, RECORDS + 1))


def test_the_default_cap_of_10000_requests(tmp_path: Path, big_api: Any) -> None:
    """The issue's case: pages of 1 record, the specification's default maximumRequest of 10,000."""
    folder, config = connector(tmp_path, limit=1, maximum=None)
    config.write_text(json.dumps({"name": "t", "stream": "users", "base": big_api.url}))
    # 10,050 checkpoints, each fsync'ed: on tmpfs when the machine has one, so the test costs CPU, not disk waits
    shm = Path("/dev/shm")
    scratch = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    state, out = scratch / "state.json", scratch / "users.jsonl"
    code, err = read(folder, config, state, out, "--quiet")
    assert code == 4 and "maximumRequest=10000 (10,000 requests, 10,000 records in this run)" in err
    code, err = read(folder, config, state, out, "--quiet")
    assert code == 0, err
    try:
        assert ids(out) == list(range(1, RECORDS + 1))
    finally:
        if scratch != tmp_path:
            shutil.rmtree(scratch, ignore_errors=True)
