"""Child streams (issue 18): a stream read once per parent record, with state per parent partition.

Against the fake Mailchimp on 127.0.0.1: ``campaigns`` (the parent, 5 campaigns, one id holding a space
and a slash) and ``email_activity`` (the child, ``/3.0/reports/${campaignId}/email-activity``, 7 emails
per campaign, pages of 3).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from decl_helpers import Run, write_connector

from cdk.declarative.checks import RULES, validate_declarative
from cdk.declarative.children import partition_key
from cdk.project import Project
from cdk.sdk.runner import StateStore

SPEC = {
    "type": "object",
    "properties": {"base": {"type": "string"}},
    "required": ["base"],
}
OFFSET3 = {"type": "OFFSET", "limitName": "count", "limitValue": 3, "offSetName": "offset"}
CAMPAIGNS = {
    "urlParams": {"host": "${base}", "path": "/3.0/campaigns", "method": "GET"},
    "contentPath": {"path": "$.campaigns", "skipAttributes": ["total_items"], "overrideWrapperAttribute": ""},
    "paginationParams": {**OFFSET3, "limitValue": 2},
}
SCHEDULE = {
    "scheduleStartParamName": "since_last_changed",
    "scheduleEndParamName": "before_last_changed",
    "scheduleStartParamFormat": "yyyy-MM-ddTHH:mm:ss:fffffffK",
    "scheduleEndParamFormat": "yyyy-MM-ddTHH:mm:ss:fffffffK",
}


def activity(path: str = "/3.0/reports/${campaignId}/email-activity", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "urlParams": {"host": "${base}", "path": path, "method": "GET"},
        "contentPath": {
            "path": "$.emails",
            "skipAttributes": ["_links", "total_items", "activity"],
            "overrideWrapperAttribute": "email",
        },
        "paginationParams": OFFSET3,
        "parent": {"stream": "campaigns", "fields": {"campaignId": "id"}},
    }
    out.update(extra)
    return out


STREAMS = [
    {"name": "campaigns", "primary_key": ["id"]},
    {"name": "email_activity", "primary_key": ["campaign_id", "email.email_id"]},
]


def connector(folder: Path, child: dict[str, Any] | None = None, **kw: Any) -> Path:
    return write_connector(
        folder,
        {"spec": SPEC, "streams": {"campaigns": CAMPAIGNS, "email_activity": child or activity()}},
        streams=kw.pop("streams", STREAMS),
        **kw,
    )


def child_requests(fake: Any) -> list[str]:
    return [r["path"] for r in fake.requests if r["path"].startswith("/3.0/reports/")]


def test_child_reads_every_parent_times_every_child_record(tmp_path: Path, fake: Any) -> None:
    folder = connector(tmp_path / "c")
    run = Run(folder, {"base": fake.url}, stream="email_activity")
    ids = [(d["campaign_id"], d["email"]["email_id"]) for d in run.data]
    assert len(ids) == 5 * 7 and len(set(ids)) == 35
    assert {c for c, _ in ids} == set(fake.campaign_ids)
    # the id with a space and a slash went into the path as one escaped segment
    assert "/3.0/reports/c%205%2Fx/email-activity" in child_requests(fake)
    assert run.summary.completed
    # OFFSET without an end condition stops at the first empty page: parent pages 2+2+1+0, and
    # 3+3+1+0 per campaign; each parent page is fetched once however many partitions it holds
    assert sum(r["path"] == "/3.0/campaigns" for r in fake.requests) == 4
    assert len(child_requests(fake)) == 5 * 4


def test_parent_placeholder_in_path_query_and_header(tmp_path: Path, fake: Any) -> None:
    child = activity(
        "/3.0/reports/${parent.id}/email-activity",
        headerParams={"X-Campaign": "${parent.title}"},
    )
    child["urlParams"]["queryParams"] = {"campaign": "${parent.id}"}
    child["parent"] = {"stream": "campaigns"}
    run = Run(connector(tmp_path / "c", child), {"base": fake.url}, stream="email_activity")
    assert len(run.records) == 35
    last = [r for r in fake.requests if r["path"].startswith("/3.0/reports/c%205")][-1]
    assert "campaign=c+5%2Fx" in last["query"]
    assert last["headers"]["X-Campaign"] == "campaign c 5/x"


# -- crash and resume: real `cdk read` subprocesses, SIGKILL ------------------------------------------


def cdk_read(folder: Path, config: Path, state: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    with out.open("ab") as sink:  # appended, as the runner's resume contract asks (>>)
        return subprocess.Popen(
            [sys.executable, "-m", "cdk", "read", "-C", str(folder), "--config", str(config)]
            + ["-s", "email_activity", "--state", str(state), "-q", *extra],
            stdout=sink,
            stderr=subprocess.PIPE,
            env=env,
        )


def entry(state: Path) -> dict[str, Any]:
    try:
        data = json.loads(state.read_text())
    except (OSError, ValueError):
        return {}
    return dict(data.get("streams", {}).get("email_activity") or {})


def wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def rows(out: Path) -> list[tuple[str, str]]:
    lines = out.read_bytes().splitlines()
    return [(r["data"]["campaign_id"], r["data"]["email"]["email_id"]) for r in map(json.loads, lines)]


def test_sigkill_mid_partition_resumes_without_rereading_done_partitions(tmp_path: Path, fake: Any) -> None:
    """Killed while c3's second page is in flight: c1 and c2 are done, c3 checkpointed at offset 3."""
    folder = connector(tmp_path / "c")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"name": "t", "base": fake.url}))
    state, out = tmp_path / "state.json", tmp_path / "out.jsonl"
    release = threading.Event()
    fake.hold = ("/3.0/reports/c3/email-activity", "offset=3", release)
    first = cdk_read(folder, config, state, out)
    try:
        wait_for(
            lambda: any(r["path"] == fake.hold[0] and "offset=3" in r["query"] for r in fake.requests),
            "the held request",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        release.set()
    assert first.returncode == -signal.SIGKILL
    saved = entry(state)
    assert saved["status"] == "running"
    pagination = saved["pagination"]
    # parent page 2 (c3, c4) in progress, its first partition at its second page; keyed by value
    assert pagination["partitions"] == {
        '{"campaignId":"c3"}': {"pagination": {"offset": 3, **fp(pagination)}}
    }
    assert pagination["parent"]["offset"] == 2
    written = rows(out)
    assert len(written) == saved["records"] == 7 + 7 + 3  # blocked in a request: nothing uncommitted

    fake.hold = None
    fake.requests.clear()
    second = cdk_read(folder, config, state, out)
    assert second.wait(60) == 0, second.stderr.read().decode() if second.stderr else ""
    assert entry(state)["status"] == "done"
    every = rows(out)
    assert len(every) == 5 * 7 and Counter(every).most_common(1)[0][1] == 1
    reread = {r["path"] for r in fake.requests}
    assert "/3.0/reports/c1/email-activity" not in reread and "/3.0/reports/c2/email-activity" not in reread
    c3 = [r["query"] for r in fake.requests if r["path"] == "/3.0/reports/c3/email-activity"]
    assert "offset=0" not in " ".join(c3) and any("offset=3" in q for q in c3)


def fp(pagination: dict[str, Any]) -> dict[str, Any]:
    """The child page's own loop-guard fields (fingerprint, request and record counts), as saved."""
    inner = next(iter(pagination["partitions"].values()))["pagination"]
    return {k: v for k, v in inner.items() if k != "offset"}


def test_repeated_sigkills_at_random_moments_lose_nothing(tmp_path: Path, fake: Any) -> None:
    """Killed at arbitrary moments until a run completes. Exactly-once up to the page in flight:

    every (campaign, email) is in the output at least once, and the surplus equals, summed over the
    killed runs, the records each wrote beyond what its saved checkpoints cover (lines it appended minus
    the growth of the state's ``records``) — at most one child page (3 records) per kill. Every other
    kill comes right after a page reaches the output, inside the window before its checkpoint is saved,
    so the surplus is exercised too (10 records over 9 kills on the development machine)."""
    fake.delay = 0.02
    folder = connector(tmp_path / "c")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"name": "t", "base": fake.url}))
    state, out = tmp_path / "state.json", tmp_path / "out.jsonl"
    rng = random.Random(18)
    surplus, kills, lines_before, records_before = 0, 0, 0, 0
    for _ in range(40):
        seen = len(child_requests(fake))
        size = out.stat().st_size if out.exists() else 0
        proc = cdk_read(folder, config, state, out)
        goal = seen + rng.randint(1, 6)  # let it make some progress, then kill at a random moment
        wait_for(
            lambda proc=proc, goal=goal: proc.poll() is not None or len(child_requests(fake)) >= goal,
            "progress",
        )
        if kills % 2:  # right after a page reaches the output: aims at the write-to-checkpoint window
            deadline = time.monotonic() + 10
            while proc.poll() is None and out.stat().st_size == size and time.monotonic() < deadline:
                pass
            size = out.stat().st_size
            while proc.poll() is None and out.stat().st_size == size and time.monotonic() < deadline:
                pass
        else:
            time.sleep(rng.uniform(0, 0.03))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode() if proc.stderr else ""
        kills += 1
        saved = entry(state)
        lines_now, records_now = len(rows(out)), saved.get("records", 0)
        # what this run wrote beyond what its checkpoints cover: the next run writes it again
        uncommitted = (lines_now - lines_before) - (records_now - records_before)
        assert 0 <= uncommitted <= 3
        surplus += uncommitted
        lines_before, records_before = lines_now, records_now
        if saved.get("status") == "done":  # killed after the last checkpoint: the read is complete
            break
    else:
        raise AssertionError("the read never completed")
    assert kills >= 2  # the point of the test: it was killed, more than once
    every = rows(out)
    assert set(every) == {(c, f"e{i}") for c in fake.campaign_ids for i in range(1, 8)}
    assert len(every) == 5 * 7 + surplus


