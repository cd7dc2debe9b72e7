"""`cdk import source-spec` against hostile input: names that would escape the folder or break the package,
folders that already hold a project, JSON a connector cannot keep, and a SIGKILL in the middle of a write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import invoke_cdk

BASE = {
    "urlParams": {"host": "https://api.example.com", "path": "/v1/items"},
    "contentPath": {"path": "$.items"},
}


def spec_file(folder: Path, attributes: dict[str, Any] | None = None, **doc: Any) -> Path:
    src = folder / "spec.json"
    src.write_text(json.dumps({"sourceSpec": {"attributes": attributes or BASE, **doc}}), encoding="utf-8")
    return src


def imp(*args: str, cwd: Path | None = None) -> Any:
    return invoke_cdk("import", "source-spec", *args, cwd=cwd, text=True)


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--stream", "../../escaped", "stream name '../../escaped' is not valid"),
        ("--stream", "/abs/olute", "stream name '/abs/olute' is not valid"),
        ("--stream", "s" * 300, "at most 128 characters"),
        ("--stream", "mémbres", "stream name 'mémbres' is not valid"),
        ("--stream", "1st", "stream name '1st' is not valid"),
        ("--name", "../../pkg", "connector name '../../pkg' (--name) is not valid"),
        ("--name", "class", "its package 'class' would be a Python keyword"),
        ("--name", "json", "its package 'json' would shadow the module of that name"),
        ("--name", "tests", "its package 'tests' would shadow the module of that name"),
    ],
)
def test_a_bad_name_is_refused_before_anything_is_written(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    src = spec_file(tmp_path)
    before = tree(tmp_path)
    result = imp(str(src), "--out", str(work / "out"), option, value)
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert "internal error" not in result.stderr
    assert tree(tmp_path) == before  # no folder, no schemas/../../escaped.json, no ../../pkg/__init__.py


def test_a_stream_name_from_content_path_that_is_no_file_name_asks_for_stream(tmp_path: Path) -> None:
    src = spec_file(tmp_path, {**BASE, "contentPath": {"path": "$['a/../../b']"}})
    result = imp(str(src), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "stream name 'a/../../b' is not valid" in result.stderr and "--stream NAME" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "b.json").exists()
    ok = imp(str(src), "--out", str(tmp_path / "out"), "--stream", "b")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "out" / "schemas" / "b.json").is_file()


def test_an_existing_project_folder_is_not_overwritten_without_force(tmp_path: Path) -> None:
    src = spec_file(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "mine"\n')
    (project / ".gitignore").write_text("mine\n")
    (project / "README.md").write_text("keep me\n")
    result = imp(str(src), "--out", str(project))
    assert result.returncode == 2
    assert "already holds pyproject.toml, .gitignore; nothing was written" in result.stderr
    assert tree(project) == {"pyproject.toml", ".gitignore", "README.md"}
    assert (project / "pyproject.toml").read_text() == '[project]\nname = "mine"\n'
    # a folder holding none of the files is written into; --force replaces what is there
    forced = imp(str(src), "--out", str(project), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "cdk.connectors" in (project / "pyproject.toml").read_text()
    assert (project / "README.md").read_text() == "keep me\n"
    assert invoke_cdk("validate", str(project), text=True).returncode == 0


def test_out_that_is_a_file_or_a_broken_symlink_is_a_usage_error(tmp_path: Path) -> None:
    src = spec_file(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for out in ("afile", "dangling"):
        result = imp(str(src), "--out", str(tmp_path / out))
        assert result.returncode == 2 and "internal error" not in result.stderr, result.stderr
    assert not (tmp_path / "nowhere").exists()


KILL_AFTER = """
import os, signal, sys
import cdk.fsutil as fsutil
n = int(sys.argv[1]); seen = [0]; real = fsutil.atomic_write_bytes
def write(path, data, **kw):
    seen[0] += 1
    if seen[0] > n:
        os.kill(os.getpid(), signal.SIGKILL)
    real(path, data, **kw)
