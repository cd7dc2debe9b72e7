"""Connectors for real APIs' shapes, written from docs/declarative.md as a user would (issue 18 review).

Against imitations on 127.0.0.1 (decl_real_apis): GitHub (Link header with next/last/first/prev on one
line, a repo's issues as a child of the repo list, ``since``), Stripe (``has_more`` + ``starting_after`` =
the last record's id), Shopify (``page_info`` links that must not repeat the first request's params),
Elasticsearch/Algolia (pagination in a POST body) and HubSpot (``paging.next.after``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from decl_helpers import Run, write_connector
from decl_real_apis import CONTACTS, CUSTOMERS, DOCS, ORDERS, REPOS, RealAPIs, issues_of

from cdk.declarative.checks import validate_declarative
from cdk.project import Project

SPEC = {"type": "object", "properties": {"base": {"type": "string"}}, "required": ["base"]}


@pytest.fixture(scope="module")
def real_server() -> Any:
    with RealAPIs() as api:
        yield api


@pytest.fixture()
def api(real_server: RealAPIs) -> RealAPIs:
    return real_server.reset()


def findings(folder: Path) -> list[Any]:
    """What ``cdk validate`` reports, but R006 (the host comes from the config: here, the test server's)."""
    return [f for f in validate_declarative(Project.load(folder)) if f.rule != "R006"]


def one(
    folder: Path, stream: dict[str, Any], name: str = "s", pk: list[str] | None = None, **kw: Any
) -> Path:
    return write_connector(
        folder,
        {"spec": SPEC, "streams": {name: stream}},
        streams=[{"name": name, "primary_key": pk or ["id"]}],
        **kw,
    )


REPOS_STREAM = {
    "urlParams": {"host": "${base}", "path": "/user/repos"},
    "contentPath": {"path": "$", "overrideWrapperAttribute": ""},
    "paginationParams": {"type": "LINK", "limitName": "per_page", "limitValue": 2},
    "schema": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "full_name": {"type": "string"},
                "owner": {"type": "object", "properties": {"login": {"type": "string"}}},
            },
        },
    },
}


def issues_stream(path: str, **extra: Any) -> dict[str, Any]:
    return {
        "urlParams": {"host": "${base}", "path": path},
        "contentPath": {"path": "$", "overrideWrapperAttribute": ""},
        "paginationParams": {"type": "LINK", "limitName": "per_page", "limitValue": 2},
        "parent": {"stream": "repos"},
        **extra,
    }


def github(folder: Path, issues: dict[str, Any], **kw: Any) -> Path:
    return write_connector(
        folder,
        {"spec": SPEC, "streams": {"repos": REPOS_STREAM, "issues": issues}},
        streams=[
            {"name": "repos", "primary_key": ["id"], "cursor_field": "updated_at"},
            {"name": "issues", "primary_key": ["id"], "cursor_field": "updated_at"},
        ],
        **kw,
    )


ALL_ISSUES = sorted(i["id"] for r in REPOS for i in issues_of(r["full_name"]))


def test_github_repos_link_header_with_four_rels(tmp_path: Path, api: RealAPIs) -> None:
    folder = one(tmp_path / "c", REPOS_STREAM, "repos")
    assert [f for f in findings(folder)] == []
    run = Run(folder, {"base": api.url}, stream="repos")
    assert [d["id"] for d in run.data] == [1, 2, 3]
    assert api.paths() == ["/user/repos?per_page=2", "/user/repos?per_page=2&page=2"]


def test_github_issues_per_repo_owner_and_name(tmp_path: Path, api: RealAPIs) -> None:
    folder = github(tmp_path / "c", issues_stream("/repos/${parent.owner.login}/${parent.name}/issues"))
    assert [f for f in findings(folder)] == []
    run = Run(folder, {"base": api.url}, stream="issues")
    assert sorted(d["id"] for d in run.data) == ALL_ISSUES
    assert len(run.data) == len(ALL_ISSUES)


