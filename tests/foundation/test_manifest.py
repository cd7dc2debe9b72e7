"""connector.yaml: valid files load; every problem is located at file:line:col with the offending key."""

from __future__ import annotations

import pytest

from cdk.errors import ManifestError
from cdk.manifest import load_manifest
from tests.conftest import FIXTURES, invoke_cdk

GOOD = """\
manifest_version: 1
name: notion
version: 1.4.2
kind: source
capabilities: [batch_extract, incremental]
entrypoint: notion_connector.source:NotionSource
streams:
  - name: pages
    primary_key: [id]
    cursor_field: last_edited_time
allowed_hosts: [api.notion.com, "*.notion.so"]
"""


def load_text(tmp_path, text):
    path = tmp_path / "connector.yaml"
    path.write_text(text)
    return load_manifest(path)


def problems(tmp_path, text):
    with pytest.raises(ManifestError) as info:
        load_text(tmp_path, text)
    return info.value.problems


def test_good_manifest_loads(tmp_path):
    manifest, _ = load_text(tmp_path, GOOD)
    assert manifest.name == "notion" and manifest.stream("pages").cursor_field == "last_edited_time"
    for name in ("demo_source", "demo_destination", "simple_source", "ticker_stream"):
        load_manifest(FIXTURES / name)


def test_unknown_key_is_located_with_did_you_mean(tmp_path):
    text = GOOD.replace("    primary_key: [id]", "    primary_kye: [id]")
    (p,) = problems(tmp_path, text)
    assert (p.line, p.column) == (9, 4)
    assert "primary_kye" in p.message and "did you mean 'primary_key'" in p.message


def test_bad_values_are_located_on_the_value(tmp_path):
    text = GOOD.replace("name: notion", "name: Not ion").replace("version: 1.4.2", "version: v1.4")
    found = {p.key: p for p in problems(tmp_path, text)}
    assert (found["name"].line, found["name"].column) == (2, 6)
    assert "'Not ion'" in found["name"].message
    assert found["version"].line == 3 and "semantic version" in found["version"].message


def test_yaml_syntax_error_is_located(tmp_path):
    (p,) = problems(tmp_path, GOOD.replace("kind: source", "kind: [source"))
    assert p.line >= 4 and "YAML syntax error" in p.message


def test_semantic_rules(tmp_path):
    no_cursor = GOOD.replace("    cursor_field: last_edited_time\n", "")
    assert "cursor_field" in problems(tmp_path, no_cursor)[0].message
    wrong_kind = GOOD.replace("kind: source", "kind: destination")
    assert "do not fit kind" in problems(tmp_path, wrong_kind)[0].message
    bad_host = GOOD.replace("api.notion.com", "https://api.notion.com/v1")
    assert "not a host name" in problems(tmp_path, bad_host)[0].message


def test_cli_reports_manifest_problems_with_exit_1(tmp_path):
    (tmp_path / "connector.yaml").write_text(GOOD.replace("capabilities:", "capabilites:"))
    result = invoke_cdk("discover", "--connector", str(tmp_path))
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "connector.yaml:5:1: unknown key 'capabilites'" in err
    assert "Traceback" not in err


def test_missing_manifest_is_a_clear_error(tmp_path):
    result = invoke_cdk("spec", "--connector", str(tmp_path))
    assert result.returncode == 1
    assert b"no connector.yaml" in result.stderr and b"cdk init" in result.stderr