fsutil.atomic_write_bytes = write
from cdk.cli.main import main
sys.argv = ["cdk", "import", "source-spec", sys.argv[2], "--out", sys.argv[3]]
main()
"""


@pytest.mark.parametrize("writes", [0, 1, 3, 7])
def test_a_sigkill_mid_import_leaves_no_half_written_folder(tmp_path: Path, writes: int) -> None:
    src = spec_file(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER, str(writes), str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not out.exists()  # the folder appears whole or not at all
    done = subprocess.run(
        [sys.executable, "-m", "cdk", "import", "source-spec", str(src), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert {"connector.yaml", "pyproject.toml", "spec/__init__.py"} <= tree(out)


@pytest.mark.parametrize(
    ("text", "line", "col", "says"),
    [
        (
            '{"sourceSpec": {"attributes": {\n"urlParams": {"host": "https://a.com"},\n'
            '"contentPath": {"path": "$.a", "path": "$.b"}}}}',
            3,
            '"contentPath": {"path": "$.a", '.__len__() + 1,
            "the key 'path' appears twice in one object",
        ),
        (
            "{sourceSpec: {attributes: {\nurlParams: {host: 'https://a.com',},\ncontentPath: {path: '$.a'},\n"
            "contentPath: {path: '$.b'}}}}",
            4,
            1,
            "the key 'contentPath' appears twice in one object",
        ),
        (
            '{"sourceSpec": {"attributes": {\n"urlParams": {"host": "https://a.com"},\n"contentPath": {"path": "$.a"},\n'
            '"paginationParams": {"type": "OFFSET", "limitName": "n", "limitValue": 5, "offSetName": "o", '
            '"endConditionName": "$.done", "endConditionValue": NaN}}}}',
            4,
            '"paginationParams": {"type": "OFFSET", "limitName": "n", "limitValue": 5, "offSetName": "o", '
            '"endConditionName": "$.done", "endConditionValue": '.__len__()
            + 1,
            "NaN is not a number a connector can hold",
        ),
        (
            "{sourceSpec: {attributes: {urlParams: {host: 'https://a.com'}, contentPath: {path: '$.a'},},\n"
            "spec: {type: 'object', properties: {x: {type: 'number', default: -Infinity}}}}}",
            2,
            "spec: {type: 'object', properties: {x: {type: 'number', default: ".__len__() + 1,
            "-Infinity is not a number a connector can hold",
        ),
    ],
)
def test_duplicate_keys_and_nan_are_refused_at_their_line(
    tmp_path: Path, text: str, line: int, col: int, says: str
) -> None:
    src = tmp_path / "spec.json"
    src.write_text(text)
    result = imp(str(src), "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    assert f"{src}:{line}:{col}: {says}" in result.stderr
    assert not (tmp_path / "out").exists()


def test_json5_hex_numbers_and_unquoted_keys_are_read_with_a_warning(tmp_path: Path) -> None:
    src = tmp_path / "spec.json"
    src.write_text(
        "{sourceSpec: {attributes: {urlParams: {host: 'https://a.com', path: '/x'}, contentPath: {path: '$.a'},\n"
        "paginationParams: {type: 'OFFSET', limitName: 'n', limitValue: 0x10, offSetName: 'o', maximumRequest: +5}}}}"
    )
    result = imp(str(src), "--out", str(tmp_path / "out"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["warnings"] == [
        f"{src}:1:2: not strict JSON: syntax JSON does not allow (JSON5) (read as JSON5; the first such "
        "construct is here, there may be more)"
    ]
    manifest = yaml.safe_load((tmp_path / "out" / "connector.yaml").read_text())
    pagination = manifest["declarative"]["streams"]["a"]["paginationParams"]
    assert pagination["limitValue"] == 16 and pagination["maximumRequest"] == 5


@pytest.mark.parametrize(
    "doc",
    [
        {"sourceSpec": {"attributes": BASE, "spec": {"type": "object", "properties": [1, 2]}}},
        {"sourceSpec": {"attributes": BASE, "spec": {"type": "object", "properties": {}, "required": "a"}}},
        {"sourceSpec": {"attributes": {**BASE, "contentPath": {"path": "$[?(@.x"}}}},
    ],
)
def test_a_malformed_spec_is_an_error_naming_it(tmp_path: Path, doc: dict[str, Any]) -> None:
    src = tmp_path / "spec.json"
    src.write_text(json.dumps(doc))
    result = imp(str(src), "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr and f"{src}:" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "doc",
    [
        {"authSpec": [{"type": "Basic", "spec": {"properties": [1]}}], "sourceSpec": {"attributes": BASE}},
        {
            "authSpec": [
                {"type": {"x": 1}, "spec": {"properties": {"password": {}, "domain": {}}, "required": 5}}
            ],
            "sourceSpec": {"attributes": BASE},
        },
        {"sourceSpec": {"attributes": {**BASE, "uiAttributes": [1]}}},
        {"sourceSpec": {"attributes": {**BASE, "uiAttributes": {"label": [1], "isBeta": "no"}}}},
        {"sourceSpec": {"attributes": {**BASE, "urlParams": {"host": "https://{a b}.x.com"}}}},
    ],
)
def test_odd_but_ignorable_parts_still_import(tmp_path: Path, doc: dict[str, Any]) -> None:
    src = tmp_path / "spec.json"
    src.write_text(json.dumps(doc))
    result = imp(str(src), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "connector.yaml").is_file()


_ODD = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40).filter(
    lambda t: "\x00" not in t
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=_ODD, header=_ODD)
def test_set_values_round_trip_exactly_through_connector_yaml(
    tmp_path_factory: pytest.TempPathFactory, path: str, header: str
) -> None:
    from tests.declarative.test_decl_seed_examples import E

    folder = tmp_path_factory.mktemp("set")
    src = folder / "generic.json"
    src.write_text(E["E01"][2])
    result = imp(
        str(src),
        "--out",
        str(folder / "out"),
        "--set",
        "urlParams.host=https://api.example.com",
        "--set",
        f"urlParams.path={path}",
        "--set",
        "contentPath.path=$.items",
        "--set",
        f"headerParams.X-Odd={header}",
    )
    assert result.returncode == 0, result.stderr
    from cdk.project import Project

    params = Project.load(folder / "out").manifest.declarative["streams"]["items"]  # type: ignore[index]
    assert params["urlParams"]["path"] == path and params["headerParams"]["X-Odd"] == header


@pytest.mark.parametrize(
    "value", ["a: b # c", "{a", "*anchor", "!!python/object/apply:os.system ['id']", "line1\nline2", "x\x85y"]
)
def test_yaml_special_set_values_are_kept_as_text(tmp_path: Path, value: str) -> None:
    from tests.declarative.test_decl_seed_examples import E

    src = tmp_path / "generic.json"
    src.write_text(E["E01"][2])
    result = imp(
        str(src),
        "--out",
        str(tmp_path / "out"),
        "--set",
        "urlParams.host=https://api.example.com",
        "--set",
        f"urlParams.path=/v1/{value}",
        "--set",
        "contentPath.path=$.items",
    )
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load((tmp_path / "out" / "connector.yaml").read_text())
    assert manifest["declarative"]["streams"]["items"]["urlParams"]["path"] == f"/v1/{value}"


def test_set_json_values_refuse_nan(tmp_path: Path) -> None:
    from tests.declarative.test_decl_seed_examples import E

    src = tmp_path / "generic.json"
    src.write_text(E["E01"][2])
    result = imp(
        str(src),
        "--out",
        str(tmp_path / "out"),
        "--set",
        "urlParams.host=https://api.example.com",
        "--set",
        "contentPath.path=$.items",
        "--set",
        "contentPath.skipAttributes=[NaN]",
    )
    assert result.returncode == 2 and "not a JSON array" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_a_set_value_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    from tests.declarative.test_decl_seed_examples import E

    src = tmp_path / "generic.json"
    src.write_text(E["E01"][2])
    args = [sys.executable, "-m", "cdk", "import", "source-spec", str(src), "--out", str(tmp_path / "out")]
    sets = [b"urlParams.host=https://a.com", b"contentPath.path=$.a", b"urlParams.path=/x\xff"]
    argv = [os.fsencode(a) for a in args] + [part for s in sets for part in (b"--set", s)]
    result = subprocess.run(argv, capture_output=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert b"--set urlParams.path: the value is not UTF-8 text" in result.stderr
    assert not (tmp_path / "out").exists()