def test_github_issues_full_name_is_escaped_as_one_segment(tmp_path: Path, api: RealAPIs) -> None:
    folder = github(tmp_path / "c", issues_stream("/repos/${parent.full_name}/issues"))
    from cdk.errors import ConnectorError

    with pytest.raises(ConnectorError, match="404") as caught:
        Run(folder, {"base": api.url}, stream="issues")
    # before: the hint only said "check urlParams and the config values it uses"
    assert "'%2F'" in (caught.value.hint or "") and "${parent.owner.login}/${parent.name}" in (
        caught.value.hint or ""
    )
    assert api.paths("/repos/")[0] == "/repos/octo%2Fhello/issues?per_page=2"


def test_github_issues_with_duplicate_parent_across_pages(tmp_path: Path, api: RealAPIs) -> None:
    api.repos_dupes = True  # repo 2 ("octo/empty") on page 1 and again on page 2; make it hello
    api.repos = [REPOS[1], REPOS[0], REPOS[2]]
    folder = github(tmp_path / "c", issues_stream("/repos/${parent.owner.login}/${parent.name}/issues"))
    run = Run(folder, {"base": api.url}, stream="issues")
    # before: PaginationLoopError on the second read of octo/hello (its page-2 link was "already fetched")
    assert run.summary.completed
    # octo/hello comes on both parent pages: read twice, as documented (3 pages each time)
    assert sorted(d["id"] for d in run.data) == sorted(
        ALL_ISSUES + [i["id"] for i in issues_of("octo/hello")]
    )
    assert api.paths("/repos/octo/hello/").count("/repos/octo/hello/issues?per_page=2") == 2


def test_github_since_incremental_two_runs(tmp_path: Path, api: RealAPIs) -> None:
    issues = issues_stream(
        "/repos/${parent.owner.login}/${parent.name}/issues",
        scheduleParams={
            "scheduleStartParamName": "since",
            "scheduleStartParamFormat": "yyyy-MM-ddTHH:mm:ssK",
        },
    )
    folder = github(tmp_path / "c", issues, capabilities=["batch_extract", "incremental"])
    # R014: the repos list cannot filter by time (true: GitHub's /user/repos has no since)
    assert [(f.rule, f.message) for f in findings(folder)] == [
        ("R014", "stream 'repos' has no scheduleParams: incremental reads cannot filter by time")
    ]
    state = tmp_path / "state.json"
    from cdk.sdk.runner import StateStore

    first = Run(folder, {"base": api.url}, stream="issues", incremental=True, state=StateStore(state))
    assert sorted(d["id"] for d in first.data) == ALL_ISSUES
    api.requests.clear()
    second = Run(folder, {"base": api.url}, stream="issues", incremental=True, state=StateStore(state))
    print(api.paths("/repos/"))
    # each repo continues from its own cursor: only the newest issue (since is inclusive) comes again
    assert sorted(d["id"] for d in second.data) == ["cat/world#3", "octo/hello#5"]


def test_stripe_has_more_starting_after_last_id(tmp_path: Path, api: RealAPIs) -> None:
    stream = {
        "urlParams": {"host": "${base}", "path": "/v1/customers"},
        "contentPath": {"path": "$.data", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "CONTINUATION_TOKEN",
            "continuationTokenPath": "$.data[-1].id",
            "parameterName": "starting_after",
            "limitName": "limit",
            "limitValue": 3,
            "endConditionName": "$.has_more",
            "endConditionValue": "Const:false",
        },
    }
    folder = one(tmp_path / "c", stream)
    assert [f for f in findings(folder)] == []
    run = Run(folder, {"base": api.url})
    assert [d["id"] for d in run.data] == [c["id"] for c in CUSTOMERS]
    assert api.paths() == [
        "/v1/customers?limit=3",
        "/v1/customers?limit=3&starting_after=cus_003",
        "/v1/customers?limit=3&starting_after=cus_006",
    ]


