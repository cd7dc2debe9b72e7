"""The sourceSpec forms the engine accepts, date formats, and the static checks (rules R0xx) with locations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from decl_helpers import write_connector

from cdk.declarative.checks import RULES, validate_declarative
from cdk.declarative.spec import load_declarative
from cdk.declarative.timefmt import format_instant
from cdk.project import Project

DATA = Path(__file__).parent / "data"


def seed_mailchimp() -> dict[str, Any]:
    return json.loads("{" + (DATA / "mailchimp_members_seed.txt").read_text() + "}")


def test_the_seed_mailchimp_document_is_accepted_as_it_is() -> None:
    spec = load_declarative(seed_mailchimp(), stream_name="members")
    members = spec.streams["members"]
    assert members.urlParams.host == "https://{domain}.api.mailchimp.com"
    assert members.paginationParams.type == "OFFSET"
    assert members.paginationParams.limitValue == 100  # "100" in the seed
    assert members.paginationParams.offSetName == "offset"
    assert members.contentPath.overrideWrapperAttribute == "member"
    assert members.scheduleParams.scheduleStartParamFormat == "yyyy-MM-ddTHH:mm:ss:fffffffK"
    assert spec.spec["properties"] == {
        "listId": {"type": "string", "description": "listId for which members need to fetch."}
    }
    assert spec.ui["category"] == {"key": "marketingAutomation"}


def test_connection_specification_bare_params_and_defaults_forms() -> None:
    seed = seed_mailchimp()
    whole = {"name": "Mailchimp Members", "authSpec": [], **seed}
    assert load_declarative(whole, stream_name="m").streams["m"].contentPath.path == "$.members"
    bare = seed["sourceSpec"]["attributes"]
    assert (
        load_declarative(bare, stream_name="m").streams["m"].urlParams.path == "/3.0/lists/${listId}/members"
    )
    shared = load_declarative(
        {
            "defaults": {
                "urlParams": {"host": "https://api.example.com"},
                "paginationParams": {"type": "NONE"},
            },
            "streams": {
                "a": {"urlParams": {"path": "/a"}, "contentPath": {"path": "$.a"}},
                "b": {
                    "urlParams": {"path": "/b", "host": "https://other.example.com"},
                    "contentPath": {"path": "$"},
                },
            },
        }
    )
    assert shared.streams["a"].urlParams.host == "https://api.example.com"
    assert shared.streams["b"].urlParams.host == "https://other.example.com"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("yyyy-MM-ddTHH:mm:ssZ", "2024-03-05T12:07:09Z"),  # converted to UTC from +02:00
        ("yyyy-MM-ddTHH:mm:ss:fffffffK", "2024-03-05T12:07:09:1234560Z"),
        ("yyyy-MM-ddTHH:mm:ssK", "2024-03-05T12:07:09Z"),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-03-05T12:07:09.123Z"),
        ("yyyy-MM-dd HH:mm:ss.fff zzz", "2024-03-05 12:07:09.123 +00:00"),
        ("dd/MM/yy hh:mm tt", "05/03/24 12:07 PM"),
        ("epoch", "1709640429"),
        ("epoch_ms", "1709640429123"),
    ],
)
def test_date_formats_render_the_real_instant(fmt: str, expected: str) -> None:
    t = datetime(2024, 3, 5, 14, 7, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert format_instant(t, fmt) == expected


BAD = """\
manifest_version: 1
name: bad-decl
version: 0.1.0
kind: source
capabilities: [batch_extract, incremental]
streams:
  - name: users
    primary_key: [id]
    cursor_field: updated_at
  - name: ghosts
    primary_key: [id]
    cursor_field: x
allowed_hosts: [api.example.com]
declarative:
  spec:
    type: object
    properties:
      token: {type: string}
  streams:
    users:
      urlParams: {host: "https://{domain}.example.org", path: "/v1/${listId}/x", method: GET}
      headerParams: {Authorization: "Bearer ${token}"}
      bodyParams: {a: 1}
      contentPath: {path: "$.items[", overrideWrapperAttribute: user}
      explodeEntityPath: {path: "$..x"}
      paginationParams: {type: OFFSET, limitName: limit}
      scheduleParams: {type: ADVANCE, paramFormat: yyyy}
    extra:
      urlParams: {host: "${base}", path: "/x@{if(empty(x),'a','b')}"}
      contentPath: {path: $.items}
      paginationParams: {type: CONTINUATION_TOKEN, continuationTokenPath: "$.next"}
