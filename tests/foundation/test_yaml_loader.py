"""The one YAML loader (cdk.yamlio) and safe file reads (cdk.fsutil): hostile and broken inputs end in a
located InputError (or ManifestError for connector.yaml), fast, never a hang, crash or silent surprise."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cdk.errors import InputError, ManifestError
from cdk.fsutil import parse_json, parse_python, parse_toml, read_input_text
from cdk.manifest import load_manifest
from cdk.yamlio import Limits, load_yaml, parse_yaml, read_yaml
from tests.conftest import run_cdk

BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
)

MANIFEST = """manifest_version: 1
name: dupes
version: 1.0.0
kind: source
capabilities: [batch_extract]
entrypoint: dupes.source:Source
streams:
  - name: items
    primary_key: [id]
"""


def _error(text: str, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        parse_yaml(text, "f.yaml", **kw)
    return info.value


def test_billion_laughs_is_refused_quickly_with_a_line():
    start = time.monotonic()
    exc = _error(BILLION_LAUGHS)
    assert time.monotonic() - start < 2
    assert "expands to more than" in exc.message and exc.problem is not None and exc.problem.line >= 2


def test_recursive_alias_is_refused():
    exc = _error("a: &a [1, *a]\n")
    assert exc.problem is not None and exc.problem.line == 1 and "contains it" in exc.message


def test_depth_limit_before_composing():
    exc = _error("[" * 100 + "]" * 100)
    assert "nesting" in _error("[" * 5000 + "]" * 5000).message  # libyaml's own limit, located too
    assert "nested deeper than 64" in exc.message
    assert load_yaml("[" * 60 + "]" * 60, "f.yaml") is not None


def test_a_few_aliases_are_fine():
    assert load_yaml("base: &b {x: 1}\nother: *b\n", "f.yaml") == {"base": {"x": 1}, "other": {"x": 1}}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first on line 1)"),
        ("x:\n  y: 1\n  y: 2\n", 3, "duplicate key 'y'"),
        ("a: 1\n<<: {b: 2}\n", 2, "merge keys (<<) are not supported"),
        ("? [a, b]\n: 1\n", 1, "a key must be a plain value"),
        ("? {a: 1}\n: 1\n", 1, "a key must be a plain value"),
        ("a: !foo bar\n", 1, "!foo"),
        ("a: !!python/object:os.system x\n", 1, "python/object"),
        ("a: !custom {b: 1}\n", 1, "unknown tag !custom"),
        ("a: !custom [1]\n", 1, "unknown tag !custom"),
        ("a: " + "9" * 5000 + "\n", 1, "cannot read this value"),
        ("a: [1\n", 2, "YAML syntax error"),
        ("a: 1\n---\nb: 2\n", 2, "another document"),
        ("a: \x07\n", 1, "not valid YAML"),
    ],
)
def test_refused_documents_are_located(text, line, words):
    exc = _error(text)
    assert words in exc.message
    assert exc.problem is not None and exc.problem.line == line and exc.problem.file == "f.yaml"


def test_size_limit():
    exc = _error("a: " + "x" * 200 + "\n", limits=Limits(max_bytes=100))
    assert "larger than 100 bytes" in exc.message


def test_duplicate_key_in_connector_yaml_is_a_located_manifest_error(tmp_path):
    (tmp_path / "connector.yaml").write_text(MANIFEST + "name: other\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    problem = info.value.problems[0]
    assert (problem.line, problem.column) == (
        10,
        0,
    ) and "duplicate key 'name' (first on line 2)" in problem.message
    proc = run_cdk("validate", str(tmp_path))
    assert proc.returncode == 1
    out = proc.stdout.decode() + proc.stderr.decode()
    assert "connector.yaml:10:1" in out and "duplicate key 'name'" in out and "Traceback" not in out


def test_billion_laughs_connector_yaml_through_validate(tmp_path):
    (tmp_path / "connector.yaml").write_text(
        MANIFEST + "x:\n" + "".join("  " + line + "\n" for line in BILLION_LAUGHS.splitlines())
    )
    proc = run_cdk("validate", str(tmp_path), timeout=30)
    assert proc.returncode == 1, proc.stderr.decode()
    assert "expands to more than" in proc.stdout.decode() + proc.stderr.decode()


def test_fifo_schema_path_does_not_hang_validate(tmp_path):
    (tmp_path / "connector.yaml").write_text(
        MANIFEST.replace("    primary_key: [id]\n", "    primary_key: [id]\n    schema: schemas/items.json\n")
    )
    (tmp_path / "schemas").mkdir()
    os.mkfifo(tmp_path / "schemas" / "items.json")
    proc = run_cdk("validate", str(tmp_path), "--format", "json", timeout=60)
    assert proc.returncode == 1, proc.stderr.decode()
    assert "is a fifo" in proc.stdout.decode() and "Traceback" not in proc.stderr.decode()


def test_fifo_connector_yaml_and_answers_file_are_refused(tmp_path):
    os.mkfifo(tmp_path / "connector.yaml")
    with pytest.raises(ManifestError, match="a FIFO; cdk reads regular files only"):
        load_manifest(tmp_path)
    os.mkfifo(tmp_path / "answers.yaml")
    proc = run_cdk("init", "--no-input", "--answers", "answers.yaml", "out", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and "a FIFO" in proc.stderr.decode()
    with pytest.raises(InputError, match="a folder"):
        read_yaml(tmp_path)


def test_not_utf8_is_located(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: 1\nb: \xff\xfe\n")
    with pytest.raises(InputError) as info:
        read_input_text(path)
    assert info.value.problem is not None and (info.value.problem.line, info.value.problem.column) == (2, 3)


def test_json_toml_python_failures_are_located_not_crashes():
    with pytest.raises(InputError, match="nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000, "s.json")
    with pytest.raises(InputError, match=r"s\.json:2:"):
        parse_json('{\n  "a": }', "s.json")
    with pytest.raises(InputError, match="not readable JSON"):
        parse_json("1" * 5000, "s.json")
    with pytest.raises(InputError, match="nested too deeply"):
        parse_toml("a = " + "[" * 100_000 + "]" * 100_000, "pyproject.toml")
    with pytest.raises(InputError, match=r"pyproject\.toml:2:"):
        parse_toml("[project]\nname = \n", "pyproject.toml")
    with pytest.raises(SyntaxError):
        parse_python("x = " + "-" * 100_000 + "1", "m.py")
    with pytest.raises(SyntaxError):
        parse_python("a\x00b", "m.py")
    with pytest.raises(SyntaxError, match="nested deeper than"):
        parse_python("x = a" + ".b" * 1000, "m.py")


def test_unreadable_python_file_is_a_finding_not_a_crash(tmp_path):
    from cdk.project import Project

    (tmp_path / "connector.yaml").write_text(MANIFEST)
    pkg = tmp_path / "dupes"
    pkg.mkdir()
    (pkg / "__init__.py").write_bytes(b"# \xff\n")
    (pkg / "source.py").write_text("x = " + "(" * 50 + "1" + ")" * 50 + " + " + "-" * 50_000 + "1\n")
    project = Project.load(tmp_path)
    assert isinstance(project.parse(pkg / "__init__.py"), SyntaxError)
    assert isinstance(project.parse(pkg / "source.py"), SyntaxError)
    proc = run_cdk("validate", str(tmp_path))
    assert proc.returncode == 1 and b"internal error" not in proc.stderr and b"Traceback" not in proc.stderr


def test_every_yaml_read_goes_through_the_one_loader():
    """No module of cdk calls PyYAML's loading functions itself (dumping is fine)."""
    import re

    import cdk

    root = Path(cdk.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "yamlio.py":
            continue
        text = path.read_text()
        for m in re.finditer(
            r"yaml\.(safe_load|load|full_load|unsafe_load|compose|parse|scan|load_all|safe_load_all)\(", text
        ):
            offenders.append(f"{path.relative_to(root)}: {m.group(0)}")
    assert offenders == []
