"""`cdk validate` and `cdk rules` in-process (click's CliRunner): exit codes, formats, many connectors, policies.

The import-cost and cache tests below use a fresh interpreter, because that is what they measure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from validate_fixture import CONNECTOR_FILES

from tests.conftest import invoke_cdk

DATA = Path(__file__).parent / "data"
SOURCE = CONNECTOR_FILES["demo_connector/source.py"]
BAD_SOURCE = SOURCE.replace("from typing import Any, Literal", "import os\nfrom typing import Any, Literal")
OS_LINE = BAD_SOURCE.splitlines().index("import os") + 1
WARN_MANIFEST = CONNECTOR_FILES["connector.yaml"].replace("[batch_extract, incremental]", "[batch_extract]")


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`cdk ARGS` in-process (validate never imports connector code); CDK_POLICY only when given."""
    return invoke_cdk(*args, cwd=cwd, env={"CDK_POLICY": None, **(env or {})}, text=True)


def test_clean_connector_exits_0(make_connector, tmp_path: Path) -> None:
    make_connector()
    r = run(["validate", "demo"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 errors, 0 warnings in 1 connector; all passed" in r.stdout


def test_errors_exit_1_with_file_line_col_rule(make_connector, tmp_path: Path) -> None:
    make_connector(files={"demo_connector/source.py": BAD_SOURCE})
    r = run(["validate", "demo"], tmp_path)
    assert r.returncode == 1
    first = r.stdout.splitlines()[0]
    assert first.startswith(f"demo/demo_connector/source.py:{OS_LINE}:8 S001 import of 'os' is not allowed")


def test_json_has_the_seed_shape(make_connector, tmp_path: Path) -> None:
    make_connector(files={"demo_connector/source.py": BAD_SOURCE, "connector.yaml": WARN_MANIFEST})
    r = run(["validate", "demo", "--format", "json"], tmp_path)
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data["valid"] is False
    err = data["errors"][0]
    assert {"line", "column", "message", "severity", "rule", "file", "suite", "hint"} <= set(err)
    assert (err["line"], err["column"], err["rule"], err["severity"], err["suite"]) == (
        OS_LINE,
        7,
        "S001",
        "error",
        "security",
    )
    assert [w["rule"] for w in data["warnings"]] == ["A003"]


def test_strict_makes_warnings_fail(make_connector, tmp_path: Path) -> None:
    make_connector(files={"connector.yaml": WARN_MANIFEST})
    assert run(["validate", "demo"], tmp_path).returncode == 0
    r = run(["validate", "demo", "--strict"], tmp_path)
    assert r.returncode == 1 and "A003" in r.stdout


def test_sarif_validates_against_the_sarif_2_1_0_schema(make_connector, tmp_path: Path) -> None:
    from jsonschema import Draft7Validator

    make_connector(files={"demo_connector/source.py": BAD_SOURCE, "connector.yaml": WARN_MANIFEST})
    out = tmp_path / "report.sarif"
    r = run(["validate", "demo", "--format", "sarif", "--output", str(out)], tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    doc = json.loads(out.read_text())
    schema = json.loads((DATA / "sarif-schema-2.1.0.subset.json").read_text())
    Draft7Validator.check_schema(schema)
    errors = list(Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER).iter_errors(doc))
    assert errors == [], [e.message for e in errors]
    results = doc["runs"][0]["results"]
    s001 = next(x for x in results if x["ruleId"] == "S001")
    region = s001["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (OS_LINE, 8)
    assert s001["level"] == "error"
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[s001["ruleIndex"]]["id"] == "S001"
    assert next(x for x in results if x["ruleId"] == "A003")["level"] == "warning"


def test_sarif_schema_subset_rejects_a_broken_log() -> None:
    from jsonschema import Draft7Validator

    schema = json.loads((DATA / "sarif-schema-2.1.0.subset.json").read_text())
    broken = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [{"ruleId": "S001", "message": {"text": "m"}, "level": "fatal"}],
            }
        ],
    }
    assert list(Draft7Validator(schema).iter_errors(broken))


def test_junit_parses_back(make_connector, tmp_path: Path) -> None:
    make_connector(files={"demo_connector/source.py": BAD_SOURCE + "\nimport subprocess\n"})
    out = tmp_path / "junit.xml"
    r = run(["validate", "demo", "--format", "junit", "-o", str(out)], tmp_path)
    assert r.returncode == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "demo"
    failures = suite.findall("testcase/failure")
    assert sorted(f.get("type") for f in failures) == ["S001", "S013"]
    assert int(suite.get("failures")) == 2 == int(root.get("failures"))
    assert int(suite.get("tests")) == len(suite.findall("testcase"))
    names = {tc.get("name") for tc in suite.findall("testcase")}
    assert {"manifest", "dependencies", "packaging"} <= names  # passing suites are test cases too


def test_github_annotations(make_connector, tmp_path: Path) -> None:
    make_connector(files={"demo_connector/source.py": BAD_SOURCE})
    r = run(["validate", "demo", "--format", "github"], tmp_path)
    assert r.returncode == 1
    line = r.stdout.splitlines()[0]
    assert line.startswith(
        f"::error file=demo/demo_connector/source.py,line={OS_LINE},col=8,title=S001 security::"
    )


