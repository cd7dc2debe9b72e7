"""LINK (RFC 8288 ``Link: <url>; rel="next"``) and BODYPARAM (pagination in a POST's JSON body) pagination.

Each reads exactly N records from a real local API (decl_paging_api) with each end condition — no next
link, an empty page, the end-condition value, endPageIndex, a null token, maximumRequest — for N that fills
its last page (20) and N that leaves it short (23: fewer records than the limit). Request counts are
asserted too, so an extra or a missing request fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from decl_helpers import Run, write_connector
from decl_paging_api import PagingAPI

from cdk.errors import (
    ConfigError,
    EgressDeniedError,
    InvalidResponseError,
    MaximumRequestReached,
    PaginationLoopError,
)
from cdk.sdk.pagination import link_with_rel, parse_link_header
from cdk.sdk.runner import StateStore

PAGES = {20: 4, 23: 5}  # records -> pages of 5 holding them (23: the last page is short)


@pytest.fixture(scope="module")
def paging_server() -> Any:
    with PagingAPI() as api:
        yield api


@pytest.fixture()
def api(paging_server: PagingAPI) -> PagingAPI:
    return paging_server.reset()


def link_spec(style: str, **pagination: Any) -> dict[str, Any]:
    return {
        "spec": {"type": "object", "properties": {"base": {"type": "string"}}, "required": ["base"]},
        "streams": {
            "s": {
                "urlParams": {"host": "${base}", "path": f"/link/{style}"},
                "contentPath": {"path": "$.items", "overrideWrapperAttribute": ""},
                "paginationParams": {"type": "LINK", "limitName": "limit", "limitValue": 5, **pagination},
            }
        },
    }


BODY = {"filter": "active", "paging": {"sort": "id"}}


def body_spec(pagination: dict[str, Any], body: Any = BODY, method: str = "POST") -> dict[str, Any]:
    return {
        "spec": {"type": "object", "properties": {"base": {"type": "string"}}, "required": ["base"]},
        "streams": {
            "s": {
                "urlParams": {"host": "${base}", "path": "/body", "method": method},
                "bodyParams": body,
                "contentPath": {"path": "$.data.rows", "overrideWrapperAttribute": ""},
                "paginationParams": {"parameterType": "BODYPARAM", **pagination},
            }
        },
    }


def connector(tmp_path: Path, declarative: dict[str, Any]) -> Path:
    return write_connector(tmp_path / "c", declarative, streams=[{"name": "s", "primary_key": ["id"]}])


def run(tmp_path: Path, api: PagingAPI, declarative: dict[str, Any], **kw: Any) -> Run:
    return Run(connector(tmp_path, declarative), {"base": api.url}, **kw)


def ids(records: list[Any]) -> list[int]:
    return [r.data["id"] for r in records]


# -- the Link header parser ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://a.test/x?ids=1,2>; rel="next"', "https://a.test/x?ids=1,2"),  # a comma inside the URL
        ('<https://a.test/2>; title="a;b"; rel="next"', "https://a.test/2"),  # requests loses this rel
        ('<https://a.test/2>; title="a=b"; rel="next"', "https://a.test/2"),  # and this one
        (
            '<https://a.test/0>; title="x, <https://evil.test/>"; rel=prev, <https://a.test/2>; rel=next',
            "https://a.test/2",
        ),
        ('<https://a.test/9>; rel="next last"', "https://a.test/9"),  # several relation types
        ('<https://a.test/1>; rel="prev", <https://a.test/2>; REL="Next"', "https://a.test/2"),  # case
        ('<https://a.test/2>; rel="next"; rel="prev"', "https://a.test/2"),  # the first rel counts
        ('<https://a.test/1>; rel="prev"; rel="next"', None),
        ('<https://a.test/2>; rel="nextpage"', None),  # a whole relation type, not a prefix
        ('<https://a.test/2>; title="\\"next\\""', None),  # a quoted title is not a rel
        ("</users?page=2>;rel=next", "https://api.test/users?page=2"),  # relative: against the request URL
        ("<?page=2>; rel=next", "https://api.test/v1/users?page=2"),
        ("garbage; rel=next", None),
        ("", None),
    ],
)
def test_link_header_parsing(header: str, expected: str | None) -> None:
    assert link_with_rel(header, base="https://api.test/v1/users?page=1") == expected


def test_link_header_params_keep_quoted_separators() -> None:
    links = parse_link_header('<u1>; title="x=y; z, <w>"; rel="next last", <u0>; rel=prev; x')
    assert links == [("u1", {"title": "x=y; z, <w>", "rel": "next last"}), ("u0", {"rel": "prev", "x": ""})]


# -- LINK -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["absolute", "relative", "multi"])
@pytest.mark.parametrize("records", sorted(PAGES))
def test_link_reads_exactly_n_and_stops_when_no_next_link(
    tmp_path: Path, api: PagingAPI, style: str, records: int
) -> None:
    api.reset(records)
    result = run(tmp_path, api, link_spec(style))
    assert ids(result.records) == list(range(1, records + 1))
    assert len(api.requests) == PAGES[records]  # the page without a next link was the last request
    assert result.summary.completed
    assert api.requests[0]["query"] == "limit=5"  # limitName/limitValue on the first request...
    assert api.requests[1]["query"] == "after=5&limit=5"  # ...then the link as given, nothing added


@pytest.mark.parametrize("records", sorted(PAGES))
def test_link_on_the_last_page_ends_on_the_empty_page_or_on_the_end_condition(
    tmp_path: Path, api: PagingAPI, records: int
) -> None:
    api.reset(records)
    result = run(tmp_path, api, link_spec("always"))
    assert ids(result.records) == list(range(1, records + 1))
    assert len(api.requests) == PAGES[records] + 1  # the link to an empty page was followed once
    api.reset(records)
    ended = run(
        tmp_path, api, link_spec("always", endConditionName="$.more", endConditionValue="Const:false")
    )
    assert ids(ended.records) == list(range(1, records + 1))
    assert len(api.requests) == PAGES[records]


def test_link_maximum_request_stops_checkpoints_and_resumes(tmp_path: Path, api: PagingAPI) -> None:
    state_path = tmp_path / "state.json"
    got: list[Any] = []
    with pytest.raises(MaximumRequestReached, match="maximumRequest=2") as caught:
        run(tmp_path, api, link_spec("absolute", maximumRequest=2), state=StateStore(state_path), out=got)
    assert caught.value.exit_code == 4 and (caught.value.requests, caught.value.records) == (2, 10)
    assert len(api.requests) == 2
    saved = StateStore(state_path).get("s")
    assert saved["status"] == "running" and saved["pagination"]["link"].endswith(
        "/link/absolute?after=10&limit=5"
    )
    with pytest.raises(MaximumRequestReached):  # the next run has a budget of 2 again: pages 3 and 4
        Run(tmp_path / "c", {"base": api.url}, state=StateStore(state_path), out=got)
    Run(tmp_path / "c", {"base": api.url}, state=StateStore(state_path), out=got)  # page 5, the last
    assert ids(got) == list(range(1, 24)) and len(api.requests) == 5
    assert StateStore(state_path).get("s")["status"] == "done"


def test_link_resume_after_an_interrupted_read_repeats_nothing(tmp_path: Path, api: PagingAPI) -> None:
    state_path = tmp_path / "state.json"
    first = run(tmp_path, api, link_spec("relative"), state=StateStore(state_path), max_iterations=2)
    second = Run(tmp_path / "c", {"base": api.url}, state=StateStore(state_path))
    assert ids(first.records) + ids(second.records) == list(range(1, 24))
    assert second.summary.resumed_from is not None
    assert second.summary.resumed_from["link"] == f"{api.url}/link/relative?after=10&limit=5"


def test_a_link_to_a_host_outside_allowed_hosts_is_refused_not_followed(
    tmp_path: Path, api: PagingAPI
) -> None:
    state_path = tmp_path / "state.json"
    got: list[Any] = []
    with pytest.raises(EgressDeniedError) as caught:
        run(tmp_path, api, link_spec("hostile"), state=StateStore(state_path), out=got)
    message = str(caught.value)
    assert "Link header" in message and "'evil.example.com'" in message and "not followed" in message
    assert len(api.requests) == 2 and ids(got) == list(range(1, 6))  # page 2's records were not emitted
    saved = StateStore(state_path).get("s")  # the checkpoint stays at page 2, never at the refused URL
    assert saved["pagination"]["link"] == f"{api.url}/link/hostile?after=5&limit=5"
    assert "evil" not in state_path.read_text()


def test_a_link_that_is_not_http_is_refused(tmp_path: Path, api: PagingAPI) -> None:
    with pytest.raises(InvalidResponseError, match="not an http"):
        run(tmp_path, api, link_spec("scheme"))
    assert len(api.requests) == 1


def test_a_link_back_to_a_page_already_fetched_is_a_loop_error(tmp_path: Path, api: PagingAPI) -> None:
    with pytest.raises(PaginationLoopError, match="already fetched"):
        run(tmp_path, api, link_spec("loop"))
    assert [r["query"] for r in api.requests] == ["limit=5", "after=5&limit=5"]


# -- BODYPARAM ------------------------------------------------------------------------------------

OFFSET = {"type": "OFFSET", "limitName": "paging.size", "limitValue": 5, "offSetName": "paging.offset"}
PAGE = {
    "type": "PAGE",
    "limitName": "paging.size",
    "limitValue": 5,
    "pageParamName": "paging.page",
    "initialPageIndex": 1,
}
TOKEN = {
    "type": "CONTINUATION_TOKEN",
    "continuationTokenPath": "$.next",
    "parameterName": "paging.after",
    "limitName": "paging.size",
    "limitValue": 5,
}


@pytest.mark.parametrize(
    ("pagination", "extra_request"),
    [
        (OFFSET, 1),  # ends on the empty page
        ({**OFFSET, "endConditionName": "$.more", "endConditionValue": "Const:false"}, 0),
        ({**PAGE, "endPageIndex": "$.total_pages"}, 0),
        (PAGE, 1),
        (TOKEN, 0),  # ends on the null token
    ],
    ids=["offset-empty-page", "offset-end-condition", "page-end-page-index", "page-empty-page", "token-null"],
)
@pytest.mark.parametrize("records", sorted(PAGES))
def test_body_pagination_reads_exactly_n(
    tmp_path: Path, api: PagingAPI, pagination: dict[str, Any], extra_request: int, records: int
) -> None:
    api.reset(records)
    result = run(tmp_path, api, body_spec(pagination))
    assert ids(result.records) == list(range(1, records + 1))
    assert len(api.requests) == PAGES[records] + extra_request
    assert all(r["query"] == "" and r["method"] == "POST" for r in api.requests)  # nothing in the query
    bodies = [r["body"] for r in api.requests]
    assert all(
        b["filter"] == "active" and b["paging"]["sort"] == "id" for b in bodies
    )  # merged, not replaced
    if pagination["type"] == "OFFSET":
        assert [b["paging"]["offset"] for b in bodies[:3]] == [0, 5, 10]
    elif pagination["type"] == "PAGE":
        assert [b["paging"]["page"] for b in bodies[:3]] == [1, 2, 3]
    else:
        assert [b["paging"].get("after") for b in bodies[:3]] == [None, "t5", "t10"]


def test_body_pagination_maximum_request_then_resume(tmp_path: Path, api: PagingAPI) -> None:
    state_path = tmp_path / "state.json"
    got: list[Any] = []
    with pytest.raises(MaximumRequestReached, match=r"stream 's'.*maximumRequest=3.*15 records"):
        run(tmp_path, api, body_spec({**OFFSET, "maximumRequest": 3}), state=StateStore(state_path), out=got)
    assert StateStore(state_path).get("s")["pagination"]["offset"] == 15
    Run(tmp_path / "c", {"base": api.url}, state=StateStore(state_path), out=got)
    assert ids(got) == list(range(1, 24))
    assert [r["body"]["paging"]["offset"] for r in api.requests] == [
        0,
        5,
        10,
        15,
        20,
        23,
    ]  # advances by the items received


def test_body_pagination_without_body_params_builds_the_body(tmp_path: Path, api: PagingAPI) -> None:
    pag = {**OFFSET, "limitName": "paging.size", "offSetName": "paging.offset"}
    spec = body_spec(pag, body=None)
    spec["streams"]["s"].pop("bodyParams")
    with pytest.raises(Exception, match="400"):  # the server wants filter and paging.sort: the body was built
        run(tmp_path, api, spec)
    assert api.requests[0]["body"] == {"paging": {"size": 5, "offset": 0}}


def test_a_body_pagination_name_that_collides_with_body_params_is_a_config_error(
    tmp_path: Path, api: PagingAPI
) -> None:
    with pytest.raises(ConfigError, match=r"paging\.size.*paging.*str 'by-id'"):
        run(tmp_path, api, body_spec(OFFSET, body={"filter": "active", "paging": "by-id"}))
    assert api.requests == []


def test_body_pagination_with_get_is_refused_before_any_request(tmp_path: Path, api: PagingAPI) -> None:
    with pytest.raises(ConfigError, match="BODYPARAM.*POST"):
        run(tmp_path, api, body_spec(OFFSET, method="GET"))
    assert api.requests == []


# -- validation and import ----------------------------------------------------------------------


def findings(folder: Path) -> list[Any]:
    """The findings, less R006 (the host comes from the config, as in every spec of this file)."""
    from cdk.declarative.checks import validate_declarative
    from cdk.project import Project

    return [f for f in validate_declarative(Project.load(folder)) if f.rule != "R006"]


def test_link_and_body_specs_validate_clean(tmp_path: Path) -> None:
    assert findings(write_connector(tmp_path / "a", link_spec("absolute"))) == []
    assert findings(write_connector(tmp_path / "b", body_spec(OFFSET))) == []


def test_validator_locates_what_link_and_bodyparam_lack(tmp_path: Path) -> None:
    bad_link = link_spec("absolute")
    del bad_link["streams"]["s"]["paginationParams"]["limitValue"]
    folder = write_connector(tmp_path / "a", bad_link)
    found = findings(folder)
    assert [(f.rule, f.message) for f in found] == [
        ("R002", "paginationParams of type LINK needs 'limitValue'")
    ]
    text = (folder / "connector.yaml").read_text().splitlines()
    assert (
        "type: LINK" in text[found[0].line - 1] and text[found[0].line - 1].index("type") == found[0].column
    )
    assert found[0].file == "connector.yaml"

    folder = write_connector(tmp_path / "b", body_spec(OFFSET, method="GET"))
    found = [f for f in findings(folder) if f.rule == "R017"]
    assert len(found) == 1 and found[0].severity == "error" and "method is GET" in found[0].message
    line = (folder / "connector.yaml").read_text().splitlines()[found[0].line - 1]
    assert "parameterType: BODYPARAM" in line and line.index("parameterType") == found[0].column

    folder = write_connector(tmp_path / "c", body_spec(OFFSET, body="filter=active"))
    assert [f.rule for f in findings(folder) if f.rule == "R017"] == ["R017"]

    unknown = body_spec(OFFSET)
    unknown["streams"]["s"]["paginationParams"]["parameterType"] = "FORMPARAM"
    found = findings(write_connector(tmp_path / "d", unknown))
    assert [f.rule for f in found] == ["R001"] and "BODYPARAM" in found[0].message


@pytest.mark.parametrize("kind", ["link", "body"])
def test_import_source_spec_accepts_link_and_body_pagination_and_the_result_reads(
    tmp_path: Path, api: PagingAPI, kind: str
) -> None:
    from cdk.declarative.importer import import_source_spec

    params = (link_spec("multi") if kind == "link" else body_spec(PAGE | {"endPageIndex": "$.total_pages"}))[
        "streams"
    ]["s"]
    params["urlParams"]["host"] = api.url
    doc = {"name": f"Paging {kind}", "sourceSpec": {"attributes": params}}
    src = tmp_path / f"{kind}.json"
    src.write_text(json.dumps(doc, indent=2))
    result = import_source_spec(src, tmp_path / "out", primary_key=["id"])
    assert [n for n in result.notes if n.startswith("error")] == []
    assert findings(result.folder) == []
    got = Run(result.folder, {})
    assert ids(got.records) == list(range(1, 24))
