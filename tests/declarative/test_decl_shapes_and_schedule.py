"""Record shapes (contentPath skip/keep/override, explodeEntityPath), placeholders, POST bodies and schedules.

The documented shapes are in docs/declarative.md; these tests pin them against Mailchimp- and
Zendesk-shaped local servers.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest
from decl_fake_apis import MC_FORMAT, member, parse_mc
from decl_helpers import Run, write_connector

from cdk.errors import ConfigError, ConnectorError, EgressDeniedError

USER_SPEC = {
    "type": "object",
    "properties": {
        "base": {"type": "string"},
        "listId": {"type": "string"},
        "campaignId": {"type": "string"},
    },
}
OFFSET = {"type": "OFFSET", "limitName": "count", "limitValue": "100", "offSetName": "offset"}


def members(tmp_path: Any, content: dict[str, Any], **extra: Any) -> Any:
    return write_connector(
        tmp_path / "mc",
        {
            "spec": USER_SPEC,
            "streams": {
                "members": {
                    "urlParams": {"host": "${base}", "path": "/3.0/lists/${listId}/members", "method": "GET"},
                    "contentPath": content,
                    "paginationParams": OFFSET,
                    **extra,
                }
            },
        },
        streams=[{"name": "members", "primary_key": ["id"], "cursor_field": "last_changed"}],
        capabilities=["batch_extract", "incremental"],
    )


def test_seed_content_path_skip_and_override(tmp_path: Any, fake: Any) -> None:
    folder = members(
        tmp_path,
        {
            "path": "$.members",
            "skipAttributes": ["_links", "total_items", "list_id"],
            "overrideWrapperAttribute": "member",
        },
    )
    run = Run(folder, {"base": fake.url, "listId": "L1"})
    assert len(run.records) == 250
    expected = member("L1", 1)
    del expected["_links"], expected["list_id"]
    assert run.data[0] == {"member": expected}
    assert [r.id for r in run.records[:2]] == ["m00001", "m00002"]  # primary key found inside the wrapper
    assert run.records[0].timestamp == datetime(2024, 1, 1, 1, tzinfo=timezone.utc)


def test_without_override_the_wrapper_is_the_array_name_and_siblings_are_carried(
    tmp_path: Any, fake: Any
) -> None:
    run = Run(members(tmp_path, {"path": "$.members"}), {"base": fake.url, "listId": "L1"})
    first = run.data[0]
    assert set(first) == {"members", "list_id", "total_items", "_links"}
    assert first["members"] == member("L1", 1) and first["total_items"] == 250


def test_keep_attributes_keeps_only_those_names_at_both_levels(tmp_path: Any, fake: Any) -> None:
    folder = members(
        tmp_path,
        {
            "path": "$.members",
            "keepAttributes": ["id", "email_address", "total_items"],
            "overrideWrapperAttribute": "member",
        },
    )
    run = Run(folder, {"base": fake.url, "listId": "L1"})
    assert run.data[0] == {"total_items": 250, "member": {"id": "m00001", "email_address": "m1@example.com"}}


def test_explode_gives_one_record_per_activity_carrying_the_parent(tmp_path: Any, fake: Any) -> None:
    folder = write_connector(
        tmp_path / "ea",
        {
            "spec": USER_SPEC,
            "streams": {
                "activity": {
                    "urlParams": {"host": "${base}", "path": "/3.0/reports/${campaignId}/email-activity"},
                    "contentPath": {
                        "path": "$.emails",
                        "skipAttributes": ["_links", "total_items"],
                        "overrideWrapperAttribute": "email",
                    },
                    "explodeEntityPath": {
                        "path": "$.email.activity",
                        "skipAttributes": ["list_id"],
                        "overrideWrapperAttribute": "activity",
                    },
                    "paginationParams": {**OFFSET, "limitValue": 3},
                }
            },
        },
    )
    run = Run(folder, {"base": fake.url, "campaignId": "C9"})
    # emails 1..7 have 1 + i % 2 activities: 2,1,2,1,2,1,2 = 11
    assert len(run.records) == 11
    assert run.data[0] == {
        "campaign_id": "C9",
        "email": {"campaign_id": "C9", "email_id": "e1", "email_address": "e1@example.com"},
        "activity": {"action": "open", "timestamp": "2024-01-02T00:00:00Z"},
    }
    assert run.data[1]["activity"]["action"] == "click" and run.data[1]["email"]["email_id"] == "e1"
    assert [d["email"]["email_id"] for d in run.data[2:3]] == ["e2"]


def test_placeholders_fill_host_path_and_are_url_escaped(tmp_path: Any, fake: Any) -> None:
    port = fake.url.rsplit(":", 1)[1]
    folder = write_connector(
        tmp_path / "p",
        {
            "spec": {
                "type": "object",
                "properties": {
                    "domain": {"type": "string"},
                    "listId": {"type": "string"},
                    "port": {"type": "string"},
                },
            },
            "streams": {
                "members": {
                    "urlParams": {
                        "host": "http://{domain}:${port}",
                        "path": "/3.0/lists/${listId}/members",
                        "queryParams": {"fields": "${listId}"},
                    },
                    "headerParams": {"X-List": "${listId}"},
                    "contentPath": {"path": "$.members"},
                    "paginationParams": {"type": "NONE"},
                }
            },
        },
    )
    run = Run(folder, {"domain": "127.0.0.1", "port": port, "listId": "a b/c"})
    assert fake.requests[0]["path"] == "/3.0/lists/a%20b%2Fc/members"
    assert "fields=a+b%2Fc" in fake.requests[0]["query"]
    assert fake.requests[0]["headers"]["X-List"] == "a b/c"
    assert run.data[0]["members"]["list_id"] == "a%20b%2Fc"  # the server saw the escaped segment


def test_missing_placeholder_value_is_a_config_error_naming_it(tmp_path: Any, fake: Any) -> None:
    folder = members(tmp_path, {"path": "$.members"})
    with pytest.raises(ConfigError, match=r"\$\{listId\}"):
        Run(folder, {"base": fake.url})


def test_host_outside_allowed_hosts_is_refused_by_the_session(tmp_path: Any, fake: Any) -> None:
    folder = write_connector(
        tmp_path / "e",
        {
            "spec": USER_SPEC,
            "streams": {
                "m": {
                    "urlParams": {"host": "${base}", "path": "/3.0/lists/L/members"},
                    "contentPath": {"path": "$.members"},
                }
            },
        },
        allowed_hosts=["api.example.com"],
    )
    with pytest.raises(EgressDeniedError):
        Run(folder, {"base": fake.url})
    assert fake.requests == []


def test_post_body_params_with_placeholders_and_offset_end_condition(tmp_path: Any, fake: Any) -> None:
    folder = write_connector(
        tmp_path / "post",
        {
            "spec": {
                "type": "object",
                "properties": {"base": {"type": "string"}, "kind": {"type": "string"}},
            },
            "streams": {
                "rows": {
                    "urlParams": {"host": "${base}", "path": "/search", "method": "POST"},
                    "bodyParams": {"filter": "${kind}"},
                    "contentPath": {"path": "$.data.rows"},
                    "paginationParams": {
                        "type": "OFFSET",
                        "limitName": "limit",
                        "limitValue": 5,
                        "offSetName": "offset",
                        "endConditionName": "$.more",
                        "endConditionValue": "Const:false",
                    },
                }
            },
        },
    )
    run = Run(folder, {"base": fake.url, "kind": "vip"})
    assert [d["rows"]["id"] for d in run.data] == list(range(1, 13))
    assert all(d["rows"]["kind"] == "vip" for d in run.data)
    assert [r["body"] for r in fake.requests] == [{"filter": "vip"}] * 3


SCHEDULE = {
    "scheduleStartParamName": "since_last_changed",
    "scheduleEndParamName": "before_last_changed",
    "scheduleStartParamFormat": "yyyy-MM-ddTHH:mm:ss:fffffffK",
    "scheduleEndParamFormat": "yyyy-MM-ddTHH:mm:ss:fffffffK",
}


def test_schedule_params_reach_the_server_in_the_declared_format(tmp_path: Any, fake: Any) -> None:
    from cdk.sdk.runner import StateStore

    folder = members(
        tmp_path, {"path": "$.members", "overrideWrapperAttribute": "member"}, scheduleParams=SCHEDULE
    )
    state = StateStore(tmp_path / "state.json")
    full = Run(folder, {"base": fake.url, "listId": "L1"}, incremental=True, state=state)
    assert len(full.records) == 250
    first = fake.queries("/3.0/lists")[0]
    # the first incremental run starts at the epoch; the window ends at the (virtual) run time
    assert first["since_last_changed"] == ["1970-01-01T00:00:00:0000000Z"]
    assert first["before_last_changed"] == ["2026-01-01T00:00:00:0000000Z"]
    assert all(MC_FORMAT.match(q["before_last_changed"][0]) for q in fake.queries("/3.0/lists"))
    # every page of one run uses the same window
    assert len({q["before_last_changed"][0] for q in fake.queries("/3.0/lists")}) == 1

    fake.requests.clear()
    fake.members = 260  # ten newer members appear
    again = Run(
        folder,
        {"base": fake.url, "listId": "L1"},
        incremental=True,
        state=StateStore(tmp_path / "state.json"),
    )
    assert [d["member"]["id"] for d in again.data] == [f"m{i:05d}" for i in range(251, 261)]
    since = parse_mc(fake.queries("/3.0/lists")[0]["since_last_changed"][0])
    assert since == datetime(2024, 1, 11, 10, tzinfo=timezone.utc)  # member 250's last_changed


def test_full_refresh_sends_only_the_window_end(tmp_path: Any, fake: Any) -> None:
    folder = members(tmp_path, {"path": "$.members"}, scheduleParams=SCHEDULE)
    run = Run(folder, {"base": fake.url, "listId": "L1"})
    assert len(run.records) == 250
    q = fake.queries("/3.0/lists")[0]
    assert "since_last_changed" not in q
    assert q["before_last_changed"] == ["2026-01-01T00:00:00:0000000Z"]


@pytest.mark.parametrize("incremental", [False, True])
def test_advance_schedule_query_is_placed_at_schedule_query(
    tmp_path: Any, fake: Any, incremental: bool
) -> None:
    from cdk.sdk.runner import StateStore

    folder = write_connector(
        tmp_path / "z",
        {
            "spec": USER_SPEC,
            "streams": {
                "users": {
                    "urlParams": {
                        "host": "${base}",
                        "path": "/api/v2/search/export.json",
                        "method": "GET",
                        "queryParams": {
                            "query": "{SCHEDULE_QUERY}",
                            "filter[type]": "user",
                            "page[size]": "10",
                        },
                    },
                    "contentPath": {"path": "$.results"},
                    "paginationParams": {
                        "type": "CONTINUATION_TOKEN",
                        "continuationTokenPath": "$.meta.after_cursor",
                        "parameterType": "QUERYPARAM",
                        "parameterName": "page[after]",
                        "endConditionName": "$.meta.has_more",
                        "endConditionValue": "Const:false",
                    },
                    "scheduleParams": {
                        "type": "ADVANCE",
                        "paramFormat": "yyyy-MM-ddTHH:mm:ssK",
                        "incremental": "type:user updated > {START_TIME} updated < {END_TIME}",
                        "backfill": "type:user updated < {END_TIME}",
                    },
                }
            },
        },
        streams=[{"name": "users", "primary_key": ["id"], "cursor_field": "updated_at"}],
        capabilities=["batch_extract", "incremental"],
    )
    run = Run(folder, {"base": fake.url}, incremental=incremental, state=StateStore(None))
    assert len(run.records) == 23
    queries = fake.queries("/api/v2/search")
    expected = (
        "type:user updated > 1970-01-01T00:00:00Z updated < 2026-01-01T00:00:00Z"
        if incremental
        else "type:user updated < 2026-01-01T00:00:00Z"
    )
    assert [q["query"] for q in queries] == [[expected]] * 3
    assert [q.get("page[after]") for q in queries] == [None, ["c10"], ["c20"]]
    assert all(q["filter[type]"] == ["user"] for q in queries)


def test_check_connection_reports_instead_of_raising(tmp_path: Any, fake: Any) -> None:
    run = Run(members(tmp_path, {"path": "$.members"}), {"base": fake.url, "listId": "L1"})
    assert run.source.check_connection() == (True, None)
    bad = write_connector(
        tmp_path / "bad",
        {
            "spec": USER_SPEC,
            "streams": {
                "m": {
                    "urlParams": {"host": "${base}", "path": "/nope"},
                    "contentPath": {"path": "$.x"},
                    "paginationParams": {"type": "NONE"},
                }
            },
        },
    )
    from cdk.connector import instantiate, load_connector_class
    from cdk.project import Project

    project = Project.load(bad)
    source = instantiate(project, load_connector_class(project), {"name": "t", "base": fake.url}, stream="m")
    ok, reason = source.check_connection()
    assert not ok and re.search(r"404", reason or "")


def test_errors_never_print_the_query_string_that_may_hold_a_key(tmp_path: Any, fake: Any) -> None:
    folder = write_connector(
        tmp_path / "k",
        {
            "spec": {
                "type": "object",
                "properties": {"base": {"type": "string"}, "key": {"type": "string", "writeOnly": True}},
            },
            "streams": {
                "m": {
                    "urlParams": {
                        "host": "${base}",
                        "path": "/missing",
                        "queryParams": {"api_key": "${key}"},
                    },
                    "contentPath": {"path": "$.x"},
                }
            },
        },
    )
    with pytest.raises(ConnectorError) as info:
        Run(folder, {"base": fake.url, "key": "TOPSECRET"})
    assert "404" in str(info.value) and "TOPSECRET" not in str(info.value)


def test_the_seed_document_as_is_under_declarative(tmp_path: Any, fake: Any) -> None:
    import json
    from pathlib import Path

    seed = json.loads("{" + (Path(__file__).parent / "data" / "mailchimp_members_seed.txt").read_text() + "}")
    port = fake.url.rsplit(":", 1)[1]
    seed["sourceSpec"]["attributes"]["urlParams"]["host"] = f"http://{{domain}}:{port}"
    seed["sourceSpec"]["spec"]["properties"]["domain"] = {"type": "string"}
    folder = write_connector(
        tmp_path / "seed", seed, streams=[{"name": "members", "primary_key": ["member.id"]}]
    )
    run = Run(folder, {"domain": "127.0.0.1", "listId": "L7"})
    assert [r.id for r in run.records] == [f"m{i:05d}" for i in range(1, 251)]
    assert set(run.data[0]) == {"member"}
    assert fake.queries("/3.0/lists/L7/members")[0]["count"] == ["100"]
