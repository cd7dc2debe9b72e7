"""`cdk run` with a source and a destination that are INSTALLED packages, found by their `cdk.connectors`
entry points: a tiny source and a tiny destination project are built into wheels, `pip install`ed into a
brand-new virtualenv, and `cdk run` runs with that virtualenv's python in a subprocess. `name==X.Y.Z` pins
the version; a mismatch is refused with an error that names both versions and the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cdk.publish.build import build_project
from tests.conftest import venv_seeing_this_env
from tests.pipelines.projects import file_destination, members_source

PIPELINE = """name: installed
source:
  name: {source}
  stream: memberships
  count: 10
destination:
  name: {destination}
  config:
    path: batches.jsonl
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(python of a fresh venv holding tiny-members 1.2.0 and tiny-files 0.3.1, a work folder)."""
    root = tmp_path_factory.mktemp("installed")
    projects = root / "projects"
    wheels = []
    for folder in (
        members_source(projects, name="tiny-members", version="1.2.0"),
        file_destination(
            projects, name="tiny-files", version="0.3.1", load="load:\n  max_batch_records: 4\n"
        ),
    ):
        built = build_project(folder, folder / "dist", isolation="none")
        assert built.wheel is not None
        wheels.append(built.wheel)
    python = venv_seeing_this_env(root / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index"]
        + [str(w) for w in wheels],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    probe = subprocess.run([sys.executable, "-c", "import tiny_members"], capture_output=True)
    assert probe.returncode != 0, "this environment must not see the installed connectors"
    work = root / "work"
    work.mkdir()
    return python, work


def _cdk_run(
    python: Path, work: Path, source: str, destination: str, *args: str
) -> subprocess.CompletedProcess:
    (work / "pipeline.yml").write_text(PIPELINE.format(source=source, destination=destination))
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(python), "-m", "cdk", "run", "pipeline.yml", "--ignore-checkpoint", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_installed_source_into_an_installed_destination(installed):
    python, work = installed
    (work / "batches.jsonl").unlink(missing_ok=True)
    result = _cdk_run(python, work, "tiny-members==1.2.0", "tiny-files", "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["source"] == "tiny-members 1.2.0" and summary["records"] == 20
    assert summary["streams"][0]["primary_key"] == ["org", "id"]  # from the installed connector.yaml
    batches = [json.loads(line) for line in (work / "batches.jsonl").read_text().splitlines()]
    assert [r for b in batches for r in b["ids"]] == [f"r1-{n}" for n in range(20)]
    assert [len(b["ids"]) for b in batches] == [4, 1, 4, 1, 4, 1, 4, 1]  # the installed load: wins over 7
    plan = _cdk_run(python, work, "tiny-members", "tiny-files==0.3.1", "--dry-run", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["plan"][0]["limits_from"] == {"max_batch_records": "connector.yaml load:"}


def test_a_pin_that_does_not_match_the_installed_version_is_refused(installed):
    python, work = installed
    (work / "batches.jsonl").unlink(missing_ok=True)
    wrong_source = _cdk_run(python, work, "tiny-members==1.3.0", "tiny-files")
    assert wrong_source.returncode == 1
    assert "installed connector tiny-members is version 1.2.0, not 1.3.0" in wrong_source.stderr
    assert "cdk install tiny-members==1.3.0" in wrong_source.stderr and "Traceback" not in wrong_source.stderr
    wrong_destination = _cdk_run(python, work, "tiny-members", "tiny-files==0.3.0")
    assert wrong_destination.returncode == 1
    assert "installed connector tiny-files is version 0.3.1, not 0.3.0" in wrong_destination.stderr
    assert not (work / "batches.jsonl").exists()  # refused before a record was read
    unknown = _cdk_run(python, work, "tiny-members", "tiny-filez")
    assert unknown.returncode == 1 and "destination.name 'tiny-filez'" in unknown.stderr
