"""Progress of `cdk run` on stderr, from real runs: per stream its records (of the total when the source's
get_total_records_count() knows it), pages and records/s, throttled; then a summary table, and the same
figures in the `--format json` summary."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cdk
from tests.guides import examples
from tests.guides.guide_api import GuideAPI

PIPELINE = """name: progress
source:
  name: rest
  streams: [users, orders]
  base_url: {url}
  page_size: 100
destination:
  name: jsonl
  config:
    path: out
"""

LINE = re.compile(
    r"^progress (\w+): ([\d,]+)(?:/([\d,]+) \((\d+)%\))? records, ([\d,]+) pages, [\d,]+ batches acknowledged, "
    r"([\d,]+) records/s$"
)


@pytest.fixture
def api():
    with GuideAPI({"users": 2400, "orders": 700}) as server:
        yield server


def _run(tmp_path: Path, api: GuideAPI, code: str, *args: str):
    (tmp_path / "my_source.py").write_text(code)
    (tmp_path / "pipeline.yml").write_text(PIPELINE.format(url=api.url))
    result = run_cdk(
        "run", "pipeline.yml", "--custom-source", "my_source.py", *args, cwd=tmp_path, timeout=180
    )
    err = result.stderr.decode()
    assert result.returncode == 0, err
    return result, err, [LINE.match(line) for line in err.splitlines() if line.startswith("progress ")]


def _n(text: str) -> int:
    return int(text.replace(",", ""))


def test_progress_lines_carry_totals_pages_and_rate_and_are_throttled(tmp_path, api):
    every, err, lines = _run(tmp_path, api, examples.FULL_REST, "--progress-every", "0")
    assert all(lines), err  # every progress line has the documented shape
    users = [m for m in lines if m and m[1] == "users"]
    orders = [m for m in lines if m and m[1] == "orders"]
    assert len(users) == 24 and len(orders) == 7  # --progress-every 0: one line per page, never per record
    assert [_n(m[2]) for m in users] == list(range(100, 2401, 100))
    assert {m[3] for m in users} == {"2,400"} and {m[3] for m in orders} == {"700"}  # the source's totals
    assert users[11][4] == "50" and users[-1][4] == "100" and _n(users[-1][5]) == 24
    assert all(_n(m[6]) > 0 for m in users)
    (tmp_path / "out").rename(tmp_path / "out-1")
    (tmp_path / ".cdk").rename(tmp_path / "state-1")
    throttled, err, lines = _run(tmp_path, api, examples.FULL_REST, "--progress-every", "60")
    assert sorted(m[1] for m in lines if m) == ["orders", "users"]  # the first page of each, then quiet
    assert len(lines) == 2


def test_the_summary_table_and_the_json_summary(tmp_path, api):
    result, err, _ = _run(tmp_path, api, examples.FULL_REST, "--format", "json")
    table = err[err.index("stream ") :].splitlines()
    assert table[0].split() == ["stream", "records", "of", "pages", "batches", "rec/s", "outcome"]
    rows = {line.split()[0]: line.split() for line in table[1:] if line and not line.startswith(" ")}
    assert rows["users"][1:5] == ["2,400", "2,400", "24", "24"] and rows["users"][6] == "complete"
    assert rows["orders"][1:4] == ["700", "700", "7"]
    assert rows["total"][1:4] == ["3,100", "3,100", "31"]
    summary = json.loads(result.stdout)
    by_stream = {s["stream"]: s for s in summary["streams"]}
    assert by_stream["users"]["total"] == 2400 and by_stream["users"]["pages"] == 24
    assert by_stream["users"]["records_per_second"] > 0
    totals = summary["totals"]
    assert totals["records"] == 3100 and totals["pages"] == 31 and totals["expected"] == 3100
    assert totals["records_per_second"] > 0 and totals["seconds"] > 0


def test_without_a_total_the_progress_says_records_only(tmp_path, api):
    code = examples.QUICKSTART  # its get_total_records_count() returns None
    _, err, lines = _run(tmp_path, api, code.replace("api_url", "base_url"), "--progress-every", "0")
    assert lines and all(m and m[3] is None for m in lines), err
    assert [line.split()[2] for line in err.splitlines() if line.startswith("users ")] == ["?"]