def test_many_connectors_in_parallel_by_glob_and_folder(make_connector, tmp_path: Path) -> None:
    base = tmp_path / "connectors"
    for i in range(4):
        make_connector(f"c{i}", base=base)
    make_connector("c4", files={"demo_connector/source.py": BAD_SOURCE}, base=base)
    r = run(["validate", "connectors/*", "--format", "json"], tmp_path)
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert [c["connector"] for c in data["connectors"]] == [f"connectors/c{i}" for i in range(5)]
    assert [c["valid"] for c in data["connectors"]] == [True] * 4 + [False]
    assert {e["file"] for e in data["errors"]} == {"connectors/c4/demo_connector/source.py"}
    r = run(["validate", "connectors", "-j", "2"], tmp_path)  # a folder of connectors
    assert r.returncode == 1 and "in 5 connectors" in r.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(["validate", "nothing-here/*"], tmp_path).returncode == 2
    assert run(["validate", "--format", "xml"], tmp_path).returncode == 2
    assert run(["validate", "--policy", "missing.toml"], tmp_path).returncode == 2


def test_policy_file_flag_and_env_and_profile(make_connector, tmp_path: Path) -> None:
    source = SOURCE.replace(
        "from typing import Any, Literal", "import requests\nfrom typing import Any, Literal"
    )
    make_connector(files={"demo_connector/source.py": source})
    assert run(["validate", "demo"], tmp_path).returncode == 1
    assert run(["validate", "demo", "--profile", "standard"], tmp_path).returncode == 0
    org = tmp_path / "org.toml"
    org.write_text('profile = "standard"\n[dependencies.allowed]\npython-dateutil = ">=2.9,<3"\n')
    r = run(["validate", "demo", "--policy", str(org)], tmp_path)
    assert r.returncode == 1 and "D003" in r.stdout and "S001" not in r.stdout
    r = run(["validate", "demo"], tmp_path, env={"CDK_POLICY": str(org)})
    assert r.returncode == 1 and "D003" in r.stdout


def test_connector_code_is_never_imported(make_connector, tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    source = SOURCE + f"\nopen({str(marker)!r}, 'w').write('ran')\n"
    make_connector(
        files={
            "demo_connector/source.py": source,
            "demo_connector/__init__.py": f"open({str(marker)!r}, 'w')\n",
        }
    )
    r = run(["validate", "demo"], tmp_path)
    assert r.returncode == 1 and "S004" in r.stdout
    assert not marker.exists()


def test_rules_list_and_explain(tmp_path: Path) -> None:
    r = run(["rules"], tmp_path)
    assert r.returncode == 0
    codes = [line.split()[0] for line in r.stdout.splitlines()]
    assert {"S001", "M001", "C001", "A001", "D003", "K001", "E001", "P005", "F001", "Y001", "L001"} <= set(
        codes
    )
    r = run(["rules", "s001"], tmp_path)
    assert r.returncode == 0
    assert "bad:" in r.stdout and "good:" in r.stdout and "import os" in r.stdout
    r = run(["rules", "S999"], tmp_path)
    assert r.returncode == 2 and "S999" in r.stderr


def test_help_lists_commands_without_importing_validators(tmp_path: Path) -> None:
    r = run(["--help"], tmp_path)
    assert "validate" in r.stdout and "rules" in r.stdout
    code = (
        "import sys, cdk.cli.main as m; m.cli.main(['--help'], standalone_mode=False); "
        "print(sorted(x for x in sys.modules if x.split('.')[0] in ('jsonschema', 'packaging') or x.startswith('cdk.validators')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_jsonschema_not_imported_when_no_schema_must_be_checked(make_connector, tmp_path: Path) -> None:
    manifest = (
        CONNECTOR_FILES["connector.yaml"]
        .replace("    schema: schemas/users.json\n", "")
        .replace("config:\n  class: demo_connector.source:DemoConfig\n  schema: schemas/config.json\n", "")
    )
    root = make_connector(files={"connector.yaml": manifest, "tests/config.json": None})
    code = (
        f"import sys; from cdk.validators.engine import validate_project; r = validate_project({str(root)!r}); "
        "print([f.rule for f in r.findings], 'jsonschema' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "[] False", out.stdout + out.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif", "github"])
def test_every_format_on_a_clean_connector(make_connector, tmp_path: Path, fmt: str) -> None:
    make_connector()
    r = run(["validate", "demo", "--format", fmt], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    if fmt == "json":
        assert json.loads(r.stdout)["valid"] is True
    if fmt == "sarif":
        assert json.loads(r.stdout)["runs"][0]["results"] == []


def test_second_run_answers_schema_checks_from_the_cache(make_connector, tmp_path: Path) -> None:
    users = CONNECTOR_FILES["schemas/users.json"].replace('"type": "object"', '"type": "objekt"')
    root = make_connector(
        files={
            "schemas/users.json": users,
            "tests/config.json": '{"page_size": "ten", "api_token": "CDK_ENV_T"}',
        }
    )
    code = (
        f"import sys; from cdk.validators.engine import validate_project; r = validate_project({str(root)!r}); "
        "print(sorted((f.rule, f.file, f.line, f.message) for f in r.findings)); print('jsonschema' in sys.modules)"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    f_lines, s_lines = first.stdout.splitlines(), second.stdout.splitlines()
    assert "M007" in f_lines[0] and "C009" in f_lines[0]
    assert (f_lines[0], f_lines[1], s_lines[0], s_lines[1]) == (s_lines[0], "True", f_lines[0], "False")
    no_cache = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "CDK_NO_CACHE": "1"},
    )
    assert no_cache.stdout.splitlines() == [f_lines[0], "True"]
