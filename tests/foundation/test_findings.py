"""One finding type: manifest problems, validate findings, declarative checks and the publish secret
scan all report a :class:`cdk.findings.Finding`, printed and serialised one way."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cdk import errors
from cdk.declarative import checks
from cdk.errors import ManifestError
from cdk.findings import JSON_FIELDS, Finding
from cdk.manifest import load_manifest
from cdk.publish.scan import scan_artifacts
from cdk.validators.engine import validate_project


def test_a_finding_prints_its_place_rule_and_message() -> None:
    ruled = Finding(rule="S001", file="src/a.py", line=3, column=0, message="import of os is blocked")
    assert str(ruled) == "src/a.py:3:1 S001 import of os is blocked"
    unruled = Finding(file="connector.yaml", line=5, column=0, message="unknown key 'capabilites'")
    assert str(unruled) == "connector.yaml:5:1: unknown key 'capabilites'"
    whole_file = Finding(file="pkg/.env", line=0, column=0, message="a secrets file", artifact="p-1.0.whl")
    assert str(whole_file) == "p-1.0.whl: pkg/.env: a secrets file"


def test_the_json_shape_has_the_reference_fields_only() -> None:
    finding = Finding(
        rule="M003", severity="warning", file="connector.yaml", line=2, column=4, message="m", key="kind"
    )
    assert list(finding.to_dict()) == list(JSON_FIELDS)
    assert finding.to_dict()["severity"] == "warning" and "key" not in finding.to_dict()


def test_fields_are_keyword_only_so_their_order_cannot_be_mixed_up() -> None:
    with pytest.raises(TypeError):
        Finding("S001", "error", "a.py", 1, 0, "m")  # type: ignore[misc]


def test_manifest_problems_are_findings_with_their_key(tmp_path: Path) -> None:
    (tmp_path / "connector.yaml").write_text(
        "manifest_version: 1\nname: n1\nversion: 1.0.0\nkind: source\ncapabilites: [batch_extract]\n"
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "connector.yaml")
    (problem,) = [p for p in info.value.problems if p.key == "capabilites"]
    assert type(problem) is Finding and (problem.line, problem.column) == (5, 0)
    assert problem.rule == "" and problem.severity == "error"


def test_validate_maps_manifest_problems_to_rules_in_the_same_type(tmp_path: Path) -> None:
    (tmp_path / "connector.yaml").write_text("manifest_version: 1\nname: n1\nkind: [source\n")
    report = validate_project(tmp_path)
    assert report.errors and all(type(f) is Finding and f.rule and f.suite for f in report.errors)


def test_secret_scan_findings_are_findings(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("demo/.env", "TOKEN=x")
        zf.writestr("demo/source.py", "KEY = 'AKIAABCDEFGHIJKLMNOP'\n")
    found = sorted(str(f) for f in scan_artifacts([wheel], root=tmp_path))
    assert found == [
        f"{wheel.name}: demo/.env: a secrets file that must not ship",
        f"{wheel.name}: demo/source.py: something that looks like a AWS access key",
    ]
    assert all(type(f) is Finding for f in scan_artifacts([wheel], root=tmp_path))


def test_old_names_are_the_one_type() -> None:
    """Kept only where a public module exposes them: cdk.errors.Problem, cdk.declarative.checks.SpecFinding."""
    assert errors.Problem is Finding and checks.SpecFinding is Finding
