"""The guide's snippets test_run.py does not run: `sync_mode: incremental` of a single-file source, its
three other `get()` paginations, `force_ignore_checkpoint` — each with `cdk run config.yml --custom-source
./my_source.py` against the guide's imitation API, into SQLite."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.guides import examples
from tests.guides.guide_api import GuideAPI
from tests.pipelines.test_run import TOKEN, cdk_run, setup


@pytest.fixture
def api():
    with GuideAPI({"users": 250, "orders": 42}, api_key=TOKEN) as server:
        yield server


SQLITE = "  name: sql\n  config:\n    url: sqlite:///out.db\n"


def with_source_options(config: Path, options: str) -> None:
    config.write_text(config.read_text().replace("  page_size: 100\n", "  page_size: 100\n" + options))


def run_json(tmp_path: Path) -> dict:
    result = cdk_run(tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)["streams"][0]


def rows(tmp_path: Path) -> tuple[int, int]:
    return (
        sqlite3.connect(tmp_path / "out.db")
        .execute("select count(*), count(distinct id) from users")
        .fetchone()
    )


def state_of(tmp_path: Path) -> dict:
    return json.loads((tmp_path / ".cdk" / "state" / "my-custom-pipeline.json").read_text())["streams"][
        "users"
    ]


def test_incremental_single_file_source_reads_only_what_changed_since_the_last_sync(tmp_path, api):
    # the guide's get_records_after asks `updated_since=source_state.last_run`; its records carry no
    # timestamp and a single file has no cursor_field: last_run is when the last sync began
    config = setup(tmp_path, api, SQLITE, code=examples.INCREMENTAL)
    with_source_options(config, "  sync_mode: incremental\n")
    before = datetime.now(timezone.utc)
    first = run_json(tmp_path)
    assert first["records"] == 250 and first["completed"]
    last_run = datetime.fromisoformat(state_of(tmp_path)["incremental"]["last_run"])
    assert before <= last_run <= datetime.now(timezone.utc)
    api.requests.clear()
    second = run_json(tmp_path)
    # before: last_run stayed 1970-01-01 and every "incremental" run read all 250 records again
    assert second["records"] == 0 and second["completed"]
    asked = [r["query"]["updated_since"] for r in api.requests if r["path"] == "/users"]
    assert asked and datetime.fromisoformat(asked[0]) == last_run
    assert rows(tmp_path) == (250, 250)


def test_an_incremental_sync_resumed_over_several_runs_counts_from_its_first_run(tmp_path, api):
    config = setup(tmp_path, api, SQLITE, code=examples.INCREMENTAL)
    with_source_options(config, "  sync_mode: incremental\n  max_iterations: 1\n")
    before = datetime.now(timezone.utc)
    assert run_json(tmp_path)["stopped_by"] == "max_iterations=1"
    between = datetime.now(timezone.utc)
    assert run_json(tmp_path)["resumed_from"] == {"cursor": "c100"}
    last = run_json(tmp_path)
    assert last["completed"] and last["resumed_from"] == {"cursor": "c200"}
    assert rows(tmp_path) == (250, 250)
    # records updated while the sync was under way are asked for again next time
    assert before <= datetime.fromisoformat(state_of(tmp_path)["incremental"]["last_run"]) <= between
    assert run_json(tmp_path)["records"] == 0


@pytest.mark.parametrize("get", ["CURSOR_GET", "OFFSET_GET", "PAGE_GET"])
def test_the_guides_pagination_styles_load_every_record_once(tmp_path, api, get):
    setup(tmp_path, api, SQLITE, code=examples.REQUIRED_METHODS_HEAD + getattr(examples, get))
    for _ in range(2):
        stream = run_json(tmp_path)
        assert stream["records"] == 250 and stream["completed"]
    assert rows(tmp_path) == (250, 250)


def test_force_ignore_checkpoint_starts_every_run_at_the_first_page(tmp_path, api):
    config = setup(tmp_path, api, SQLITE)
    with_source_options(config, "  max_iterations: 1\n  force_ignore_checkpoint: true\n")
    for _ in range(2):
        stream = run_json(tmp_path)
        assert stream["records"] == 100 and stream["resumed_from"] is None
    assert rows(tmp_path) == (100, 100)  # ids 1..100 twice, upserted
    config.write_text(config.read_text().replace("  force_ignore_checkpoint: true\n", ""))  # without it:
    assert run_json(tmp_path)["resumed_from"] == {"page": 2}  # the next run resumes at page 2
