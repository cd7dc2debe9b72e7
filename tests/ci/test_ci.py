"""`cdk ci`: the merge gate over a monorepo, its reports, --changed-since, and the release rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import invoke_cdk, once_per_run


@pytest.fixture(scope="session")
def monorepo(tmp_path_factory):
    """A git repository with two generated connectors (cassettes recorded at init), committed; made once
    per run (see once_per_run): tests that change it work on a copy_repo."""

    def make(root):
        for name in ("alpha", "beta"):
            result = invoke_cdk(
                "init", str(root / "connectors" / name), "--no-input", "--set", f"name={name}"
            )
            assert result.returncode == 0, result.stderr
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "-A"],
            ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "connectors"],
        ):
            subprocess.run(["git", *args], cwd=root, check=True)

    return once_per_run(tmp_path_factory, "ci-monorepo", make)


def copy_repo(monorepo, tmp_path):
    dest = tmp_path / "repo"
    shutil.copytree(monorepo, dest)
    return dest


def test_green_monorepo_writes_combined_reports(monorepo, tmp_path):
    reports = tmp_path / "reports"
    result = invoke_cdk(
        "ci", "connectors/*", "--skip", "build", "--reports", str(reports), cwd=monorepo, timeout=600
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode()[-3000:]
    table = result.stdout.decode()
    assert "connectors/alpha" in table and "connectors/beta" in table
    suites = ET.parse(reports / "ci.junit.xml").getroot()
    assert suites.get("failures") == "0"
    assert {ts.get("name") for ts in suites} == {"connectors/alpha", "connectors/beta"}
    cases = {(ts.get("name"), tc.get("name")) for ts in suites for tc in ts}
    assert ("connectors/alpha", "test") in cases and ("connectors/beta", "validate") in cases
    sarif = json.loads((reports / "validate.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    assert (reports / "test-alpha.xml").is_file() and (reports / "test-beta.xml").is_file()
    summary = json.loads((reports / "ci.json").read_text())
    assert summary["ok"] is True
    assert {s["stage"]: s["status"] for s in summary["stages"] if s["connector"] == "connectors/alpha"} == {
        "validate": "passed",
        "test": "passed",
        "build": "skipped",
        "release": "skipped",
    }


def test_one_broken_connector_fails_the_gate_and_names_the_rule(monorepo, tmp_path):
    repo = copy_repo(monorepo, tmp_path)
    source = next((repo / "connectors" / "beta").glob("*/source.py"))
    text = source.read_text()
    source.write_text(text + "\nimport os\n")
    line = text.count("\n") + 2
    reports = tmp_path / "reports"
    result = invoke_cdk(
        "ci",
        "connectors",
        "--skip",
        "build",
        "--reports",
        str(reports),
        "--format",
        "json",
        cwd=repo,
        timeout=600,
    )
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    failed = [(s["connector"], s["stage"], s["rules"]) for s in summary["stages"] if s["status"] == "failed"]
    assert failed == [("connectors/beta", "validate", ["S001"])]
    sarif = json.loads((reports / "validate.sarif").read_text())
    (hit,) = sarif["runs"][0]["results"]
    assert hit["ruleId"] == "S001"
    assert hit["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    assert b"the merge gate failed: connectors/beta: validate [S001]" in result.stderr


def test_changed_since_checks_only_changed_connectors(monorepo, tmp_path):
    repo = copy_repo(monorepo, tmp_path)
    nothing = invoke_cdk("ci", "connectors/*", "--changed-since", "HEAD", cwd=repo)
    assert nothing.returncode == 0 and b"no connector changed since HEAD" in nothing.stderr
    readme = repo / "connectors" / "alpha" / "README.md"
    readme.write_text(readme.read_text() + "\nmore\n")
    result = invoke_cdk(
        "ci",
        "connectors/*",
        "--changed-since",
        "HEAD",
        "--skip",
        "build",
        "--skip",
        "test",
        "--format",
        "json",
        cwd=repo,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["connectors"] == ["connectors/alpha"]
    bad_ref = invoke_cdk("ci", "connectors/*", "--changed-since", "no-such-ref", cwd=repo)
    assert bad_ref.returncode == 2 and b"--changed-since needs" in bad_ref.stderr


def test_release_rule_against_the_folder_registry(monorepo, tmp_path):
    repo = copy_repo(monorepo, tmp_path)
    alpha = repo / "connectors" / "alpha"
    registry = tmp_path / "registry"
    env = {"CDK_HOME": str(tmp_path / "home")}
    published = invoke_cdk(
        "publish", "0.1.0", "--connector", str(alpha), "--repository", str(registry), env=env, timeout=600
    )
    assert published.returncode == 0, published.stderr.decode()[-2000:]
    same = invoke_cdk(
        "ci",
        str(alpha),
        "--repository",
        str(registry),
        "--skip",
        "build",
        "--skip",
        "test",
        "--format",
        "json",
        env=env,
    )
    assert same.returncode == 1
    (release,) = [s for s in json.loads(same.stdout)["stages"] if s["stage"] == "release"]
    assert release["status"] == "failed" and release["rules"] == ["V001"]
    assert "0.1.0 is not greater than 0.1.0" in release["summary"]


def test_ci_inside_a_connector_folder_with_build(monorepo, tmp_path):
    repo = copy_repo(monorepo, tmp_path)
    result = invoke_cdk("ci", cwd=repo / "connectors" / "alpha", timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr).decode()[-3000:]
    assert b"alpha: build ok" in result.stderr
