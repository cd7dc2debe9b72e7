"""Every pagination type of seed 003 reads exactly N records from a real local API and stops.

The demo API serves 237 users (pages of 50: 50,50,50,50,37) and 200 orders (pages of 50 fill exactly).
Request counts are asserted too: an end condition must save the extra request, and without one the
empty page must stop the read.
"""

from __future__ import annotations

from typing import Any

import pytest
from decl_helpers import Run, write_connector

from cdk.errors import MaximumRequestReached, PaginationLoopError


def spec(pagination: dict[str, Any], path: str = "/users", **extra: Any) -> dict[str, Any]:
    return {
        "spec": {"type": "object", "properties": {"base": {"type": "string"}}, "required": ["base"]},
        "streams": {
            "s": {
                "urlParams": {"host": "${base}", "path": path, "method": "GET"},
                "contentPath": {"path": "$.items"},
                "paginationParams": pagination,
                **extra,
            }
        },
    }


def read(tmp_path: Any, demo: Any, pagination: dict[str, Any], path: str = "/users", **kw: Any) -> Run:
    demo.reset()
    folder = write_connector(
        tmp_path / "c", spec(pagination, path), streams=[{"name": "s", "primary_key": ["id"]}]
    )
    return Run(folder, {"base": demo.url}, **kw)


def ids(run: Run) -> list[int]:
    return [d["items"]["id"] for d in run.data]


OFFSET = {"type": "OFFSET", "limitName": "limit", "limitValue": "50", "offSetName": "offset"}
PAGE_1 = {
    "type": "PAGE",
    "limitName": "per_page",
    "limitValue": 100,
    "pageParamName": "page",
    "initialPageIndex": 1,
}


@pytest.mark.parametrize(("path", "n", "requests"), [("/users", 237, 6), ("/orders", 200, 5)])
def test_offset_stops_on_the_empty_page(tmp_path: Any, demo: Any, path: str, n: int, requests: int) -> None:
    run = read(tmp_path, demo, OFFSET, path)
    assert ids(run) == list(range(1, n + 1))
    assert demo.count(path) == requests
    assert run.summary.completed
    offsets = [r["query"] for r in demo.requests]
    assert "offset=50" in offsets[1] and "limit=50" in offsets[1]


def test_offset_end_condition_saves_the_last_request(tmp_path: Any, demo: Any) -> None:
    run = read(tmp_path, demo, {**OFFSET, "endConditionName": "$.next", "endConditionValue": "Const:null"})
    assert ids(run) == list(range(1, 238))
    assert demo.count("/users") == 5


def test_offset_seed_spelling_offsetName_and_record_ids(tmp_path: Any, demo: Any) -> None:
    pag = {"type": "OFFSET", "limitName": "limit", "limitValue": 100, "offsetName": "offset"}
    run = read(tmp_path, demo, pag)
    assert [r.id for r in run.records] == [str(i) for i in range(1, 238)]


def test_pointer_follows_next_urls_until_null(tmp_path: Any, demo: Any) -> None:
    run = read(
        tmp_path, demo, {"type": "POINTER", "limitName": "limit", "limitValue": 50, "pointerPath": "next"}
    )
    assert ids(run) == list(range(1, 238))
    assert demo.count("/users") == 5


def test_pointer_that_repeats_is_refused_not_looped(tmp_path: Any, fake: Any) -> None:
    folder = write_connector(
        tmp_path / "c",
        {
            "spec": {"type": "object", "properties": {"base": {"type": "string"}}},
            "streams": {
                "s": {
                    "urlParams": {"host": "${base}", "path": "/loop"},
                    "contentPath": {"path": "$.items"},
                    "paginationParams": {"type": "POINTER", "pointerPath": "$.paging.next"},
                }
            },
        },
    )
    with pytest.raises(PaginationLoopError):
        Run(folder, {"base": fake.url})
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    "pagination",
    [
        OFFSET,
        {"type": "PAGE", "limitName": "per_page", "limitValue": 2, "pageParamName": "page"},
        {"type": "CONTINUATION_TOKEN", "continuationTokenPath": "$.more", "parameterName": "after"},
    ],
)
def test_an_api_that_ignores_pagination_is_stopped_after_the_repeated_page(
    tmp_path: Any, fake: Any, pagination: dict[str, Any]
) -> None:
    folder = write_connector(
        tmp_path / "c",
        {
            "spec": {"type": "object", "properties": {"base": {"type": "string"}}},
            "streams": {
                "s": {
                    "urlParams": {"host": "${base}", "path": "/stuck"},
                    "contentPath": {"path": "$.items"},
                    "paginationParams": pagination,
                }
            },
        },
    )
    with pytest.raises(PaginationLoopError, match="same (page|token)"):
        Run(folder, {"base": fake.url})
    assert len(fake.requests) == 2


def test_continuation_token_queryparam_with_delay_on_the_session_clock(tmp_path: Any, demo: Any) -> None:
    pag = {
        "type": "CONTINUATION_TOKEN",
        "continuationTokenPath": "$.next_cursor",
        "parameterType": "QUERYPARAM",
        "parameterName": "cursor",
        "limitName": "limit",
        "limitValue": 50,
        "delayRequestMillis": "850",
    }
    run = read(tmp_path, demo, pag)
    assert ids(run) == list(range(1, 238))
    assert demo.count("/users") == 5
    assert run.clock.sleeps == [0.85] * 4  # one delay before each of the 4 following requests, none slept


