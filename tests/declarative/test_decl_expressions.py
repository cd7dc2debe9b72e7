"""Pipeline expressions: every function, null-safe access, @@ escaping and interpolation, table-driven;
a fuzz test that no input raises anything but ExpressionError; located errors and findings."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdk.declarative.checks import validate_declarative
from cdk.declarative.expressions import FUNCTION_NAMES, Context, Origin, parse_template, render_template
from cdk.errors import ConnectorError, ExpressionError, ManifestError
from cdk.project import Project

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
PARAMS = {
    "ingestionStart": "2024-01-05T10:00:00Z",
    "ingestionEnd": None,
    "listId": "L42",
    "count": 3,
    "flag": True,
    "nested": {"a": {"b": "deep"}, "items": ["x", "y"]},
}
ZENDESK_PATH = (
    "/api/v2/search/export@{if(empty(coalesce(pipeline()?.parameters?.ingestionStart,'')),"
    "'?query=type:user&filter[type]=user&','')}"
)


def ctx(**params: Any) -> Context:
    return Context({**PARAMS, **params}, NOW)


CASES: list[tuple[str, Any]] = [
    # literals and interpolation
    ("plain text", "plain text"),
    ("@{'it''s'}", "it's"),
    ("@{42}", 42),
    ("@{-7}", -7),
    ("@{1.5}", 1.5),
    ("@{true}", True),
    ("@{null}", None),
    ("n=@{42}, b=@{false}, z=@{null}.", "n=42, b=false, z=."),
    ("@{'a'}@{'b'}-@{'c'}", "ab-c"),
    ("@{ concat( 'a' , 'b' ) }", "ab"),
    ("@{'}'}", "}"),
    ("@{'@{'}", "@{"),
    # @@ escaping; any other @ is text
    ("@@", "@"),
    ("@@{pipeline().parameters.listId}", "@{pipeline().parameters.listId}"),
    ("mail me@example.com", "mail me@example.com"),
    ("a@@b@{'c'}", "a@bc"),
    # if / empty / coalesce / equals / not / and / or
    ("@{if(true,'yes','no')}", "yes"),
    ("@{if(false,'yes','no')}", "no"),
    ("@{if(true,'yes',toLower(42))}", "yes"),  # the branch not taken is not evaluated
    ("@{empty('')}", True),
    ("@{empty('x')}", False),
    ("@{empty(null)}", True),
    ("@{empty(pipeline().parameters.nested.items)}", False),
    ("@{empty(0)}", False),
    ("@{coalesce(null,null,'third')}", "third"),
    ("@{coalesce(null)}", None),
    ("@{coalesce(pipeline()?.parameters?.nope,'dflt')}", "dflt"),
    ("@{equals(1,1)}", True),
    ("@{equals(1,1.0)}", True),
    ("@{equals('1',1)}", False),
    ("@{equals(true,1)}", False),
    ("@{equals('a','A')}", False),
    ("@{equals(null,null)}", True),
    ("@{not(true)}", False),
    ("@{and(true,true,true)}", True),
    ("@{and(true,false)}", False),
    ("@{or(false,false)}", False),
    ("@{or(false,true)}", True),
    # strings
    ("@{concat('a',1,true,null,1.5)}", "a1true1.5"),
    ("@{replace('a-b-c','-','/')}", "a/b/c"),
    ("@{replace('aaa','a','')}", ""),
    ("@{toLower('MiXeD')}", "mixed"),
    ("@{toUpper('MiXeD')}", "MIXED"),
    ("@{TOUPPER('x')}", "X"),  # function names are case-insensitive, as in ADF
    # dates (utcnow is the run's clock)
    ("@{utcnow()}", "2026-01-02T03:04:05.1234560Z"),
    ("@{utcNow('yyyy-MM-dd')}", "2026-01-02"),
    ("@{utcnow('s')}", "2026-01-02T03:04:05"),
    ("@{formatDateTime('2024-01-05T10:00:00Z','yyyy/MM/dd HH:mm')}", "2024/01/05 10:00"),
    ("@{formatDateTime('2024-01-05T10:00:00+02:00','HH:mm')}", "08:00"),
    ("@{formatDateTime('2024-01-05')}", "2024-01-05T00:00:00.0000000Z"),
    ("@{formatDateTime('2024-01-05T10:00:00.1234567Z','fffffff')}", "1234560"),
    ("@{addDays('2024-01-30T10:00:00Z',3,'yyyy-MM-dd')}", "2024-02-02"),
    ("@{addDays('2024-03-01T00:00:00Z',-1,'yyyy-MM-dd')}", "2024-02-29"),
    ("@{addHours('2024-01-05T23:00:00Z',2,'yyyy-MM-ddTHH')}", "2024-01-06T01"),
    ("@{addHours('2024-01-05T23:00:00Z',0.5)}", "2024-01-05T23:30:00.0000000Z"),
    (
        "@{addDays(pipeline().parameters.ingestionStart,-1,'yyyy-MM-ddTHH:mm:ssK')}",
        "2024-01-04T10:00:00Z",
    ),
    # pipeline().parameters, member and index access, null-safe ?.
    ("@{pipeline().parameters.listId}", "L42"),
    ("@{pipeline().parameters.count}", 3),
    ("/lists/@{pipeline().parameters.listId}/members", "/lists/L42/members"),
    ("@{pipeline().parameters.nested.a.b}", "deep"),
    ("@{pipeline().parameters['listId']}", "L42"),
    ("@{pipeline().parameters.nested.items[1]}", "y"),
    ("@{pipeline().parameters.ingestionEnd}", None),
    ("@{pipeline().parameters.ingestionEnd?.x}", None),
    ("@{pipeline()?.parameters?.missing}", None),
    ("@{pipeline().parameters?.missing?.deeper}", None),
    ("@{pipeline().parameters.nested?.items?[5]}", None),
    # the specification's Zendesk path, both branches
    (ZENDESK_PATH, "/api/v2/search/export"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_expression_values(text: str, expected: Any) -> None:
    value = render_template(text, ctx())
    assert value == expected and type(value) is type(expected)


def test_every_documented_function_has_a_case() -> None:
    used = " ".join(text.lower() for text, _ in CASES)
    assert all(f"{name.lower()}(" in used for name in FUNCTION_NAMES.values())


def test_zendesk_path_without_ingestion_start_adds_the_backfill_query() -> None:
    for unset in (None, ""):
        assert (
            render_template(ZENDESK_PATH, ctx(ingestionStart=unset))
            == "/api/v2/search/export?query=type:user&filter[type]=user&"
        )
    without_key = Context({"listId": "L42"}, NOW)  # ?. also tolerates a parameter that is not there
    assert (
        render_template(ZENDESK_PATH, without_key)
        == "/api/v2/search/export?query=type:user&filter[type]=user&"
    )


ERRORS: list[tuple[str, str, int]] = [
    # text, part of the message, offset of the problem
    ("@{iff(true,'a','b')}", "unknown function 'iff'", 2),
    ("@{if(true,'a')}", "if() takes 3 arguments, 2 given", 2),
    ("@{not(1)}", "not() needs a boolean", 2),
    ("@{if('x','a','b')}", "if() needs a boolean condition", 2),
    ("@{toLower(null)}", "toLower() needs a string", 2),
    ("@{replace('a','','b')}", "non-empty text to find", 2),
    ("@{pipeline().parameters.missing}", "no property 'missing'", 23),
    ("@{pipeline().parameters.ingestionEnd.x}", "cannot read 'x' of null", 36),
    ("@{pipeline().parameters.listId.x}", "cannot read 'x' of a string", 30),
    ("@{pipeline().parameters.nested.items['a']}", "cannot index a array with a string", 36),
    ("@{formatDateTime('yesterday')}", "not an ISO 8601 timestamp", 2),
    ("@{formatDateTime('2024-13-45')}", "month must be in 1..12", 2),
    ("@{addDays('2024-01-01',99999999999)}", "addDays()", 2),
    ("@{addDays('2024-01-01','1')}", "needs a number of days", 2),
    ("@{listId}", "'listId' is not a value", 2),
    ("@{'open}", "string literal is not closed", 2),
    ("x@{concat('a'", "'@{' is not closed", 1),
    ("@{concat('a' 'b')}", "expected ',' or ')'", 13),
    ("@{}", "empty expression", 0),
    ("@{1 2}", "unexpected '2'", 4),
    ("@{#}", "unexpected character '#'", 2),
    ("@{pipeline().}", "expected a property name", 13),
    ("@{" + "not(" * 60 + "true" + ")" * 60 + "}", "nested more than", 2),
    ("@{" + "9" * 50 + "}", "number longer than", 2),
    ("@{replace(replace('ab','a','" + "x" * 2000 + "'),'x','" + "y" * 2000 + "')}", "over 1000000", 2),
]


@pytest.mark.parametrize(("text", "message", "offset"), ERRORS, ids=[e[0][:40] for e in ERRORS])
def test_expression_errors_name_the_problem_and_its_place(text: str, message: str, offset: int) -> None:
    with pytest.raises(ExpressionError) as info:
        render_template(text, ctx())
    assert message in info.value.reason
    if offset:  # 0: the whole expression is at fault
        assert info.value.offset >= offset
        assert info.value.offset <= len(text)
    assert isinstance(info.value, ManifestError) and info.value.exit_code == 1


def test_errors_carry_the_line_and_column_in_the_file() -> None:
    origin = Origin("connector.yaml", 12, 10, quote=1)
    with pytest.raises(ExpressionError) as info:
        parse_template("/x@{concat('a', nope('b'))}", origin)
    err = info.value
    assert (err.file, err.line, err.column) == ("connector.yaml", 12, 10 + 1 + 16)
    assert "connector.yaml:12:28: unknown function 'nope'" in str(err)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=80),
        st.text(alphabet="@{}()'.,?[]-0123456789 ", max_size=80),
        st.lists(
            st.sampled_from(
                [
                    "@{",
                    "}",
                    "@@",
                    "(",
                    ")",
                    ",",
                    "'",
                    "''",
                    "?.",
                    ".",
                    "[",
                    "]",
                    "-",
                    "1e308",
                    "99999999999",
                    "true",
                    "null",
                    *[f"{name}(" for name in FUNCTION_NAMES.values()],
                    "parameters",
                    "ingestionStart",
                    "'2024-01-01T00:00:00Z'",
                    "'yyyy'",
                    "'x'",
                ]
            ),
            max_size=30,
        ).map("".join),
    )
)
def test_fuzz_no_input_raises_anything_but_expression_error(text: str) -> None:
    try:
        render_template(text, ctx())
    except ExpressionError as exc:
        assert exc.reason and 0 <= exc.offset <= len(text)


def test_validator_reports_unknown_function_and_parameter_at_their_column(tmp_path: Path) -> None:
    text = """manifest_version: 1