def test_incremental_cursor_per_partition(tmp_path: Path, fake: Any) -> None:
    """Each campaign's next window starts at its own cursor; a campaign new since then is read in full."""
    fake.email_times = True
    folder = connector(
        tmp_path / "c",
        activity(scheduleParams=SCHEDULE),
        streams=[
            {**STREAMS[0], "cursor_field": "create_time"},
            {**STREAMS[1], "cursor_field": "email.last_changed"},
        ],
        capabilities=["batch_extract", "incremental"],
    )
    store = StateStore(tmp_path / "state.json")
    first = Run(folder, {"base": fake.url}, stream="email_activity", incremental=True, state=store)
    assert len(first.records) == 35
    saved = json.loads((tmp_path / "state.json").read_text())["streams"]["email_activity"]
    cursors = saved["incremental"]["state"]["cursors"]
    assert cursors == {
        partition_key({"campaignId": c}): "2024-01-01T07:00:00+00:00" for c in fake.campaign_ids
    }
    first_since = {q.get("since_last_changed", [None])[0] for q in fake.queries("/3.0/reports/")}
    assert first_since == {"1970-01-01T00:00:00:0000000Z"}

    fake.emails = 9  # two new emails in every campaign, and a new campaign
    fake.campaign_ids.append("c6")
    fake.requests.clear()
    second = Run(
        folder, {"base": fake.url}, stream="email_activity", incremental=True, state=StateStore(store.path)
    )
    got = sorted((d["campaign_id"], d["email"]["email_id"]) for d in second.data)
    old = [c for c in fake.campaign_ids if c != "c6"]
    assert got == sorted(
        [(c, e) for c in old for e in ("e8", "e9")] + [("c6", f"e{i}") for i in range(1, 10)]
    )
    since = {
        r["path"]: parse_qs(r["query"])["since_last_changed"][0]
        for r in fake.requests
        if r["path"].startswith("/3.0/reports/")
    }
    assert since["/3.0/reports/c1/email-activity"] == "2024-01-01T07:00:00:0000000Z"
    assert since["/3.0/reports/c6/email-activity"] == "1970-01-01T00:00:00:0000000Z"
    after = json.loads((tmp_path / "state.json").read_text())["streams"]["email_activity"]
    assert set(after["incremental"]["state"]["cursors"].values()) == {"2024-01-01T09:00:00+00:00"}


