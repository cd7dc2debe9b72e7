"""A destination's batch limits in connector.yaml's `load:` section: validated and located like every other
section, applied by `cdk run` (the manifest wins over the class attributes, which still count where it is
silent), pages split to fit, and a record that cannot fit named by its id."""

from __future__ import annotations

import json
from pathlib import Path

from cdk.pipelines.destinations import record_bytes
from cdk.sdk.records import SourceRecord
from tests.conftest import run_cdk
from tests.pipelines.projects import file_destination, members_source

PIPELINE = """name: limits
source:
  name: ./members-source
  stream: {stream}
  count: 12
  page_size: 10
destination:
  name: ./file-destination
  config:
    path: batches.jsonl
"""


def _batches(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "batches.jsonl").read_text().splitlines()]


def _setup(tmp_path: Path, load: str, stream: str = "memberships") -> None:
    members_source(tmp_path)
    file_destination(tmp_path, load=load)
    (tmp_path / "pipeline.yml").write_text(PIPELINE.format(stream=stream))


def test_the_class_attributes_count_when_the_manifest_has_no_load_section(tmp_path):
    _setup(tmp_path, "")
    result = run_cdk("run", "pipeline.yml", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    sizes = [len(b["ids"]) for b in _batches(tmp_path)]
    assert sizes == [7, 3, 7, 3, 4]  # pages of 10, 10, 4 cut to FileDestination.max_batch_records = 7
    assert json.loads(result.stdout)["totals"]["batches"] == 5


def test_the_manifest_load_section_wins_over_the_class_and_is_in_the_plan(tmp_path):
    _setup(tmp_path, "load:\n  max_batch_records: 3\n")
    plan = run_cdk("run", "pipeline.yml", "--dry-run", "--format", "json", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr.decode()
    step = json.loads(plan.stdout)["plan"][0]
    assert step["max_batch_records"] == 3 and step["limits_from"] == {
        "max_batch_records": "connector.yaml load:"
    }
    text = run_cdk("run", "pipeline.yml", "--dry-run", cwd=tmp_path)
    assert "batches of at most 3 records" in text.stdout.decode()
    assert "max_batch_records from connector.yaml load:" in text.stdout.decode()
    result = run_cdk("run", "pipeline.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert [len(b["ids"]) for b in _batches(tmp_path)] == [3, 3, 3, 1, 3, 3, 3, 1, 3, 1]


def test_max_batch_bytes_of_the_manifest_splits_by_size(tmp_path):
    rows = [
        SourceRecord(id=f"r1-{n}", data={"org": org, "id": i, "role": "role 1"})
        for n, (org, i) in enumerate((o, i) for o in ("acme", "globex") for i in range(1, 13))
    ]  # what the source sends
    sizes = [len(record_bytes("memberships", r)) for r in rows]
    assert 3 * min(sizes) > 2 * max(sizes)  # so two records always fit in 2 * max and three never do
    _setup(tmp_path, f"load:\n  max_batch_records: 100\n  max_batch_bytes: {2 * max(sizes)}\n")
    result = run_cdk("run", "pipeline.yml", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    batches = _batches(tmp_path)
    assert [len(b["ids"]) for b in batches] == [2] * 12  # pages of 10, 10 and 4, each cut in pairs


def test_one_record_over_the_manifest_byte_limit_is_an_error_naming_it(tmp_path):
    _setup(tmp_path, "load:\n  max_batch_bytes: 40\n")
    result = run_cdk("run", "pipeline.yml", cwd=tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "record id 'r1-0'" in err and "max_batch_bytes=40" in err and "Traceback" not in err
    assert not (tmp_path / "batches.jsonl").exists()  # nothing of the page was written


def test_a_broken_load_section_is_located(tmp_path):
    _setup(tmp_path, "load:\n  max_batch_records: 0\n  max_batch_size: 10\n")
    result = run_cdk("validate", "file-destination", cwd=tmp_path)
    out = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1, out
    assert (
        "connector.yaml:9:" in out and "load.max_batch_records" in out and "greater than or equal to 1" in out
    )
    assert "connector.yaml:10:" in out and "unknown key 'max_batch_size'" in out
    assert "did you mean 'max_batch_records'?" in out or "did you mean 'max_batch_bytes'?" in out
    ran = run_cdk("run", "pipeline.yml", cwd=tmp_path)
    assert ran.returncode == 1 and "connector.yaml:9:" in ran.stderr.decode()


def test_a_load_section_on_a_source_is_refused_where_it_stands(tmp_path):
    folder = members_source(tmp_path)
    manifest = folder / "connector.yaml"
    manifest.write_text(manifest.read_text() + "load:\n  max_batch_records: 5\n")
    result = run_cdk("validate", "members-source", cwd=tmp_path)
    out = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1, out
    assert "connector.yaml:15:" in out and "this connector is kind 'source'" in out
