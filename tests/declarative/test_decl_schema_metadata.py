"""Issue 18: a declarative stream's schema from the API's field metadata (schemaParams), through
`cdk discover --config`, against a local Mailchimp imitation whose merge-fields endpoint needs Basic auth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from decl_helpers import write_connector

from cdk.declarative.checks import validate_declarative
from cdk.project import Project
from tests.conftest import run_cdk

KEY = "secret-key-us21"
MERGE = {
    "path": "/3.0/lists/${listId}/merge-fields",
    "queryParams": {"count": 1000},
    "fieldsPath": "$.merge_fields",
    "nameKey": "tag",
    "typeKey": "type",
    "descriptionKey": "name",
    "nullableKey": "nillable",
    "target": "member.merge_fields",
    # Mailchimp sends "" for an empty address
    "typeMap": {"address": {"type": ["object", "string"]}},
}


def connector(
    tmp_path: Path, url: str, schema_params: dict[str, Any], hosts: list[str] | None = None
) -> Path:
    folder = write_connector(
        tmp_path / "mc",
        {
            "spec": {"type": "object", "properties": {"listId": {"type": "string"}}, "required": ["listId"]},
            "streams": {
                "members": {
                    "urlParams": {"host": url, "path": "/3.0/lists/${listId}/members", "method": "GET"},
                    "contentPath": {
                        "path": "$.members",
                        "skipAttributes": ["_links", "total_items", "list_id"],
                        "overrideWrapperAttribute": "member",
                    },
                    "paginationParams": {
                        "type": "OFFSET",
                        "limitName": "count",
                        "limitValue": "100",
                        "offSetName": "offset",
                    },
                    "schemaParams": schema_params,
                }
            },
        },
        streams=[{"name": "members", "primary_key": ["member.id"], "schema": "schemas/members.json"}],
        allowed_hosts=hosts,
    )
    (folder / "schemas").mkdir()
    base = {
        "type": "object",
        "properties": {"member": {"type": "object", "properties": {"id": {"type": "string"}}}},
    }
    (folder / "schemas" / "members.json").write_text(json.dumps(base))
    (folder / "config.json").write_text(
        json.dumps(
            {
                "name": "mc",
                "listId": "L7",
                "authentication": {"type": "basic", "params": {"username": "x", "password": KEY}},
            }
        )
    )
    return folder


def discover(folder: Path, *args: str) -> tuple[int, Any, str]:
    result = run_cdk("discover", "--config", "config.json", *args, cwd=folder)
    out = result.stdout.decode()
    return result.returncode, json.loads(out) if out.startswith("{") else out, result.stderr.decode()


def test_discover_returns_the_fields_of_the_metadata_endpoint(tmp_path: Path, fake: Any) -> None:
    fake.mailchimp_key = KEY
    fake.merge_fields = [*fake.merge_fields, {"tag": "HOLO", "name": "Hologram", "type": "hologram"}]
    fake.merge_fields[3] = {**fake.merge_fields[3], "nillable": False}  # SIGNUP: never null
    folder = connector(tmp_path, fake.url, MERGE)
    code, out, err = discover(folder)
    assert code == 0, err
    (members,) = out["streams"]
    assert members["origin"] == "metadata endpoint GET /3.0/lists/${listId}/merge-fields"
    member = members["schema"]["properties"]["member"]
    assert member["properties"]["id"] == {"type": "string"}  # the manifest's schema is kept
    fields = member["properties"]["merge_fields"]["properties"]
    assert fields["FNAME"] == {"type": ["string", "null"], "description": "First Name"}
    assert fields["AGE"] == {"type": ["number", "null"], "description": "Age"}
    assert fields["ADDRESS"]["type"] == ["object", "string", "null"]  # the stream's typeMap wins
    assert fields["SIGNUP"] == {"type": "string", "format": "date", "description": "Signed up"}
    # an unknown API type: a string, said in the schema and on stderr
    assert fields["HOLO"]["type"] == ["string", "null"]
    assert "'hologram' is not known" in fields["HOLO"]["description"]
    assert "field 'HOLO' has API type 'hologram'" in err and "typeMap" in err
    # one request, through the session: placeholders filled, the endpoint's query, the config's auth
    (request,) = [r for r in fake.requests if r["path"].endswith("/merge-fields")]
    assert request["path"] == "/3.0/lists/L7/merge-fields" and request["query"] == "count=1000"
    assert request["headers"]["Authorization"].startswith("Basic ")

    # written into the schema file, then the records of a real read validate against it
    code, out, err = discover(folder, "--write", "--force")
    assert code == 0 and out["written"] == ["schemas/members.json"], err
    schema = json.loads((folder / "schemas" / "members.json").read_text())
    read = run_cdk("read", "--config", "config.json", "--max-records", "30", cwd=folder)
    assert read.returncode == 0, read.stderr
    rows = [json.loads(line) for line in read.stdout.splitlines()]
    assert len(rows) == 30
    for row in rows:
        jsonschema.validate(row["data"], schema)


def test_default_target_is_the_wrapped_item(tmp_path: Path, fake: Any) -> None:
    params = {k: v for k, v in MERGE.items() if k != "target"}
    code, out, err = discover(connector(tmp_path, fake.url, params))
    assert code == 0, err
    assert "FNAME" in out["streams"][0]["schema"]["properties"]["member"]["properties"]


def test_metadata_request_goes_through_the_egress_guard(tmp_path: Path, fake: Any) -> None:
    port = fake.url.rsplit(":", 1)[1]
    folder = connector(tmp_path, fake.url, {**MERGE, "host": f"http://localhost:{port}"}, hosts=["127.0.0.1"])
    code, _, err = discover(folder)
    assert code != 0
    assert "localhost" in err and "allowed_hosts" in err and "Traceback" not in err
    assert not [r for r in fake.requests if r["path"].endswith("/merge-fields")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"path": "/3.0/lists/${listId}/nothing"}, "metadata endpoint GET"),
        ({"fieldsPath": "$.fields"}, "no field entries at schemaParams.fieldsPath $.fields"),
        ({"nameKey": "label"}, "has no string 'label' (schemaParams.nameKey)"),
    ],
)
def test_broken_metadata_is_a_clear_error(
    tmp_path: Path, fake: Any, change: dict[str, Any], message: str
) -> None:
    code, _, err = discover(connector(tmp_path, fake.url, {**MERGE, **change}))
    assert code != 0 and message in err and "Traceback" not in err, err


def test_validator_checks_schema_params(tmp_path: Path) -> None:
    folder = connector(
        tmp_path,
        "http://127.0.0.1:1",
        {**MERGE, "path": "/3.0/lists/${nope}/merge-fields", "fieldsPath": "$[?bad"},
    )
    rules = {(f.rule, f.message.split(":")[0]) for f in validate_declarative(Project.load(folder))}
    assert ("R003", "schemaParams.fieldsPath") in rules
    assert ("R004", "schemaParams.path") in rules
    folder2 = connector(tmp_path / "2", "http://127.0.0.1:1", {**MERGE, "typeMap": {"x": "strng"}})
    findings = validate_declarative(Project.load(folder2))
    assert [f.rule for f in findings] == ["R001"] and "typeMap values must be JSON Schema types" in findings[
        0
    ].message
