"""`cdk import source-spec` (in-process) then `cdk read` (a real subprocess), against a Mailchimp-shaped local server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import invoke_cdk

DATA = Path(__file__).parent / "data"
SEED = DATA / "mailchimp_members_seed.txt"


def cdk(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`cdk ARGS`: `cdk import` in-process (it only writes files); read/discover as real subprocesses."""
    if args[0] == "import":
        return invoke_cdk(*args, cwd=cwd, text=True)
    return subprocess.run(
        [sys.executable, "-m", "cdk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**__import__("os").environ, "NO_COLOR": "1"},
    )


def test_seed_mailchimp_members_imports_and_reads_from_a_local_mailchimp(tmp_path: Path, fake: Any) -> None:
    out = tmp_path / "mailchimp"
    result = cdk(
        "import",
        "source-spec",
        str(SEED),
        "--out",
        str(out),
        "--name",
        "mailchimp-members",
        "--primary-key",
        "member.id",
        "--cursor-field",
        "member.last_changed",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stream"] == "members"
    assert "config field 'domain' added: the request uses it as a placeholder" in report["notes"]
    manifest = yaml.safe_load((out / "connector.yaml").read_text())
    assert manifest["allowed_hosts"] == ["*.api.mailchimp.com"]
    assert manifest["capabilities"] == ["batch_extract", "incremental"]
    assert manifest["declarative"]["streams"]["members"]["paginationParams"] == {
        "type": "OFFSET",
        "limitName": "count",
        "limitValue": "100",
        "offSetName": "offset",
    }
    pyproject = (out / "pyproject.toml").read_text()
    assert '[project.entry-points."cdk.connectors"]' in pyproject
    assert 'mailchimp-members = "mailchimp_members:Source"' in pyproject
    config_schema = json.loads((out / "schemas" / "config.json").read_text())
    assert sorted(config_schema["required"]) == ["domain", "listId"]

    # the only change to reach the local server: scheme and host suffix ({domain} stays a placeholder)
    text = (out / "connector.yaml").read_text()
    port = fake.url.rsplit(":", 1)[1]
    text = text.replace("host: https://{domain}.api.mailchimp.com", f"host: http://{{domain}}:{port}")
    text = text.replace("- '*.api.mailchimp.com'", "- 127.0.0.1")
    (out / "connector.yaml").write_text(text)
    config = out / "secrets" / "config.json"
    config.write_text(json.dumps({"name": "mc", "domain": "127.0.0.1", "listId": "L42"}))

    read = cdk(
        "read",
        "-C",
        str(out),
        "--config",
        str(config),
        "--state",
        str(tmp_path / "state.json"),
        "--incremental",
    )
    assert read.returncode == 0, read.stderr
    rows = [json.loads(line) for line in read.stdout.splitlines()]
    assert len(rows) == 250
    assert rows[0]["id"] == "m00001" and rows[0]["stream"] == "members"
    assert set(rows[0]["data"]) == {"member"}
    assert "_links" not in rows[0]["data"]["member"] and "list_id" not in rows[0]["data"]["member"]
    queries = fake.queries("/3.0/lists/L42/members")
    assert [q["offset"] for q in queries] == [
        ["0"],
        ["100"],
        ["200"],
        ["250"],
    ]  # offset advances by the items received
    assert queries[0]["since_last_changed"] == ["1970-01-01T00:00:00:0000000Z"]

    fake.members = 255
    again = cdk(
        "read",
        "-C",
        str(out),
        "--config",
        str(config),
        "--state",
        str(tmp_path / "state.json"),
        "--incremental",
    )
    assert again.returncode == 0, again.stderr
    assert [json.loads(line)["id"] for line in again.stdout.splitlines()] == [
        f"m{i:05d}" for i in range(251, 256)
    ]

    discover = cdk("discover", "-C", str(out))
    assert discover.returncode == 0, discover.stderr
    assert json.loads(discover.stdout)["streams"][0]["primary_key"] == ["member.id"]


def test_connection_specification_with_auth_spec(tmp_path: Path) -> None:
    seed = json.loads("{" + SEED.read_text() + "}")
    spec = {
        "name": "Mailchimp Members",
        "providerId": "x",
        "version": "1.0",
        "authSpec": [
            {
                "name": "Basic Authentication",
                "type": "BasicAuthentication",
                "spec": {
                    "type": "object",
                    "required": ["domain", "username", "password"],
                    "properties": {
                        "domain": {"type": "string", "description": "data center, e.g. us2"},
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                },
            }
        ],
        **seed,
    }
    src = tmp_path / "spec.json"
    src.write_text(json.dumps(spec, indent=2))
    result = cdk("import", "source-spec", str(src), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load((tmp_path / "out" / "connector.yaml").read_text())
    assert manifest["name"] == "mailchimp-members" and manifest["display_name"] == "Mailchimp Members"
    config_schema = json.loads((tmp_path / "out" / "schemas" / "config.json").read_text())
    assert config_schema["properties"]["domain"]["description"] == "data center, e.g. us2"
    assert "password" not in config_schema["properties"]
    example = json.loads((tmp_path / "out" / "secrets" / "config.example.json").read_text())
    assert example["authentication"] == {
        "type": "basic",
        "params": {"username": "...", "password": "CDK_ENV_PASSWORD"},
    }
    assert "domain" in example


def test_json_errors_are_reported_at_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    # a missing comma: not JSON, and not JSON5 either
    bad.write_text(
        '"sourceSpec": {\n  "attributes": {\n    "urlParams": {"host": "x" "path": "/y"}\n  }\n}\n'
    )
    result = cdk("import", "source-spec", str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    assert f"{bad}:3:31: not valid JSON: Expecting ',' delimiter" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_trailing_commas_and_comments_are_read_with_a_warning_at_their_line(tmp_path: Path) -> None:
    pasted = tmp_path / "pasted.json"
    pasted.write_text(
        '"sourceSpec": {\n'
        '  "attributes": {\n'
        "    // the API of the example\n"
        '    "urlParams": {"host": "https://api.example.com", "path": "/v1/users",},\n'
        '    "contentPath": {"path": "$.users",},\n'
        "  },\n"
        "}\n"
    )
    result = cdk("import", "source-spec", str(pasted), "--out", str(tmp_path / "o"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert f"warning: {pasted}:3:5: not strict JSON: a comment" in result.stderr
    assert json.loads(result.stdout)["warnings"] == [
        f"{pasted}:3:5: not strict JSON: a comment (read as JSON5; the first such construct is here, there may be more)"
    ]
    manifest = yaml.safe_load((tmp_path / "o" / "connector.yaml").read_text())
    assert manifest["declarative"]["streams"]["users"]["urlParams"]["path"] == "/v1/users"

    # the warning comes even when the import then fails
    one_line = '"sourceSpec": {"attributes": {"contentPath": {"path": "$.users",}}}'
    pasted.write_text(one_line + "\n")
    failed = cdk("import", "source-spec", str(pasted), "--out", str(tmp_path / "p"))
    assert failed.returncode == 1 and "no urlParams found" in failed.stderr
    comma = one_line.index(",}") + 1  # 1-based column of the comma itself
    assert f"warning: {pasted}:1:{comma}: not strict JSON: a trailing comma" in failed.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 5000 + "]" * 5000, "nested more than 200 levels deep"),
        ("{'a': [" * 300 + "]}" * 300, "nested more than 200 levels deep"),
        ('{"n": ' + "9" * 5000 + "}", "not readable JSON"),
        ('{"n": 1,, }', "not valid JSON"),
        ("\x00\x01garbage", "not valid JSON"),
        ("", "not valid JSON"),
    ],
    ids=["deep-strict", "deep-json5", "huge-int", "double-comma", "garbage", "empty"],
)
def test_hostile_json_is_a_located_error_never_a_traceback(
    tmp_path: Path, content: str, message: str
) -> None:
    hostile = tmp_path / "hostile.json"
    hostile.write_text(content)
    result = cdk("import", "source-spec", str(hostile), "--out", str(tmp_path / "o"))
    assert result.returncode == 1, result.stderr
    assert f"{hostile}:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert cdk("import", "source-spec", str(SEED), "--out", str(tmp_path / "o")).returncode == 0
    again = cdk("import", "source-spec", str(SEED), "--out", str(tmp_path / "o"))
    assert again.returncode == 2 and "--force" in again.stderr
    assert cdk("import", "source-spec", str(SEED), "--out", str(tmp_path / "o"), "--force").returncode == 0


def test_zendesk_style_spec_with_custom_schema_and_pipeline_expression(tmp_path: Path) -> None:
    spec = {
        "name": "Zendesk Users",
        "sourceSpec": {
            "attributes": {
                "urlParams": {
                    "host": "https://{subdomain}.zendesk.com",
                    "path": "/api/v2/search/export@{if(empty(coalesce(pipeline()?.parameters?.ingestionStart,'')),"
                    "'?query=type:user&filter[type]=user&','')}",
                    "method": "GET",
                    "queryParams": {"query": "{SCHEDULE_QUERY}", "filter[type]": "user"},
                },
                "contentPath": {
                    "path": "$.results",
                    "skipAttributes": ["facets"],
                    "overrideWrapperAttribute": "user",
                },
                "paginationParams": {
                    "type": "CONTINUATION_TOKEN",
                    "continuationTokenPath": "$.meta.after_cursor",
                    "parameterType": "QUERYPARAM",
                    "parameterName": "page[after]",
                    "delayRequestMillis": "850",
                },
                "scheduleParams": {
                    "type": "ADVANCE",
                    "paramFormat": "yyyy-MM-ddTHH:mm:ssK",
                    "incremental": "type:user updated > {START_TIME} updated < {END_TIME}",
                    "backfill": "type:user updated < {END_TIME}",
                },
                "schema": {
                    "type": "object",
                    "properties": {
                        "results": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string"}},
                            },
                        }
                    },
                },
            }
        },
    }
    src = tmp_path / "zendesk.json"
    src.write_text(json.dumps(spec, indent=2))
    result = cdk("import", "source-spec", str(src), "--out", str(tmp_path / "z"), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["name"] == "zendesk-users" and report["stream"] == "results"
    # the path's pipeline expression is evaluated now, so the validator has nothing to say about it
    assert not any("R007" in note for note in report["notes"]), report["notes"]
    manifest = yaml.safe_load((tmp_path / "z" / "connector.yaml").read_text())
    assert manifest["allowed_hosts"] == ["*.zendesk.com"]
    assert manifest["streams"][0]["primary_key"] == ["user.id"]
    assert manifest["streams"][0]["cursor_field"] == "user.updated_at"
    record = json.loads((tmp_path / "z" / "schemas" / "results.json").read_text())
    assert record["properties"]["user"]["properties"]["id"] == {"type": "integer"}
    assert "schema" not in manifest["declarative"]["streams"]["results"]


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(
            st.sampled_from(
                ["{", "}", "[", "]", ",", ":", '"a"', "'b'", "1", "1e999", "// c\n", "/*", "*/", " "]
            ),
            max_size=60,
        ).map("".join),
    )
)
def test_fuzz_spec_text_is_data_or_a_located_input_error(text: str) -> None:
    from cdk.declarative.lenient import load_spec_text
    from cdk.errors import InputError

    try:
        _, warning = load_spec_text(text, "fuzz.json")
    except InputError as exc:
        assert exc.problem is not None and exc.problem.file == "fuzz.json" and exc.problem.line >= 1
    else:
        assert warning is None or warning.line >= 1
