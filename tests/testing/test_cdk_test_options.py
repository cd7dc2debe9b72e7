"""`cdk test` options (issue 13 item 7): ours are checked, pytest's go after `--`, --format json prints
the structured report, JUnit classnames name the connector."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from cdk.testing.demo_api import DemoAPI
from tests.testing.conftest import copy_connector, run_cdk, write_json


def recorded(tmp_path: Path) -> Path:
    conn = copy_connector(tmp_path / "conn")
    with DemoAPI(25) as api:
        write_json(conn / "secrets" / "config.json", {"api_url": api.url, "page_size": 10})
        rec = run_cdk("test", "--record", cwd=conn)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    return conn


def test_options_json_report_and_junit_classnames(tmp_path: Path) -> None:
    conn = recorded(tmp_path)

    unknown = run_cdk("test", "--format", "json", "--verbose-ish", cwd=conn)
    assert unknown.returncode == 2, unknown.stdout + unknown.stderr
    assert "no such option: --verbose-ish" in unknown.stderr
    assert "`cdk test -- --verbose-ish`" in unknown.stderr  # says where pytest's options go
    assert "unrecognized arguments" not in unknown.stderr  # refused by cdk, not by pytest

    passed_on = run_cdk("test", "--", "-rA", "--tb=line", cwd=conn)  # pytest's options after --
    assert passed_on.returncode == 0, passed_on.stdout + passed_on.stderr
    assert "PASSED connector.yaml::check" in passed_on.stdout

    as_json = run_cdk("test", "--format", "json", cwd=conn)
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    report = json.loads(as_json.stdout)  # the report alone: no pytest output mixed in
    assert report["ok"] is True and report["exit_code"] == 0 and report["record"] == "none"
    ids = {t["id"]: t["outcome"] for t in report["tests"]}
    assert ids["connector.yaml::check"] == "passed"
    assert ids["connector.yaml::errors[429-retry-after]"] == "passed"
    assert report["counts"]["passed"] == len(report["tests"]) >= 10

    (conn / "tests" / "cassettes" / "check.json").unlink()
    failing = run_cdk("test", "--format", "json", "--junit-xml", str(tmp_path / "junit.xml"), cwd=conn)
    assert failing.returncode == 1
    report = json.loads(failing.stdout)
    check = next(t for t in report["tests"] if t["id"] == "connector.yaml::check")
    assert check["outcome"] == "failed" and "cdk test --record" in check["message"]

    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    classnames = {case.get("classname") for case in cases}
    assert classnames == {"demo-source.connector.yaml"}, classnames
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "demo-source"