"""


def test_checks_find_each_problem_at_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "connector.yaml").write_text(BAD)
    found = {(f.rule, f.line, f.column) for f in validate_declarative(Project.load(tmp_path))}
    assert found == {
        ("R012", 10, 10),  # ghosts has no declarative spec
        ("R004", 21, 18),  # {domain} not in the config schema
        ("R005", 21, 18),  # *.example.org outside allowed_hosts
        ("R004", 21, 56),  # ${listId}
        ("R015", 23, 6),  # bodyParams with GET
        ("R003", 24, 20),  # $.items[ does not parse
        ("R008", 25, 26),  # $..x is no name chain
        ("R002", 26, 25),  # OFFSET needs limitValue
        ("R009", 27, 23),  # ADVANCE without {SCHEDULE_QUERY}
        ("R010", 27, 23),  # ADVANCE needs incremental/backfill
        ("R011", 28, 4),  # extra not under streams:
        ("R014", 28, 4),  # incremental without scheduleParams
        ("R004", 29, 18),  # ${base}
        ("R006", 29, 18),  # host entirely from config
        ("R007", 29, 55),  # the bare name x inside the pipeline expression: not a value
        ("R002", 31, 25),  # CONTINUATION_TOKEN needs parameterName
    }
    messages = [str(f) for f in validate_declarative(Project.load(tmp_path))]
    assert any("needs 'offSetName'" in m for m in messages)
    assert all(f.severity == RULES[f.rule][0] for f in validate_declarative(Project.load(tmp_path)))


def test_structural_errors_are_r001_at_the_key(tmp_path: Path) -> None:
    folder = write_connector(
        tmp_path,
        {
            "streams": {
                "s": {
                    "urlParams": {"host": "https://api.example.com", "path": "/x", "methd": "GET"},
                    "contentPath": {"path": "$.x"},
                    "paginationParams": {"type": "CURSOR"},
                }
            }
        },
        allowed_hosts=["api.example.com"],
    )
    found = validate_declarative(Project.load(folder))
    assert {f.rule for f in found} == {"R001"}
    assert any("methd" in f.message and "unknown key" in f.message for f in found)
    assert any("paginationParams.type" in f.message for f in found)
    text = (folder / "connector.yaml").read_text().splitlines()
    methd = next(f for f in found if "methd" in f.message)
    assert "methd" in text[methd.line - 1]


def test_a_clean_spec_has_no_findings(tmp_path: Path) -> None:
    folder = write_connector(
        tmp_path,
        {
            "spec": {
                "type": "object",
                "properties": {"domain": {"type": "string"}, "listId": {"type": "string"}},
            },
            "streams": {"members": {**seed_mailchimp()["sourceSpec"]["attributes"], "uiAttributes": None}},
        },
        streams=[{"name": "members", "primary_key": ["member.id"], "cursor_field": "member.last_changed"}],
        allowed_hosts=["*.api.mailchimp.com"],
        capabilities=["batch_extract", "incremental"],
    )
    text = (folder / "connector.yaml").read_text().replace("      uiAttributes: null\n", "")
    (folder / "connector.yaml").write_text(text)
    assert validate_declarative(Project.load(folder)) == []


def test_custom_response_schema_becomes_the_record_schema() -> None:
    from cdk.declarative.schema import record_schema
    from cdk.declarative.spec import StreamSpec

    custom = {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "email": {"type": "string"},
                        "url": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "facets": {"type": "null"},
            "count": {"type": "integer"},
        },
    }
    stream = StreamSpec.model_validate(
        {
            "urlParams": {"host": "https://x.zendesk.com"},
            "contentPath": {
                "path": "$.results",
                "skipAttributes": ["url", "facets"],
                "overrideWrapperAttribute": "user",
            },
            "explodeEntityPath": {"path": "$.user.tags", "overrideWrapperAttribute": "tag"},
        }
    )
    assert record_schema(stream, custom) == {
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "user": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "email": {"type": "string"}},
            },
            "tag": {"type": "string"},
        },
    }


@pytest.mark.parametrize(
    "path",
    [
        "$.members",
        "$.meta.after_cursor",
        "paging.next",
        "$['page-info'].next",
        '$["a b"]["c"]',
        "$",
        "$.a[0]",
        "$..x",
        "$.items[*]",
        "$.a['b\\'c']",
    ],
)
def test_the_name_chain_fast_path_agrees_with_the_rfc9535_library(path: str) -> None:
    from cdk.declarative.paths import compile_path

    fast, library = compile_path(path), compile_path(path, library=True)
    assert fast.names == library.names
    doc = {
        "members": [1],
        "meta": {"after_cursor": "c"},
        "paging": {"next": "n"},
        "page-info": {"next": 2},
        "a b": {"c": 3},
        "a": [{"x": 4}],
        "items": [5, 6],
    }
    assert fast.all(doc) == library.query.findall(doc)  # evaluated by the library itself


def test_formats_agree_with_strftime_for_any_instant() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    zones = st.sampled_from(
        [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    )

    @settings(max_examples=200, deadline=None)
    @given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31), timezones=zones))
    def check(t: datetime) -> None:
        utc = t.astimezone(timezone.utc)
        assert format_instant(t, "yyyy-MM-ddTHH:mm:ss.ffffffK") == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert (
            format_instant(t, "yyyy-MM-ddTHH:mm:ss:fffffffK") == utc.strftime("%Y-%m-%dT%H:%M:%S:%f") + "0Z"
        )
        assert format_instant(t, "epoch") == str(int(t.timestamp()))

    check()