def test_shopify_page_info_link_does_not_repeat_first_params(tmp_path: Path, api: RealAPIs) -> None:
    stream = {
        "urlParams": {"host": "${base}", "path": "/admin/orders.json", "queryParams": {"status": "any"}},
        "contentPath": {"path": "$.orders", "overrideWrapperAttribute": ""},
        "paginationParams": {"type": "LINK", "limitName": "limit", "limitValue": 3},
    }
    folder = one(tmp_path / "c", stream)
    assert [f for f in findings(folder)] == []
    run = Run(folder, {"base": api.url})
    assert [d["id"] for d in run.data] == [o["id"] for o in ORDERS]
    assert len(api.requests) == 3


def test_elasticsearch_from_size_in_body(tmp_path: Path, api: RealAPIs) -> None:
    stream = {
        "urlParams": {"host": "${base}", "path": "/idx/_search", "method": "POST"},
        "bodyParams": {"query": {"match_all": {}}},
        "contentPath": {"path": "$.hits.hits", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "OFFSET",
            "limitName": "size",
            "limitValue": 4,
            "offSetName": "from",
            "parameterType": "BODYPARAM",
        },
    }
    folder = one(tmp_path / "c", stream, pk=["_id"])
    assert [f for f in findings(folder)] == []
    run = Run(folder, {"base": api.url})
    assert [d["_id"] for d in run.data] == [d["_id"] for d in DOCS]


def test_algolia_page_in_body(tmp_path: Path, api: RealAPIs) -> None:
    stream = {
        "urlParams": {"host": "${base}", "path": "/1/indexes/i/query", "method": "POST"},
        "bodyParams": {"params": "query=x"},
        "contentPath": {"path": "$.hits", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "PAGE",
            "limitName": "hitsPerPage",
            "limitValue": 4,
            "pageParamName": "page",
            "endPageIndex": "$.nbPages",
            "parameterType": "BODYPARAM",
        },
    }
    folder = one(tmp_path / "c", stream, pk=["objectID"])
    assert [f for f in findings(folder)] == []
    run = Run(folder, {"base": api.url})
    assert [d["objectID"] for d in run.data] == [d["_id"] for d in DOCS]
    assert len(api.requests) == 3


def test_hubspot_paging_next_after(tmp_path: Path, api: RealAPIs) -> None:
    stream = {
        "urlParams": {"host": "${base}", "path": "/crm/v3/objects/contacts"},
        "contentPath": {"path": "$.results", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "CONTINUATION_TOKEN",
            "continuationTokenPath": "$.paging.next.after",
            "parameterName": "after",
            "limitName": "limit",
            "limitValue": 4,
        },
    }
    folder = one(tmp_path / "c", stream)
    assert [f for f in findings(folder)] == []
    run = Run(folder, {"base": api.url})
    assert [d["id"] for d in run.data] == [c["id"] for c in CONTACTS]
    assert len(api.requests) == 3