# -- cdk validate: R030-R035 at their file:line:col ---------------------------------------------------

CHECKED = """\
manifest_version: 1
name: children
version: 0.1.0
kind: source
capabilities: [batch_extract]
allowed_hosts: ["127.0.0.1"]
declarative:
  spec: {type: object, properties: {base: {type: string}}}
  defaults:
    urlParams: {host: "http://127.0.0.1"}
    paginationParams: {type: NONE}
  streams:
    campaigns:
      urlParams: {path: /campaigns}
      contentPath: {path: $.campaigns, overrideWrapperAttribute: campaign}
      schema: {type: object, properties: {campaigns: {type: array, items: {type: object, properties: {id: {type: string}, settings: {type: object, properties: {title: {type: string}}}}}}}}
    activity:
      urlParams: {path: "/reports/${campaignId}/x", queryParams: {t: "${parent.settings.title}", n: "${parent.nope}"}}
      contentPath: {path: $.emails}
      parent: {stream: campaigns, fields: {campaignId: id, other: missing.field}}
    opaque:
      urlParams: {path: "/opaque/${parent.anything}"}
      contentPath: {path: $.rows}
      parent: {stream: untyped}
    untyped:
      urlParams: {path: /untyped}
      contentPath: {path: $.rows}
    orphan:
      urlParams: {path: "/orphan/${parent.id}"}
      contentPath: {path: $.rows}
    selfish:
      urlParams: {path: "/s/${parent.id}"}
      contentPath: {path: $.rows}
      parent: {stream: selfish}
    ping:
      urlParams: {path: "/p/${parent.id}"}
      contentPath: {path: $.rows}
      parent: {stream: pong}
    pong:
      urlParams: {path: "/q/${parent.id}"}
      contentPath: {path: $.rows}
      parent: {stream: ping}
    lost:
      urlParams: {path: "/l/${parent.id}"}
      contentPath: {path: $.rows}
      parent: {stream: nowhere}
    unused:
      urlParams: {path: /u}
      contentPath: {path: $.rows}
      parent: {stream: campaigns}
"""


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and 0-based column of the nth occurrence of ``needle``."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1)


