"""The library layer: run_tests' structured results, the release rules behind a protocol, one gate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdk.errors import CdkError
from cdk.project import Project
from cdk.validators.release import check_release
from cdk.workflows.tests import run_tests
from tests.testing.conftest import copy_connector

OWN_TESTS = """
import pytest


def test_fine():
    assert 1 + 1 == 2


def test_wrong():
    assert 2 + 2 == 5, "arithmetic is broken"


def test_later():
    pytest.skip("not today")


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_needs_broken(broken):
    pass
"""


@pytest.fixture
def connector(tmp_path: Path) -> Path:
    conn = copy_connector(tmp_path / "conn")
    (conn / "tests").mkdir()
    (conn / "tests" / "test_own.py").write_text(OWN_TESTS)
    return conn


@pytest.fixture(autouse=True)
def _fast_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    # hypothesis (our dev dependency, not a connector's) costs seconds of plugin import per run
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")


def test_run_tests_reports_each_test_from_the_plugin_not_the_console(connector: Path) -> None:
    # -p no:terminal: pytest prints nothing at all, so the results can only come from --cdk-report
    report = run_tests(connector, pytest_args=["tests/test_own.py", "-p", "no:terminal"])
    outcomes = {t.id.rsplit("::", 1)[1]: t.outcome for t in report.tests}
    assert outcomes == {
        "test_fine": "passed",
        "test_wrong": "failed",
        "test_later": "skipped",
        "test_needs_broken": "error",
    }
    by_name = {t.id.rsplit("::", 1)[1]: t for t in report.tests}
    assert "arithmetic is broken" in by_name["test_wrong"].message
    assert "not today" in by_name["test_later"].message
    assert "fixture exploded" in by_name["test_needs_broken"].message
    assert by_name["test_fine"].message == "" and by_name["test_fine"].duration >= 0
    assert report.counts == {"passed": 1, "failed": 1, "skipped": 1, "error": 1}
    assert (report.pytest_exit_code, report.exit_code, report.ok) == (1, 1, False)
    assert [t.id for t in report.problems] == [
        "tests/test_own.py::test_wrong",
        "tests/test_own.py::test_needs_broken",
    ]
    data = report.as_dict()
    assert data["counts"]["failed"] == 1 and len(data["tests"]) == 4


def test_run_tests_hands_console_lines_to_a_callback_or_keeps_them(connector: Path) -> None:
    lines: list[str] = []
    shown = run_tests(connector, pytest_args=["tests/test_own.py::test_fine"], output=lines.append)
    assert shown.ok and shown.output == ""
    assert any("1 passed" in line for line in lines)
    kept = run_tests(connector, pytest_args=["tests/test_own.py::test_fine"])
    assert kept.ok and "1 passed" in kept.output
    assert [(t.id, t.outcome) for t in kept.tests] == [("tests/test_own.py::test_fine", "passed")]


def test_run_tests_maps_pytest_exit_codes(connector: Path) -> None:
    none = run_tests(connector, keyword="no_such_test", pytest_args=["tests/test_own.py"])
    assert none.no_tests_selected and none.exit_code == 1 and none.tests == []
    usage = run_tests(connector, pytest_args=["--no-such-pytest-option"])
    assert (usage.pytest_exit_code, usage.exit_code) == (4, 2)


def test_run_tests_refuses_what_cdk_test_refuses(tmp_path: Path, connector: Path) -> None:
    with pytest.raises(CdkError, match="no connector.yaml in"):
        run_tests(tmp_path)
    with pytest.raises(CdkError, match="--config is the real config for recording; it needs --record"):
        run_tests(connector, config_path=tmp_path / "c.json")
    with pytest.raises(CdkError, match="no stream 'nope' in connector.yaml"):
        run_tests(connector, streams=["nope"])


class FakeHistory:
    """A registry as the release rules see it, without any registry client."""

    display = "fake-registry"

    def __init__(self, versions: list[str] | Exception, diff: dict[str, Any] | None = None) -> None:
        self.versions, self.diff = versions, diff
        self.diffed: list[tuple[str, str]] = []

    def published_versions(self, dist: str) -> list[str]:
        if isinstance(self.versions, Exception):
            raise self.versions
        return self.versions

    def breaking_changes(
        self, dist: str, latest: str, project: Any, new_version: str
    ) -> dict[str, Any] | None:
        self.diffed.append((latest, new_version))
        return self.diff


def test_release_rules_take_the_registry_as_a_protocol(tmp_path: Path) -> None:
    project = Project.load(copy_connector(tmp_path / "conn"))  # version 0.1.0, dist demo-source
    assert check_release(project, FakeHistory([])) == []
    (same,) = check_release(project, FakeHistory(["0.0.9", "0.1.0"]))
    assert same.rule == "V001" and "0.1.0 is not greater than 0.1.0" in same.message
    assert "fake-registry" in same.message
    (down,) = check_release(project, FakeHistory(CdkError("connection refused")))
    assert down.rule == "V003" and "fake-registry: connection refused" in down.message
    older = FakeHistory(["0.0.9"])
    assert check_release(project, older) == [] and older.diffed == [("0.0.9", "0.1.0")]
    breaking = {
        "breaking_refused": True,
        "required_bump": "minor",
        "changes": [{"severity": "breaking", "where": "stream orders", "message": "removed"}],
    }
    (bump,) = check_release(project, FakeHistory(["0.0.9"], breaking))
    assert bump.rule == "V002" and "needs a minor bump over 0.0.9: stream orders: removed" in bump.message


def test_the_ci_build_stage_runs_the_publish_checks(tmp_path: Path) -> None:
    """cdk ci's build stage is the same build-and-check as cdk publish: a secret in the package fails it."""
    from cdk.workflows.gate import build_stage

    conn = copy_connector(tmp_path / "conn")
    (conn / "demo_source" / "debug.py").write_text('TOKEN = "ghp_' + "a1B2" * 9 + '"\n')
    stage = build_stage(str(conn), Project.load(conn))
    assert stage.status == "failed"
    assert "the artifacts contain secrets" in stage.summary
    assert any("GitHub token" in line for line in stage.details)
    assert not any("a1B2a1B2" in line for line in [stage.summary, *stage.details])


def test_cdk_help_imports_no_workflow() -> None:
    code = (
        "import sys\n"
        "from cdk.cli.main import cli\n"
        "try:\n"
        "    cli.main(['--help'], standalone_mode=False)\n"
        "finally:\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith(('cdk.workflows', 'cdk.publish', 'cdk.testing')))\n"
        "    print('LOADED', loaded, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={**os.environ}
    )
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stderr
