"""Child streams (issue 18): a stream read once per parent record, with state per parent partition.

Against the fake Mailchimp on 127.0.0.1: ``campaigns`` (the parent, 5 campaigns, one id holding a space
and a slash) and ``email_activity`` (the child, ``/3.0/reports/${campaignId}/email-activity``, 7 emails
per campaign, pages of 3).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from decl_helpers import Run, write_connector

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
