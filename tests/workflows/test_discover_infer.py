"""`cdk discover --infer` / `--write` (issue 18): schemas proposed from recorded or live records, for any
source, and written into the schema files atomically, never over a hand-written one without --force.

The Python source is tests/fixtures/demo_source recorded against the demo API on 127.0.0.1 by a real
`cdk test --record`; every discover after that runs with the API stopped (offline, from the cassettes).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdk.testing.demo_api import DemoAPI, make_record
from cdk.workflows.discover import infer_schema, string_format
from tests.conftest import FIXTURES, run_cdk


def discover(*args: str, cwd: Path) -> tuple[int, Any, str]:
    result = run_cdk("discover", *args, cwd=cwd, timeout=120)
    out = result.stdout.decode()
    try:
        data = json.loads(out) if out.strip().startswith("{") else out
    except ValueError:
        data = out
    return result.returncode, data, result.stderr.decode()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """demo_source recorded with 25 records per stream; the API is stopped when the fixture returns."""
    conn = tmp_path_factory.mktemp("infer") / "demo"
    shutil.copytree(FIXTURES / "demo_source", conn, ignore=shutil.ignore_patterns("__pycache__"))
    with DemoAPI(25) as api:
        (conn / "secrets").mkdir()
        (conn / "secrets" / "config.json").write_text(json.dumps({"api_url": api.url, "page_size": 10}))
        rec = run_cdk("test", "--record", cwd=conn, timeout=300)
        assert rec.returncode == 0, rec.stdout.decode()[-3000:]
    return conn


def fresh_copy(recorded: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(recorded, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_infer_from_recordings_of_a_python_source_offline(recorded: Path, tmp_path: Path) -> None:
    conn = fresh_copy(recorded, tmp_path)
    code, out, err = discover("--infer", "--stream", "users", cwd=conn)
    assert code == 0, err
    (users,) = out["streams"]
    assert users["origin"] == "inferred from 25 recorded records (tests/cassettes/read-users.json)"
    assert users["records"] == 25
    schema = users["schema"]
    props = schema["properties"]
    assert props["id"] == {"type": "integer"}
    assert props["amount"] == {"type": "number"}  # 1.25, 2.5 ... and 5.0: integer widened to number
    assert props["updated_at"] == {"type": "string", "format": "date-time"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["address"]["properties"]["city"] == {"type": "string"}
    assert "required" not in schema and "required" not in props["address"]
    for i in range(1, 26):  # the proposal admits every recorded record
        jsonschema.validate(make_record("users", i), schema)

    code, text, err = discover("--infer", "--format", "text", cwd=conn)
    assert code == 0, err
    assert "users" in text and "orders" in text and "inferred from 25 recorded records" in text


def test_write_refuses_hand_written_schemas_then_force_writes_and_tests_still_pass(
    recorded: Path, tmp_path: Path
) -> None:
    conn = fresh_copy(recorded, tmp_path)
    users_file, orders_file = conn / "schemas" / "users.json", conn / "schemas" / "orders.json"
    before = users_file.read_bytes(), orders_file.read_bytes()

    code, _, err = discover("--infer", "--write", cwd=conn)
    assert code == 2
    assert "schemas/users.json, schemas/orders.json are hand-written" in err and "--force" in err
    assert (users_file.read_bytes(), orders_file.read_bytes()) == before  # nothing written

    # force the users schema from 5 records: a generated file that a later --write may replace
    code, out, err = discover("--infer", "--write", "--force", "--stream", "users", "--limit", "5", cwd=conn)
    assert code == 0, err
    assert "wrote schemas/users.json" in err and out["written"] == ["schemas/users.json"]
    five = users_file.read_bytes()
    written = json.loads(five)
    assert "[cdk-generated sha256=" in written["$comment"] and "5 recorded records" in written["$comment"]
    assert not list((conn / "schemas").glob(".*.tmp"))  # the temporary file was renamed, none is left

    # all or nothing: orders is still hand-written, so users (replaceable) is not rewritten either
    code, _, err = discover("--infer", "--write", cwd=conn)
    assert code == 2 and "schemas/orders.json is hand-written" in err
    assert users_file.read_bytes() == five

    # an unedited generated file is replaced without --force
    code, out, err = discover("--infer", "--write", "--stream", "users", cwd=conn)
    assert code == 0, err
    assert "25 recorded records" in json.loads(users_file.read_text())["$comment"]

    # edited by hand since: refused again
    edited = json.loads(users_file.read_text())
    edited["properties"]["id"]["description"] = "the user id"
    users_file.write_text(json.dumps(edited, indent=2))
    code, _, err = discover("--infer", "--write", "--stream", "users", cwd=conn)
    assert code == 2 and "schemas/users.json is hand-written" in err

    # the written schema is one the connector's own tests accept (validate + offline replay)
    code, out, err = discover("--infer", "--write", "--force", cwd=conn)
    assert code == 0, err
    assert sorted(out["written"]) == ["schemas/orders.json", "schemas/users.json"]
    assert run_cdk("validate", ".", cwd=conn).returncode == 0
    replay = run_cdk("test", cwd=conn, timeout=300)
    assert replay.returncode == 0, replay.stdout.decode()[-3000:]


@pytest.mark.parametrize("how", ["dotdot", "symlink"])
def test_write_never_writes_a_schema_file_outside_the_folder(
    recorded: Path, tmp_path: Path, how: str
) -> None:
    conn = fresh_copy(recorded, tmp_path)
    outside = tmp_path / "elsewhere" / "users.json"
    outside.parent.mkdir()
    outside.write_text('{"type": "object"}\n')
    if how == "dotdot":
        manifest = conn / "connector.yaml"
        manifest.write_text(
            manifest.read_text().replace("schema: schemas/users.json", "schema: ../elsewhere/users.json")
        )
    else:
        (conn / "schemas" / "users.json").unlink()
        (conn / "schemas" / "users.json").symlink_to(outside)
    orders_before = (conn / "schemas" / "orders.json").read_bytes()
    code, _, err = discover("--infer", "--write", "--force", cwd=conn)
    assert code == 2, err
    assert "outside the connector folder" in err and "nothing was written" in err
    assert outside.read_text() == '{"type": "object"}\n'
    assert (conn / "schemas" / "orders.json").read_bytes() == orders_before  # all or nothing


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda text: text[: len(text) // 2], "read-users.json"),
        (lambda text: "", "read-users.json"),
        (lambda text: "[1, 2]", "not a cassette"),
    ],
)
def test_infer_from_a_damaged_cassette_is_a_located_error(
    recorded: Path, tmp_path: Path, damage: Any, says: str
) -> None:
    conn = fresh_copy(recorded, tmp_path)
    cassette = conn / "tests" / "cassettes" / "read-users.json"
    cassette.write_text(damage(cassette.read_text()))
    code, _, err = discover("--infer", "--stream", "users", "--write", "--force", cwd=conn)
    assert code == 1 and says in err and "internal error" not in err, err
    assert "[cdk-generated" not in (conn / "schemas" / "users.json").read_text()


def nested(depth: int) -> dict[str, Any]:
    record: dict[str, Any] = {"id": 1, "updated_at": "2024-01-01T00:00:00Z"}
    node = record
    for _ in range(depth):
        node["n"] = {"s": "x", "l": [1]}
        node = node["n"]
    return record


@pytest.mark.parametrize("depth", [20, 40, 400])
def test_infer_admits_records_of_any_depth(depth: int) -> None:
    from cdk.workflows.discover import MAX_INFER_DEPTH

    record = nested(depth)
    schema = infer_schema([record, nested(3)])
    jsonschema.validate(record, schema)
    jsonschema.validate(nested(3), schema)
    node, level = schema, 0
    while "n" in node.get("properties", {}):
        node, level = node["properties"]["n"], level + 1
    # described to the record's depth, or to the limit and open below it
    assert level == min(depth, MAX_INFER_DEPTH)
    assert node == (
        {
            "type": "object",
            "properties": {"s": {"type": "string"}, "l": {"type": "array", "items": {"type": "integer"}}},
        }
        if depth < MAX_INFER_DEPTH
        else {}
    )


def test_write_from_a_recording_of_very_deep_records_gives_a_schema_validate_accepts(
    recorded: Path, tmp_path: Path
) -> None:
    conn = fresh_copy(recorded, tmp_path)
    cassette = conn / "tests" / "cassettes" / "read-users.json"
    data = json.loads(cassette.read_text())
    page = {"total": 1, "total_pages": 1, "next_cursor": None, "next": None, "items": [nested(400)]}
    data["interactions"][0]["response"]["body"] = {"lines": [json.dumps(page)]}
    data["interactions"] = data["interactions"][:1]
    cassette.write_text(json.dumps(data))
    code, out, err = discover("--infer", "--stream", "users", "--write", "--force", cwd=conn)
    assert code == 0, err
    assert out["streams"][0]["records"] == 1
    validate = run_cdk("validate", ".", cwd=conn)
    assert validate.returncode == 0, validate.stdout.decode()


def test_concurrent_writes_leave_one_whole_schema(recorded: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    conn = fresh_copy(recorded, tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cdk", "discover", "--infer", "--write", "--force", "--stream", "users"],
            cwd=conn,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    written = json.loads((conn / "schemas" / "users.json").read_text())
    assert "[cdk-generated sha256=" in written["$comment"]
    assert not list((conn / "schemas").glob(".*.tmp"))


def test_infer_live_reads_at_most_limit_records(tmp_path: Path) -> None:
    conn = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo_source", conn, ignore=shutil.ignore_patterns("__pycache__"))
    with DemoAPI(100) as api:
        cfg = tmp_path / "config.json"
        cfg.write_text(json.dumps({"api_url": api.url, "page_size": 10}))
        code, out, err = discover("--config", str(cfg), "--infer", "--limit", "15", "-s", "orders", cwd=conn)
        pages = api.count("/orders")
    assert code == 0, err
    (orders,) = out["streams"]
    assert orders["origin"] == "inferred from 15 live records" and orders["records"] == 15
    assert pages == 2  # two pages of 10, not the 10 pages of the stream


def test_infer_without_recordings_or_config_says_what_to_do(tmp_path: Path) -> None:
    conn = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo_source", conn, ignore=shutil.ignore_patterns("__pycache__"))
    code, _, err = discover("--infer", cwd=conn)
    assert code == 2
    assert "cdk test --record" in err and "--config" in err
    code, _, err = discover("--infer", "--stream", "nope", cwd=conn)
    assert code == 2 and "no stream 'nope'" in err
    code, _, err = discover("--write", cwd=conn)  # nothing proposed: nothing to write
    assert code == 2 and "nothing to write" in err


# -- the inference itself ------------------------------------------------------------------------------


def test_infer_schema_types_nullable_nested_arrays_and_formats() -> None:
    samples = [
        {"id": 1, "n": 1, "name": "a", "when": "2024-01-01T00:00:00Z", "day": "2024-02-29", "maybe": None,
         "mixed": "x", "obj": {"a": 1, "list": [{"k": "v"}]}, "tags": [], "odd": "2024-13-45"},
        {"id": 2, "n": 2.5, "name": None, "when": "2024-01-01T10:20:30.123+02:00", "day": "2024-03-01",
         "maybe": "2024-01-01T00:00:00Z", "mixed": 3, "obj": {"a": 2, "list": [{"k": "w", "x": True}]},
         "tags": ["t"], "odd": "2024-01-01"},
        {"id": 3, "n": 3, "when": "2024-06-30t23:59:59z", "day": "2024-12-31", "mixed": {"deep": 1},
         "obj": {"a": 3, "list": []}, "odd": "2024-01-02"},
    ]  # fmt: skip
    schema = infer_schema(samples)
    props = schema["properties"]
    assert "required" not in schema
    assert props["id"] == {"type": "integer"}
    assert props["n"] == {"type": "number"}
    assert props["name"] == {"type": ["null", "string"]}
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["day"] == {"type": "string", "format": "date"}
    assert props["maybe"] == {"type": ["null", "string"], "format": "date-time"}  # nullable date-time
    assert props["odd"] == {"type": "string"}  # 2024-13-45 is no date: no format for the field
    mixed = props["mixed"]["anyOf"]
    assert {"type": ["integer", "string"]} in mixed
    assert {"type": "object", "properties": {"deep": {"type": "integer"}}} in mixed
    inner = props["obj"]["properties"]["list"]
    assert inner["type"] == "array" and inner["items"]["properties"]["x"] == {"type": "boolean"}
    assert "required" not in inner["items"]
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    for s in samples:
        jsonschema.validate(s, schema)


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("2024-01-01T00:00:00Z", "date-time"),
        ("2024-01-01T00:00:00.5+05:30", "date-time"),
        ("2024-02-30T00:00:00Z", None),
        ("2024-01-01 00:00:00Z", None),  # RFC 3339 (and JSON Schema) need the T
        ("2024-01-01T00:00:00", None),  # no offset: not RFC 3339
        ("2024-01-01", "date"),
        ("2024-1-1", None),
        ("yesterday", None),
    ],
)
def test_string_format(value: str, fmt: str | None) -> None:
    assert string_format(value) == fmt


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01", "2024-02-30"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=4), JSON, max_size=4), min_size=1, max_size=4))
def test_every_sample_is_valid_against_what_is_inferred_from_it(samples: list[dict[str, Any]]) -> None:
    schema = infer_schema(samples)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for sample in samples:
        assert not list(validator.iter_errors(sample)), (sample, schema)
