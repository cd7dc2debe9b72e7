"""Declarative suite: the ``declarative:`` sourceSpec of connector.yaml (rules R0xx).

The checks themselves live with the engine in :mod:`cdk.declarative.checks`; this module adapts them
to the validation suites so that ``cdk validate`` and ``cdk rules`` see them like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdk.declarative.checks import RULES as SPEC_RULES
from cdk.findings import Finding
from cdk.validators.findings import Rule
from cdk.validators.policy import Policy

if TYPE_CHECKING:
    from cdk.project import Project

# a bad and a good snippet of connector.yaml per rule, for `cdk rules R00x`
EXAMPLES: dict[str, tuple[str, str]] = {
    "R001": ("contentPath: {paht: $.items}", "contentPath: {path: $.items}"),
    "R002": (
        "paginationParams: {type: OFFSET, limitValue: 100}",
        "paginationParams: {type: OFFSET, limitName: limit, limitValue: 100, offSetName: offset}",
    ),
    "R003": ("contentPath: {path: $.items[}", "contentPath: {path: $.items}"),
    "R004": (
        "host: https://${domian}.api.example.com   # config has 'domain'",
        "host: https://${domain}.api.example.com",
    ),
    "R005": (
        "host: https://api.other.com\nallowed_hosts: [api.example.com]",
        "host: https://api.example.com\nallowed_hosts: [api.example.com]",
    ),
    "R006": (
        "host: ${base_url}",
        "host: https://${region}.api.example.com\nallowed_hosts: ['*.api.example.com']",
    ),
    "R007": (
        "path: /tickets@{iff(empty(pipeline()?.parameters?.ingestionStart), '?all=1', '')}",
        "path: /tickets@{if(empty(pipeline()?.parameters?.ingestionStart), '?all=1', '')}",
    ),
    "R008": ("explodeEntityPath: {path: $.items[*].activity}", "explodeEntityPath: {path: $.email.activity}"),
    "R009": (
        "scheduleParams: {type: ADVANCE, ...}   # no {SCHEDULE_QUERY} anywhere",
        "queryParams: {filter: '{SCHEDULE_QUERY}'}\nscheduleParams: {type: ADVANCE, ...}",
    ),
    "R010": (
        "scheduleParams: {type: ADVANCE, paramFormat: yyyy-MM-dd}",
        "scheduleParams: {type: ADVANCE, paramFormat: yyyy-MM-dd, incremental: 'updated>{START_TIME}', "
        "backfill: 'updated<{END_TIME}'}",
    ),
    "R011": (
        "declarative: {streams: {users: ...}}\nstreams: []",
        "declarative: {streams: {users: ...}}\nstreams: [{name: users, primary_key: [id]}]",
    ),
    "R012": (
        "streams: [{name: users}, {name: orders}]\ndeclarative: {streams: {users: ...}}",
        "streams: [{name: users}]\ndeclarative: {streams: {users: ...}}",
    ),
    "R013": ("schema: schemas/missing.json", "schema: schemas/users.json"),
    "R014": (
        "capabilities: [batch_extract, incremental]   # no scheduleParams",
        "capabilities: [batch_extract, incremental]\nscheduleParams: {scheduleStartParamName: updated_since}",
    ),
    "R015": (
        "urlParams: {method: GET}\nbodyParams: {query: x}",
        "urlParams: {method: POST}\nbodyParams: {query: x}",
    ),
    "R016": ("host: ftp://files.example.com", "host: https://api.example.com"),
    "R017": (
        "urlParams: {method: GET}\npaginationParams: {type: OFFSET, ..., parameterType: BODYPARAM}",
        "urlParams: {method: POST}\npaginationParams: {type: OFFSET, ..., parameterType: BODYPARAM}",
    ),
    "R030": ("parent: {stream: campaign}   # the stream is 'campaigns'", "parent: {stream: campaigns}"),
    "R031": (
        "email_activity: {parent: {stream: email_activity}, ...}",
        "email_activity: {parent: {stream: campaigns}, ...}",
    ),
    "R032": (
        "parent: {stream: campaigns, fields: {campaignId: campaign_id}}   # campaigns have 'id'",
        "parent: {stream: campaigns, fields: {campaignId: id}}",
    ),
    "R033": (
        "parent: {stream: campaigns, ...}   # campaigns has no schema",
        "streams: [{name: campaigns, schema: schemas/campaigns.json}]",
    ),
    "R034": (
        "urlParams: {path: '/reports/${parent.id}/email-activity'}   # no parent:",
        "parent: {stream: campaigns}\nurlParams: {path: '/reports/${parent.id}/email-activity'}",
    ),
    "R035": (
        "parent: {stream: campaigns}\nurlParams: {path: /reports}",
        "parent: {stream: campaigns}\nurlParams: {path: '/reports/${parent.id}'}",
    ),
    "R036": (
        "urlParams: {path: '/repos/${parent.owner}/${parent.name}/issues'}   # owner is an object",
        "urlParams: {path: '/repos/${parent.owner.login}/${parent.name}/issues'}",
    ),
}

RULES = [
    Rule(
        code,
        "declarative",
        text.split(";")[0],
        text,
        "see docs/declarative.md for the sourceSpec properties",
        severity=severity,
        bad=EXAMPLES.get(code, ("", ""))[0],
        good=EXAMPLES.get(code, ("", ""))[1],
    )
    for code, (severity, text) in SPEC_RULES.items()
]


def check(project: Project, policy: Policy) -> list[Finding]:
    """Findings of the sourceSpec checks; nothing for Python connectors."""
    manifest = getattr(project, "manifest", None)
    if manifest is None or manifest.declarative is None:
        return []
    from cdk.declarative.checks import validate_declarative

    return validate_declarative(project)