@pytest.mark.parametrize(
    ("end", "requests"),
    [({}, 6), ({"endConditionName": "$.meta.has_more", "endConditionValue": "Const:false"}, 5)],
)
def test_continuation_token_headerparam_zendesk_shape(
    tmp_path: Any, fake: Any, end: dict[str, Any], requests: int
) -> None:
    folder = write_connector(
        tmp_path / "c",
        {
            "spec": {"type": "object", "properties": {"base": {"type": "string"}}},
            "streams": {
                "users": {
                    "urlParams": {
                        "host": "${base}",
                        "path": "/api/v2/search/export.json",
                        "method": "GET",
                        "queryParams": {"page[size]": "5", "filter[type]": "user"},
                    },
                    "contentPath": {"path": "$.results"},
                    "paginationParams": {
                        "type": "CONTINUATION_TOKEN",
                        "continuationTokenPath": "$.meta.after_cursor",
                        "parameterType": "HEADERPARAM",
                        "parameterName": "X-After",
                        **end,
                    },
                }
            },
        },
        streams=[{"name": "users", "primary_key": ["results.id"]}],
    )
    run = Run(folder, {"base": fake.url})
    assert [d["results"]["id"] for d in run.data] == list(range(1, 24))
    assert len(fake.requests) == requests
    assert [r["headers"].get("X-After") for r in fake.requests[:3]] == [None, "c5", "c10"]
    assert all("page%5Bafter%5D" not in r["query"] for r in fake.requests)


@pytest.mark.parametrize(
    ("end_page", "n", "requests"),
    [
        (
            "headers.x-pagecount",
            237,
            5,
        ),  # 5 pages by the X-PageCount response header (seed: headers.x-pagecount)
        ("$.total_pages", 237, 5),
        (2, 100, 2),  # a fixed last page number
        (None, 237, 6),  # no end: the empty page stops it
    ],
)
def test_page(tmp_path: Any, demo: Any, end_page: Any, n: int, requests: int) -> None:
    pag = {
        "type": "PAGE",
        "limitName": "per_page",
        "limitValue": 50,
        "initialPageIndex": 1,
        "pageParamName": "page",
        "endPageIndex": end_page,
    }
    run = read(tmp_path, demo, {k: v for k, v in pag.items() if v is not None})
    assert ids(run) == list(range(1, n + 1))
    assert demo.count("/users") == requests
    assert "page=1&" in demo.requests[0]["query"] or demo.requests[0]["query"].endswith("page=1")


def test_page_maximum_request_stops_checkpoints_and_the_next_run_continues(tmp_path: Any, demo: Any) -> None:
    from cdk.sdk.runner import StateStore

    pag = {
        "type": "PAGE",
        "limitName": "per_page",
        "limitValue": 10,
        "initialPageIndex": 1,
        "pageParamName": "page",
        "maximumRequest": 3,
    }
    state = StateStore(tmp_path / "state.json")
    first: list[Any] = []
    with pytest.raises(MaximumRequestReached, match=r"stream 's'.*maximumRequest=3.*30 records") as caught:
        read(tmp_path, demo, pag, state=state, out=first)
    assert caught.value.exit_code == 4 and (caught.value.requests, caught.value.records) == (3, 30)
    assert [r.data["items"]["id"] for r in first] == list(range(1, 31))
    assert demo.count("/users") == 3  # the 4th request was never sent
    saved = StateStore(tmp_path / "state.json").get("s")
    assert saved["status"] == "running" and saved["pagination"]["page"] == 4 and saved["records"] == 30
    # each run has its own budget of 3 requests; runs 2..8 stop at the cap too, the 9th ends on its
    # empty page (page 25); together they read every record exactly once
    runs = 1
    while True:
        runs += 1
        try:
            Run(tmp_path / "c", {"base": demo.url}, state=StateStore(tmp_path / "state.json"), out=first)
            break
        except MaximumRequestReached:
            assert runs < 20
    assert [r.data["items"]["id"] for r in first] == list(range(1, 238))
    assert runs == 9 and demo.count("/users") == 25
    assert StateStore(tmp_path / "state.json").get("s")["status"] == "done"


def test_maximum_request_with_allow_partial_ends_the_run_at_the_cap(tmp_path: Any, demo: Any) -> None:
    from cdk.sdk.runner import StateStore

    pag = {**PAGE_1, "maximumRequest": 1}
    run = read(tmp_path, demo, pag, state=StateStore(tmp_path / "state.json"), allow_partial=True)
    assert ids(run) == list(range(1, 101)) and not run.summary.completed
    assert run.summary.stopped_by == "maximumRequest=1" and "maximumRequest=1" in run.summary.extra["partial"]
    assert StateStore(tmp_path / "state.json").get("s")["pagination"]["page"] == 2


def test_page_default_initial_index_is_zero(tmp_path: Any, demo: Any) -> None:
    pag = {"type": "PAGE", "limitName": "per_page", "limitValue": 100, "pageParamName": "page"}
    read(tmp_path, demo, {**pag, "maximumRequest": 1}, allow_partial=True)
    assert "page=0" in demo.requests[0]["query"]


def test_none_is_one_request(tmp_path: Any, demo: Any) -> None:
    run = read(tmp_path, demo, {"type": "NONE"})
    assert ids(run) == list(range(1, 101))  # the API's default page
    assert demo.count("/users") == 1


def test_resume_after_an_interrupted_read_loses_and_repeats_nothing(tmp_path: Any, demo: Any) -> None:
    from cdk.sdk.runner import StateStore

    state = StateStore(tmp_path / "state.json")
    first = read(tmp_path, demo, OFFSET, state=state, max_iterations=2)
    assert len(first.records) == 100 and not first.summary.completed
    second = Run(tmp_path / "c", {"base": demo.url}, state=StateStore(tmp_path / "state.json"))
    assert ids(first) + ids(second) == list(range(1, 238))