name: expr-test
version: 0.1.0
kind: source
capabilities: [batch_extract]
allowed_hosts: [api.example.com]
streams:
  - name: users
    primary_key: [id]
declarative:
  spec: {type: object, properties: {region: {type: string}}}
  streams:
    users:
      urlParams:
        host: https://api.example.com
        path: "/users@{toLowr(pipeline().parameters.region)}"
        queryParams:
          since: '@{formatDateTime(pipeline().parameters.regoin)}'
          ok: "@{coalesce(pipeline()?.parameters?.ingestionStart, '')}"
      contentPath: {path: $.users}
"""
    (tmp_path / "connector.yaml").write_text(text)
    lines = text.splitlines()
    found = validate_declarative(Project.load(tmp_path))
    got = {(f.rule, f.line, f.column) for f in found}
    # the unknown function's name, and the '.' before the misspelt parameter (columns 0-based)
    assert got == {("R007", 16, lines[15].index("toLowr")), ("R004", 18, lines[17].index(".regoin"))}
    messages = {f.rule: f.message for f in found}
    assert "unknown function 'toLowr'" in messages["R007"]
    assert "pipeline().parameters.regoin" in messages["R004"]


def _mailchimp_connector(tmp_path: Path, url: str, path: str, headers: dict[str, str]) -> Path:
    from decl_helpers import write_connector

    return write_connector(
        tmp_path,
        {
            "spec": {"type": "object", "properties": {"listId": {"type": "string"}}},
            "streams": {
                "members": {
                    "urlParams": {"host": url, "path": path, "method": "GET"},
                    "headerParams": headers,
                    "contentPath": {"path": "$.members", "overrideWrapperAttribute": "member"},
                    "paginationParams": {
                        "type": "OFFSET",
                        "limitName": "count",
                        "limitValue": 100,
                        "offSetName": "offset",
                    },
                    "scheduleParams": {
                        "scheduleStartParamName": "since_last_changed",
                        "scheduleEndParamName": "before_last_changed",
                        "scheduleStartParamFormat": "yyyy-MM-ddTHH:mm:ss:fffffffK",
                        "scheduleEndParamFormat": "yyyy-MM-ddTHH:mm:ss:fffffffK",
                    },
                }
            },
        },
        streams=[{"name": "members", "primary_key": ["member.id"], "cursor_field": "member.last_changed"}],
        capabilities=["batch_extract", "incremental"],
    )


def test_engine_fills_placeholders_in_expression_output_per_window(tmp_path: Path, fake: Any) -> None:
    from decl_helpers import Run

    folder = _mailchimp_connector(
        tmp_path,
        fake.url,
        "/3.0/lists/@{if(empty(pipeline()?.parameters?.ingestionStart),'${listId}',concat(pipeline().parameters.listId,'-inc'))}/members",
        {
            "X-Window": "@{pipeline().parameters.ingestionStart}..@{formatDateTime(pipeline().parameters.ingestionEnd,'yyyy-MM-dd')}",
            "X-Now": "@{utcnow('yyyy-MM-ddTHH:mm')}",
            "X-Mail": "me@@example.com",
        },
    )
    full = Run(folder, {"listId": "L 1"})
    assert len(full.data) == 250
    first = fake.requests[0]
    assert first["path"] == "/3.0/lists/L%201/members"  # ${listId} from the expression, escaped as a segment
    assert first["headers"]["X-Window"] == "..2026-01-01"  # no start on a full refresh; the window's end
    assert first["headers"]["X-Now"] == "2026-01-01T00:00"  # the session's (virtual) clock
    assert first["headers"]["X-Mail"] == "me@example.com"
    fake.requests.clear()
    Run(folder, {"listId": "L2"}, incremental=True)
    assert fake.requests[0]["path"] == "/3.0/lists/L2-inc/members"
    assert fake.requests[0]["headers"]["X-Window"] == "1970-01-01T00:00:00Z..2026-01-01"


def test_engine_expression_errors_point_into_connector_yaml(tmp_path: Path, fake: Any) -> None:
    from decl_helpers import Run

    folder = _mailchimp_connector(
        tmp_path, fake.url, "/3.0/lists/@{formatDateTime(pipeline().parameters.ingestionStart)}/members", {}
    )
    with pytest.raises(ConnectorError) as info:
        Run(folder, {"listId": "L2"})  # a full refresh has no ingestionStart
    err = info.value.__cause__  # the runner names the stream and page around it
    assert isinstance(err, ExpressionError)
    lines = (folder / "connector.yaml").read_text().splitlines()
    assert err.file == "connector.yaml" and err.line is not None and err.column is not None
    assert lines[err.line - 1][err.column :].startswith("formatDateTime(")
    assert (
        f"connector.yaml:{err.line}:{err.column + 1}: formatDateTime() needs a timestamp string, got null"
        in str(info.value)
    )
    assert fake.requests == []  # failed before any request