def test_validator_locates_every_child_stream_problem(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    folder.mkdir()
    (folder / "connector.yaml").write_text(CHECKED)

    found = {
        (f.rule, f.line, f.column): f.message
        for f in validate_declarative(Project.load(folder))
        if f.rule >= "R030"
    }
    t = CHECKED
    expected = {  # each at the key it is about
        # a field the parent's schema lacks (campaign.id is fine: looked up inside the wrapper too)
        (
            "R032",
            *at(t, "other: missing"),
        ): "parent field 'missing.field' is not in the schema of stream 'campaigns'",
        (
            "R032",
            *at(t, 'n: "${parent.nope}'),
        ): "parent field 'nope' is not in the schema of stream 'campaigns'",
        (
            "R033",
            *at(t, 'path: "/opaque/'),
        ): "parent field 'anything' cannot be checked: the schema of stream 'untyped'",
        (
            "R034",
            *at(t, 'path: "/orphan/'),
        ): "urlParams.path: '${parent.id}' needs a parent stream, and 'orphan' declares none",
        ("R031", *at(t, "stream: selfish}")): "parent streams form a cycle: selfish -> selfish",
        ("R031", *at(t, "stream: pong}")): "parent streams form a cycle: ping -> pong -> ping",
        ("R031", *at(t, "stream: ping}")): "parent streams form a cycle: pong -> ping -> pong",
        ("R030", *at(t, "stream: nowhere}")): "parent.stream 'nowhere' is not a declarative stream",
        ("R035", *at(t, "parent: {stream: campaigns}")): "stream 'unused' declares parent 'campaigns' but",
    }
    assert set(found) == set(expected), found
    for key, start in expected.items():
        assert found[key].startswith(start), (key, found[key])
    assert RULES["R032"][0] == "error" and RULES["R033"][0] == "warning"
    # the mapped and ${parent.*} placeholders are not reported as missing config properties (R004)
    assert not [f for f in validate_declarative(Project.load(folder)) if f.rule == "R004"]


# -- cdk test: the standard suite records and replays a child stream -----------------------------------


def test_cdk_test_records_then_replays_a_child_stream_offline(tmp_path: Path) -> None:
    from decl_fake_apis import FakeAPIs

    campaigns = {
        **CAMPAIGNS,
        "scheduleParams": {"scheduleStartParamName": "since_create_time", "scheduleEndParamName": "until"},
    }
    folder = write_connector(
        tmp_path / "c",
        {
            "spec": SPEC,
            "streams": {"campaigns": campaigns, "email_activity": activity(scheduleParams=SCHEDULE)},
        },
        streams=[
            {**STREAMS[0], "cursor_field": "create_time"},
            {**STREAMS[1], "cursor_field": "email.last_changed"},
        ],
        capabilities=["batch_extract", "incremental"],
    )
    env = {**os.environ, "NO_COLOR": "1", "PYTEST_ADDOPTS": "-p no:hypothesispytest -p no:xdist"}

    def cdk_test(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "cdk", "test", "--format", "json", *args],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    with FakeAPIs() as api:
        api.email_times = True
        (folder / "secrets").mkdir()
        (folder / "secrets" / "config.json").write_text(json.dumps({"name": "t", "base": api.url}))
        recorded = cdk_test("--record")
        served = [(r["path"], r["query"]) for r in api.requests]
    # the server is gone: the replay can only use the cassettes
    replayed = cdk_test()
    for report in (recorded, replayed):
        outcomes = {t["id"]: t["outcome"] for t in report["tests"]}
        assert all(o == "passed" for o in outcomes.values()), outcomes
        assert any("email_activity" in name and "incremental" in name for name in outcomes), outcomes
    cassette = json.loads((folder / "tests" / "cassettes" / "read-email_activity.json").read_text())
    uris = [i["request"]["uri"] for i in cassette["interactions"]]
    paths = [urlsplit(u).path for u in uris]
    assert sum(p == "/3.0/campaigns" for p in paths) == 4  # every parent page
    children = Counter(p for p in paths if p.startswith("/3.0/reports/"))
    assert sorted(children) == sorted(
        f"/3.0/reports/{quote(c, safe='')}/email-activity" for c in api.campaign_ids
    )
    assert set(children.values()) == {4}  # every page of every partition
    assert len(uris) == 4 + 5 * 4 and len(served) > len(uris)  # the other tests have their own cassettes


# -- hostile parents ---------------------------------------------------------------------------------


def test_a_parent_record_without_the_value_is_skipped_and_named(
    tmp_path: Path, fake: Any, caplog: Any
) -> None:
    fake.campaign_ids = ["c1", "", "c3"]
    with caplog.at_level("WARNING", logger="cdk.declarative"):
        run = Run(connector(tmp_path / "c"), {"base": fake.url}, stream="email_activity")
    assert sorted({d["campaign_id"] for d in run.data}) == ["c1", "c3"] and len(run.records) == 14
    assert "parent record '' of 'campaigns' has no 'id'" in caplog.text
    assert not [r for r in fake.requests if r["path"].startswith("/3.0/reports//")]


def test_a_parent_value_that_is_an_object_is_refused(tmp_path: Path, fake: Any) -> None:

    from cdk.errors import ConnectorError

    wrapped = {**CAMPAIGNS, "contentPath": {"path": "$.campaigns"}}  # records {"campaigns": {...}, ...}
    child = activity()
    child["parent"] = {"stream": "campaigns", "fields": {"campaignId": "campaigns"}}
    folder = write_connector(
        tmp_path / "c", {"spec": SPEC, "streams": {"campaigns": wrapped, "email_activity": child}}
    )
    with pytest.raises(ConnectorError, match="field 'campaigns' of parent record .* is a dict"):
        Run(folder, {"base": fake.url}, stream="email_activity")
    assert not child_requests(fake)


def test_a_cycle_is_refused_before_any_request(tmp_path: Path, fake: Any) -> None:

    from cdk.errors import ConfigError

    child = activity("/3.0/reports/${parent.id}/email-activity")
    child["parent"] = {"stream": "email_activity"}
    with pytest.raises(ConfigError, match=r"cycle \(email_activity -> email_activity\)"):
        Run(connector(tmp_path / "c", child), {"base": fake.url}, stream="email_activity")
    assert fake.requests == []


def test_check_connection_of_a_child_reads_one_parent_page_and_one_child_page(
    tmp_path: Path, fake: Any
) -> None:
    from cdk.connector import instantiate, load_connector_class
    from cdk.sdk.http import ConnectorSession

    project = Project.load(connector(tmp_path / "c"))
    cls = load_connector_class(project)
    session = ConnectorSession(allowed_hosts=["127.0.0.1"])
    source = instantiate(
        project, cls, {"name": "t", "base": fake.url}, stream="email_activity", session=session
    )
    assert source.check_connection() == (True, None)
    assert [r["path"] for r in fake.requests] == ["/3.0/campaigns", "/3.0/reports/c1/email-activity"]
    broken = instantiate(
        project, cls, {"name": "t", "base": fake.url + "/nope"}, stream="email_activity", session=session
    )
    ok, why = broken.check_connection()
    assert not ok and "answered 404" in str(why)


def test_parent_values_in_a_post_body_dotted_and_inside_the_wrapper(tmp_path: Path, fake: Any) -> None:
    fake.rows = 4
    wrapped = {**CAMPAIGNS, "contentPath": {"path": "$.campaigns", "overrideWrapperAttribute": "campaign"}}
    child = {
        "urlParams": {"host": "${base}", "path": "/search", "method": "POST"},
        "bodyParams": {"filter": "${parent.campaign.title}", "by": "${campaignId}"},
        "contentPath": {"path": "$.data.rows", "overrideWrapperAttribute": ""},
        "paginationParams": {"type": "OFFSET", "limitName": "limit", "limitValue": 3, "offSetName": "offset"},
        # 'id' is not at the top of a campaigns record: it is found inside the wrapper, as keys are
        "parent": {"stream": "campaigns", "fields": {"campaignId": "id"}},
    }
    folder = write_connector(tmp_path / "c", {"spec": SPEC, "streams": {"campaigns": wrapped, "rows": child}})
    run = Run(folder, {"base": fake.url}, stream="rows")
    assert len(run.records) == 5 * 4
    assert Counter(d["kind"] for d in run.data) == {f"campaign {c}": 4 for c in fake.campaign_ids}
    bodies = [r["body"] for r in fake.requests if r["method"] == "POST"]
    assert {"filter": "campaign c 5/x", "by": "c 5/x"} in bodies  # a body value is not path-escaped


def test_a_grandchild_reads_through_two_levels_and_resumes(tmp_path: Path, fake: Any) -> None:
    """campaigns -> email_activity -> opens (one request per email of every campaign)."""
    fake.emails = 2
    fake.rows = 2
    opens = {
        "urlParams": {"host": "${base}", "path": "/search", "method": "POST"},
        "bodyParams": {"filter": "${parent.campaign_id}/${parent.email.email_id}"},
        "contentPath": {"path": "$.data.rows", "overrideWrapperAttribute": ""},
        "paginationParams": {"type": "OFFSET", "limitName": "limit", "limitValue": 5, "offSetName": "offset"},
        "parent": {"stream": "email_activity"},
    }
    folder = write_connector(
        tmp_path / "c",
        {"spec": SPEC, "streams": {"campaigns": CAMPAIGNS, "email_activity": activity(), "opens": opens}},
    )
    store = StateStore(tmp_path / "state.json")
    half = Run(folder, {"base": fake.url}, stream="opens", state=store, max_iterations=4)
    rest = Run(folder, {"base": fake.url}, stream="opens", state=StateStore(store.path))
    kinds = [d["kind"] for d in half.data + rest.data]
    expected = [f"{c}/e{i}" for c in fake.campaign_ids for i in (1, 2)]
    assert sorted(kinds) == sorted(k for k in expected for _ in range(2))  # 2 rows each, exactly once
    assert len(half.data) == 8 and rest.summary.resumed_from is not None


@pytest.mark.parametrize("cap", [1, 6])
def test_maximum_request_bounds_a_childs_run_and_the_next_runs_continue(
    tmp_path: Path, fake: Any, cap: int
) -> None:
    """maximumRequest counts the child's requests of one run over all partitions; each stop leaves a
    checkpoint, and the runs together read every record exactly once with no request made twice (even
    with a cap of 1, where a stop falls among partitions that answer nothing)."""
    from cdk.connector import instantiate, load_connector_class
    from cdk.errors import MaximumRequestReached
    from cdk.sdk import runner
    from cdk.sdk.http import ConnectorSession

    project = Project.load(
        connector(tmp_path / "c", activity(paginationParams={**OFFSET3, "maximumRequest": cap}))
    )
    cls = load_connector_class(project)
    rows: list[tuple[str, str]] = []
    stops = 0
    for _ in range(40):
        source = instantiate(  # a new process each time: a run's budget starts at 0
            project, cls, {"name": "t", "base": fake.url}, stream="email_activity", session=ConnectorSession()
        )
        before = len(child_requests(fake))
        try:
            runner.read(
                source,
                "email_activity",
                lambda s, recs: rows.extend(
                    (r.data["campaign_id"], r.data["email"]["email_id"]) for r in recs
                ),
                state=StateStore(tmp_path / "state.json"),
            )
        except MaximumRequestReached as exc:
            stops += 1
            assert len(child_requests(fake)) - before == cap and f"maximumRequest={cap}" in str(exc)
            continue
        break
    assert len(child_requests(fake)) == 20  # 4 per campaign (3 + 3 + 1 + an empty page), none twice
    assert stops == -(-20 // cap) - 1
    assert len(rows) == 35 and len(set(rows)) == 35


def test_pipeline_expressions_and_parent_values_in_one_child_request(tmp_path: Path, fake: Any) -> None:
    """Expressions run per page first; the parent's placeholders are filled in their output after."""
    child = activity(
        "/3.0/reports/@{toLower('${parent.id}')}/email-activity",
        headerParams={"X-Year": "@{formatDateTime(pipeline().parameters.ingestionEnd, 'yyyy')}"},
        scheduleParams={"scheduleEndParamName": "until"},
    )
    child["parent"] = {"stream": "campaigns"}
    fake.campaign_ids = ["C1", "C2"]
    run = Run(connector(tmp_path / "c", child), {"base": fake.url}, stream="email_activity")
    assert len(run.records) == 14
    sent = [r for r in fake.requests if r["path"].startswith("/3.0/reports/")]
    assert {r["path"] for r in sent} == {"/3.0/reports/C1/email-activity", "/3.0/reports/C2/email-activity"}
    assert {r["headers"]["X-Year"] for r in sent} == {"2026"}  # the Run's virtual clock: 2026-01-01