def test_discover_top_level_array_with_custom_schema(tmp_path: Path) -> None:
    """GitHub answers a bare array (contentPath ``$``); the spec's custom schema describes that array.
    Before: ``cdk discover`` died with an internal AttributeError and R033 called the schema unknown."""
    import json
    import subprocess
    import sys

    folder = one(tmp_path / "c", REPOS_STREAM, "repos")
    done = subprocess.run(
        [sys.executable, "-m", "cdk", "discover", "-C", str(folder), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    text = json.dumps(schema)
    assert '"full_name"' in text and '"login"' in text


def test_parent_with_no_records_reads_nothing(tmp_path: Path, api: RealAPIs) -> None:
    api.repos = []
    folder = github(tmp_path / "c", issues_stream("/repos/${parent.owner.login}/${parent.name}/issues"))
    run = Run(folder, {"base": api.url}, stream="issues")
    assert run.data == [] and run.summary.completed
    assert api.paths() == ["/user/repos?per_page=2"]


def test_expressions_in_header_and_body_follow_the_window_across_runs(tmp_path: Path, api: RealAPIs) -> None:
    from cdk.sdk.runner import StateStore

    stream = {
        "urlParams": {"host": "${base}", "path": "/idx/_search", "method": "POST"},
        "headerParams": {"X-Since": "@{coalesce(pipeline()?.parameters?.ingestionStart, 'full')}"},
        "bodyParams": {
            "query": {
                "range": {
                    "ts": {
                        "gte": "@{pipeline().parameters.ingestionStart}",
                        "lt": "@{pipeline().parameters.ingestionEnd}",
                    }
                }
            }
        },
        "contentPath": {"path": "$.hits.hits", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "OFFSET",
            "limitName": "size",
            "limitValue": 4,
            "offSetName": "from",
            "parameterType": "BODYPARAM",
        },
    }
    folder = write_connector(
        tmp_path / "c",
        {"spec": SPEC, "streams": {"s": stream}},
        streams=[{"name": "s", "primary_key": ["_id"], "cursor_field": "_source.ts"}],
        capabilities=["batch_extract", "incremental"],
    )
    # before: R014 warned that the stream cannot filter by time, though ingestionStart does just that
    assert findings(folder) == []
    state = StateStore(tmp_path / "state.json")
    Run(folder, {"base": api.url}, incremental=True, state=state)
    first = [(h["X-Since"], b["query"]["range"]["ts"]) for _, _, _, h, b in api.requests]
    api.requests.clear()
    Run(folder, {"base": api.url}, incremental=True, state=StateStore(tmp_path / "state.json"))
    second = [(h["X-Since"], b["query"]["range"]["ts"]) for _, _, _, h, b in api.requests]
    print(first, second)
    end = "2026-01-01T00:00:00Z"
    assert first == [("1970-01-01T00:00:00Z", {"gte": "1970-01-01T00:00:00Z", "lt": end})] * 4
    assert second[0] == ("2024-01-11T00:00:00Z", {"gte": "2024-01-11T00:00:00Z", "lt": end})


def test_child_of_an_incremental_parent(tmp_path: Path, api: RealAPIs) -> None:
    """The parent has its own window (``since``); as a parent it is read in full, each run."""
    from cdk.sdk.runner import StateStore

    repos = {**REPOS_STREAM, "scheduleParams": {"scheduleStartParamName": "since"}}
    issues = issues_stream(
        "/repos/${parent.owner.login}/${parent.name}/issues",
        scheduleParams={
            "scheduleStartParamName": "since",
            "scheduleStartParamFormat": "yyyy-MM-ddTHH:mm:ssK",
        },
    )
    folder = write_connector(
        tmp_path / "c",
        {"spec": SPEC, "streams": {"repos": repos, "issues": issues}},
        streams=[
            {"name": "repos", "primary_key": ["id"], "cursor_field": "updated_at"},
            {"name": "issues", "primary_key": ["id"], "cursor_field": "updated_at"},
        ],
        capabilities=["batch_extract", "incremental"],
    )
    assert findings(folder) == []
    for expected in (ALL_ISSUES, ["cat/world#3", "octo/hello#5"]):
        api.requests.clear()
        run = Run(
            folder,
            {"base": api.url},
            stream="issues",
            incremental=True,
            state=StateStore(tmp_path / "s.json"),
        )
        assert sorted(d["id"] for d in run.data) == expected
        assert api.paths("/user/") == ["/user/repos?per_page=2", "/user/repos?per_page=2&page=2"]


def test_sigkill_link_child_of_link_parent_resumes(tmp_path: Path, api: RealAPIs) -> None:
    """`cdk read` of GitHub issues (LINK child of a LINK parent) killed at random moments, then run
    again with the same --state until it completes: every issue at least once, at most one child page
    (per_page=2) written twice per kill."""
    import json
    import random
    import signal
    import subprocess
    import sys
    import time

    api.delay = 0.03
    folder = github(tmp_path / "c", issues_stream("/repos/${parent.owner.login}/${parent.name}/issues"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"name": "t", "base": api.url}))
    state, out = tmp_path / "state.json", tmp_path / "out.jsonl"
    rng = random.Random(18)
    kills = 0
    for _ in range(30):
        seen = len(api.requests)
        with out.open("ab") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cdk", "read", "-C", str(folder), "--config", str(config)]
                + ["-s", "issues", "--state", str(state), "-q"],
                stdout=sink,
                stderr=subprocess.PIPE,
            )
        goal = seen + rng.randint(2, 5)
        deadline = time.monotonic() + 30
        while proc.poll() is None and len(api.requests) < goal and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.04))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode() if proc.stderr else ""
        kills += 1
    else:
        raise AssertionError("the read never completed")
    assert kills >= 2
    ids = [json.loads(line)["data"]["id"] for line in out.read_bytes().splitlines()]
    assert sorted(set(ids)) == ALL_ISSUES
    assert len(ids) - len(ALL_ISSUES) <= 2 * kills


def test_record_then_offline_replay_of_link_child_under_maximum_request(
    tmp_path: Path, api: RealAPIs
) -> None:
    """`cdk test --record` of the GitHub connector (LINK parent, LINK child), then `cdk test` offline:
    the replay passes and the API sees no request. Then `cdk read` with maximumRequest=2 on the child,
    run again with the same --state while it exits 4: every issue exactly once."""
    import json
    import subprocess
    import sys

    import yaml

    folder = github(tmp_path / "c", issues_stream("/repos/${parent.owner.login}/${parent.name}/issues"))
    (folder / "secrets").mkdir()
    (folder / "secrets" / "config.json").write_text(json.dumps({"name": "gh", "base": api.url}))

    def cdk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cdk", *args], cwd=folder, capture_output=True, text=True, timeout=120
        )

    recorded = cdk("test", "--record", "all")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert (folder / "tests" / "cassettes" / "read-issues.json").is_file()
    api.requests.clear()
    replayed = cdk("test")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert api.requests == []

    manifest = yaml.safe_load((folder / "connector.yaml").read_text())
    manifest["declarative"]["streams"]["issues"]["paginationParams"]["maximumRequest"] = 2
    (folder / "connector.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    codes, lines = [], []
    for _ in range(6):
        done = cdk("read", "--config", "secrets/config.json", "-s", "issues", "--state", "st.json", "-q")
        codes.append(done.returncode)
        lines += done.stdout.splitlines()
        if done.returncode != 4:
            break
    assert codes == [4, 4, 0]  # 6 child requests (hello 3, empty 1, world 2), 2 per run
    assert sorted(json.loads(line)["data"]["id"] for line in lines) == ALL_ISSUES


def test_booleans_and_nulls_in_query_and_headers_as_apis_expect(tmp_path: Path, api: RealAPIs) -> None:
    """YAML ``archived: false`` goes out as ``archived=false`` (before: Python's ``False``); a header whose
    expression gives null (ingestionStart on a full refresh) is left out (before: the text ``None``)."""
    stream = {
        "urlParams": {
            "host": "${base}",
            "path": "/crm/v3/objects/contacts",
            "queryParams": {
                "archived": False,
                "flags": [True, "x"],
                "updatedAfter": "@{pipeline().parameters.ingestionStart}",
                "same": "@{equals(1, 1)}",
            },
        },
        "headerParams": {
            "X-Since": "@{pipeline().parameters.ingestionStart}",
            "X-Debug": True,
            "X-Full": "@{empty(pipeline()?.parameters?.ingestionStart)}",
        },
        "contentPath": {"path": "$.results", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "CONTINUATION_TOKEN",
            "continuationTokenPath": "$.paging.next.after",
            "parameterName": "after",
            "limitName": "limit",
            "limitValue": 4,
        },
    }
    folder = one(tmp_path / "c", stream)
    assert findings(folder) == []
    run = Run(folder, {"base": api.url})
    assert len(run.data) == len(CONTACTS)
    for _, _, query, headers, _ in api.requests:
        assert (
            query["archived"] == ["false"] and query["flags"] == ["true", "x"] and query["same"] == ["true"]
        )
        assert "updatedAfter" not in query
        assert "X-Since" not in headers
        assert headers["X-Debug"] == "true" and headers["X-Full"] == "true"


def test_metadata_request_evaluates_header_expressions(tmp_path: Path, api: RealAPIs) -> None:
    """HubSpot's /crm/v3/properties/contacts as schemaParams: the stream's header expressions are
    evaluated for that request too (before: sent as the text '@{...}')."""
    from cdk.connector import instantiate, load_connector_class
    from cdk.sdk.http import ConnectorSession

    stream = {
        "urlParams": {"host": "${base}", "path": "/crm/v3/objects/contacts"},
        "headerParams": {"X-Window": "@{coalesce(pipeline()?.parameters?.ingestionStart, 'full')}"},
        "contentPath": {"path": "$.results", "overrideWrapperAttribute": ""},
        "schemaParams": {
            "path": "/crm/v3/properties/contacts",
            "fieldsPath": "$.results",
            "descriptionKey": "label",
            "target": "properties",
            "headerParams": {"X-Meta": "@{toUpper('yes')}"},
        },
    }
    folder = one(tmp_path / "c", stream)
    assert findings(folder) == []
    project = Project.load(folder)
    cls = load_connector_class(project)
    session = ConnectorSession(allowed_hosts=project.manifest.allowed_hosts)
    source = instantiate(project, cls, {"name": "t", "base": api.url}, stream="s", session=session)
    schema = source.get_json_schema("s")
    assert schema is not None
    assert set(schema["properties"]["properties"]["properties"]) == {"email", "age"}
    (_, path, _, headers, _) = api.requests[-1]
    assert path == "/crm/v3/properties/contacts"
    assert headers["X-Window"] == "full" and headers["X-Meta"] == "YES"


def test_hubspot_search_cursor_in_post_body(tmp_path: Path, api: RealAPIs) -> None:
    stream = {
        "urlParams": {"host": "${base}", "path": "/crm/v3/objects/contacts/search", "method": "POST"},
        "bodyParams": {"filterGroups": [], "sorts": ["id"]},
        "contentPath": {"path": "$.results", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "CONTINUATION_TOKEN",
            "continuationTokenPath": "$.paging.next.after",
            "parameterName": "after",
            "limitName": "limit",
            "limitValue": 4,
            "parameterType": "BODYPARAM",
        },
    }
    folder = one(tmp_path / "c", stream)
    assert findings(folder) == []
    run = Run(folder, {"base": api.url})
    assert [d["id"] for d in run.data] == [c["id"] for c in CONTACTS]
    bodies = [b for *_, b in api.requests]
    assert bodies[0] == {"filterGroups": [], "sorts": ["id"], "limit": 4}
    assert [b.get("after") for b in bodies] == [None, "504", "508"]


def test_ingestion_end_is_one_instant_for_every_page_without_schedule_params(
    tmp_path: Path, api: RealAPIs
) -> None:
    """An Elasticsearch range ``lt: ingestionEnd`` paged by from/size: every page must ask for the same
    window, or the result set shifts under the offsets. Requests are spaced 1 s apart on the virtual
    clock (delayRequestMillis); before, each page sent the time of its own request."""
    stream = {
        "urlParams": {"host": "${base}", "path": "/idx/_search", "method": "POST"},
        "bodyParams": {"query": {"range": {"ts": {"lt": "@{pipeline().parameters.ingestionEnd}"}}}},
        "contentPath": {"path": "$.hits.hits", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "OFFSET",
            "limitName": "size",
            "limitValue": 4,
            "offSetName": "from",
            "parameterType": "BODYPARAM",
            "delayRequestMillis": 1000,
        },
    }
    folder = one(tmp_path / "c", stream, pk=["_id"])
    run = Run(folder, {"base": api.url})
    assert len(run.data) == len(DOCS)
    ends = [b["query"]["range"]["ts"]["lt"] for *_, b in api.requests]
    assert len(ends) == 4 and set(ends) == {"2026-01-01T00:00:00Z"}
    # a read resumed from a checkpoint keeps that window too
    api.requests.clear()
    from cdk.sdk.runner import StateStore

    store = StateStore(tmp_path / "state.json")
    Run(folder, {"base": api.url}, state=store, max_iterations=2, allow_partial=True)
    import json

    saved = json.loads((tmp_path / "state.json").read_text())["streams"]["s"]["pagination"]
    assert saved["window_end"] == "2026-01-01T00:00:00+00:00"
    Run(folder, {"base": api.url}, state=StateStore(tmp_path / "state.json"))
    ends = [b["query"]["range"]["ts"]["lt"] for *_, b in api.requests]
    assert set(ends) == {"2026-01-01T00:00:00Z"}, ends


def test_validate_catches_a_parent_object_field_at_its_line(tmp_path: Path) -> None:
    """``${parent.owner}`` where the repos schema says owner is an object: the read would stop with
    InvalidResponseError at the first repo; before, cdk validate said nothing."""
    issues = issues_stream("/repos/${parent.owner}/${parent.name}/issues")
    issues["parent"] = {"stream": "repos", "fields": {"who": "owner"}}
    issues["headerParams"] = {"X-Who": "${who}"}
    folder = github(tmp_path / "c", issues)
    text = (folder / "connector.yaml").read_text()
    found = [(f.rule, f.line, f.column, f.message) for f in findings(folder)]
    lines = text.splitlines()
    # once per field, at its first use: parent.fields.who
    assert len(found) == 1 and found[0][0] == "R036", found
    _, line, column, message = found[0]
    assert "parent field 'owner' is an object in the schema of stream 'repos'" in message
    assert lines[line - 1][column:].startswith("who: owner")
    # without the mapping: at the path that names ${parent.owner}
    plain = github(tmp_path / "plain", issues_stream("/repos/${parent.owner}/${parent.name}/issues"))
    found = [(f.rule, f.line, f.column) for f in findings(plain)]
    plain_lines = (plain / "connector.yaml").read_text().splitlines()
    assert [r for r, *_ in found] == ["R036"]
    assert plain_lines[found[0][1] - 1][found[0][2] :].startswith("path: /repos/${parent.owner}/")
    # the same parent field named inside the object is fine
    ok = github(tmp_path / "ok", issues_stream("/repos/${parent.owner.login}/${parent.name}/issues"))
    assert findings(ok) == []


def test_child_since_from_an_expression_per_partition_across_runs(tmp_path: Path, api: RealAPIs) -> None:
    """GitHub's ``since`` written as an expression instead of scheduleParams: each repo's own cursor on
    the second run, nothing (a null parameter is not sent) on the first request of a full refresh."""
    from cdk.sdk.runner import StateStore

    issues = issues_stream("/repos/${parent.owner.login}/${parent.name}/issues")
    issues["urlParams"]["queryParams"] = {"since": "@{pipeline().parameters.ingestionStart}"}
    issues["headerParams"] = {"X-Until": "@{pipeline().parameters.ingestionEnd}"}
    folder = github(tmp_path / "c", issues, capabilities=["batch_extract", "incremental"])
    assert [f.rule for f in findings(folder)] == ["R014"]  # repos only: it has no time filter
    full = Run(folder, {"base": api.url}, stream="issues")
    assert sorted(d["id"] for d in full.data) == ALL_ISSUES
    assert all("since" not in q for _, p, q, _, _ in api.requests if p.startswith("/repos/"))
    for expected in (ALL_ISSUES, ["cat/world#3", "octo/hello#5"]):
        api.requests.clear()
        run = Run(
            folder, {"base": api.url}, stream="issues", incremental=True, state=StateStore(tmp_path / "s")
        )
        assert sorted(d["id"] for d in run.data) == expected
    since = {
        p: q["since"][0] for _, p, q, _, _ in api.requests if p.startswith("/repos/") and "page" not in q
    }
    assert since == {
        "/repos/octo/hello/issues": "2024-01-05T00:00:00Z",
        "/repos/octo/empty/issues": "1970-01-01T00:00:00Z",
        "/repos/cat/world/issues": "2024-01-03T00:00:00Z",
    }
    assert {h["X-Until"] for *_, h, _ in api.requests if "X-Until" in h} == {"2026-01-01T00:00:00Z"}


def test_cdk_test_records_and_replays_a_post_search_connector(tmp_path: Path, api: RealAPIs) -> None:
    """An Elasticsearch connector (POST, from/size in the body, a range on ingestionStart/End, a dotted
    cursor ``_source.ts``) passes `cdk test --record` and then `cdk test` offline. Before: the standard
    error tests failed (a POST answered 429/500 was not retried), and incremental[s] called every record
    of the second read "not newer" (``_source.ts=None``: the dotted cursor was read as one key)."""
    import json
    import subprocess
    import sys

    stream = {
        "urlParams": {"host": "${base}", "path": "/idx/_search", "method": "POST"},
        "bodyParams": {
            "query": {
                "range": {
                    "ts": {
                        "gt": "@{pipeline().parameters.ingestionStart}",
                        "lt": "@{pipeline().parameters.ingestionEnd}",
                    }
                }
            }
        },
        "contentPath": {"path": "$.hits.hits", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "OFFSET",
            "limitName": "size",
            "limitValue": 4,
            "offSetName": "from",
            "parameterType": "BODYPARAM",
        },
    }
    folder = write_connector(
        tmp_path / "c",
        {"spec": SPEC, "streams": {"s": stream}},
        streams=[{"name": "s", "primary_key": ["_id"], "cursor_field": "_source.ts"}],
        capabilities=["batch_extract", "incremental"],
    )
    (folder / "secrets").mkdir()
    (folder / "secrets" / "config.json").write_text(json.dumps({"name": "es", "base": api.url}))

    def cdk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cdk", "test", "--format", "json", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )

    recorded = cdk("--record", "all")
    assert recorded.returncode == 0, recorded.stdout[-3000:] + recorded.stderr
    api.requests.clear()
    replayed = cdk()
    assert replayed.returncode == 0, replayed.stdout[-3000:] + replayed.stderr
    assert api.requests == []
    report = json.dumps(json.loads(replayed.stdout))
    for name in ("incremental[s]", "errors[429-retry-after]", "errors[500-once]", "read[s]"):
        assert name in report


def test_standard_incremental_check_reads_a_dotted_cursor(tmp_path: Path, api: RealAPIs) -> None:
    """cdk test's incremental check on data that moved on between its two reads: the new document's
    ``_source.ts`` is newer. Before: it was read as the top-level key '_source.ts' (None), so the check
    failed with "returned 1 record(s) that are not newer: ... _source.ts=None"."""
    from cdk.connector import instantiate, load_connector_class
    from cdk.sdk.http import ConnectorSession
    from cdk.testing.standard import check_incremental

    stream = {
        "urlParams": {"host": "${base}", "path": "/idx/_search", "method": "POST"},
        "bodyParams": {"query": {"range": {"ts": {"gt": "@{pipeline().parameters.ingestionStart}"}}}},
        "contentPath": {"path": "$.hits.hits", "overrideWrapperAttribute": ""},
        "paginationParams": {
            "type": "OFFSET",
            "limitName": "size",
            "limitValue": 4,
            "offSetName": "from",
            "parameterType": "BODYPARAM",
        },
    }
    folder = write_connector(
        tmp_path / "c",
        {"spec": SPEC, "streams": {"s": stream}},
        streams=[{"name": "s", "primary_key": ["_id"], "cursor_field": "_source.ts"}],
        capabilities=["batch_extract", "incremental"],
    )
    project = Project.load(folder)
    cls = load_connector_class(project)
    api.grow = True

    def make() -> Any:
        session = ConnectorSession(allowed_hosts=project.manifest.allowed_hosts)
        return instantiate(project, cls, {"name": "t", "base": api.url}, stream="s", session=session)

    first, second = check_incremental(make, "s", "_source.ts")
    assert len(first.records) == len(DOCS)
    assert [rec.data["_id"] for _, _, rec in second.records] == [f"d{len(DOCS)}"]
