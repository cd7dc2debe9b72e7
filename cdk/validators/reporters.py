"""Reporters: text, json (the custom-sources API's shape), junit, sarif 2.1.0 and GitHub workflow annotations.

Every reporter takes the list of reports of one run (one per connector) and returns text. File paths
are shown relative to where ``cdk validate`` ran (connector path + file inside it).
"""

from __future__ import annotations

import json
import os
from typing import Any

from cdk._version import __version__
from cdk.findings import Finding
from cdk.validators.findings import Report, registry

FORMATS = ("text", "json", "junit", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def display_path(report: Report, finding: Finding) -> str:
    root = report.root
    if not root or root in (".", "./") or os.path.isabs(finding.file) or root == finding.file:
        return finding.file
    return os.path.normpath(os.path.join(root, finding.file))


def _failed(report: Report, f: Finding, strict: bool) -> bool:
    return f.severity == "error" or ((strict or report.strict) and f.severity == "warning")


def text(reports: list[Report], *, strict: bool = False, color: bool = False) -> str:
    import click

    lines = []
    errors = warnings = 0
    for report in reports:
        for f in report.findings:
            code = f.rule
            if color:
                code = click.style(code, fg="red" if f.severity == "error" else "yellow", bold=True)
            lines.append(f"{display_path(report, f)}:{f.line}:{f.column + 1} {code} {f.message}")
        errors += len(report.errors)
        warnings += len(report.warnings)
    failed = sum(1 for r in reports if not r.passed(strict))
    n = len(reports)
    summary = (
        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''} "
        f"in {n} connector{'s' if n != 1 else ''}"
    )
    if failed:
        summary += f"; {failed} failed" + (" (--strict: warnings fail)" if strict and not errors else "")
    else:
        summary += "; all passed"
    lines.append(summary)
    return "\n".join(lines)


def _finding_dict(report: Report, f: Finding) -> dict[str, Any]:
    d = f.to_dict()
    d["file"] = display_path(report, f)
    return d


def to_json(reports: list[Report], *, strict: bool = False) -> str:
    if len(reports) == 1:
        r = reports[0]
        out: dict[str, Any] = {
            "valid": r.passed(strict),
            "errors": [_finding_dict(r, f) for f in r.errors],
            "warnings": [_finding_dict(r, f) for f in r.warnings],
            "connector": r.root,
        }
    else:
        out = {
            "valid": all(r.passed(strict) for r in reports),
            "errors": [_finding_dict(r, f) for r in reports for f in r.errors],
            "warnings": [_finding_dict(r, f) for r in reports for f in r.warnings],
            "connectors": [
                {
                    "connector": r.root,
                    "valid": r.passed(strict),
                    "errors": len(r.errors),
                    "warnings": len(r.warnings),
                }
                for r in reports
            ],
        }
    return json.dumps(out, indent=2)


def junit(reports: list[Report], *, strict: bool = False) -> str:
    import xml.etree.ElementTree as ET

    from cdk.validators.engine import SUITE_ORDER

    suites = ET.Element("testsuites", name="cdk validate")
    total_tests = total_failures = 0
    for report in reports:
        ts = ET.SubElement(suites, "testsuite", name=report.root)
        tests = failures = 0
        by_suite: dict[str, list[Finding]] = {}
        for f in report.findings:
            by_suite.setdefault(f.suite, []).append(f)
        for suite in ("syntax", "policy", *SUITE_ORDER):
            found = by_suite.get(suite, [])
            if not found and suite in ("syntax", "policy"):
                continue
            if not found:
                ET.SubElement(ts, "testcase", classname=f"{report.root}.{suite}", name=suite)
                tests += 1
                continue
            for f in found:
                path = display_path(report, f)
                tc = ET.SubElement(
                    ts,
                    "testcase",
                    classname=f"{report.root}.{suite}",
                    name=f"{f.rule} {path}:{f.line}:{f.column + 1}",
                    file=path,
                    line=str(f.line),
                )
                tests += 1
                if _failed(report, f, strict):
                    failures += 1
                    fail = ET.SubElement(tc, "failure", message=f.message, type=f.rule)
                    fail.text = f"{path}:{f.line}:{f.column + 1} {f.rule} {f.message}\nhint: {f.hint}"
                else:
                    out = ET.SubElement(tc, "system-out")
                    out.text = f"warning {f.rule}: {f.message}\nhint: {f.hint}"
        ts.set("tests", str(tests))
        ts.set("failures", str(failures))
        ts.set("errors", "0")
        total_tests += tests
        total_failures += failures
    suites.set("tests", str(total_tests))
    suites.set("failures", str(total_failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def sarif(reports: list[Report], *, strict: bool = False) -> str:
    rules = registry()
    used = sorted({f.rule for r in reports for f in r.findings})
    index = {code: i for i, code in enumerate(used)}
    driver_rules: list[dict[str, Any]] = []
    for code in used:
        rule = rules.get(code)
        if rule is None:
            driver_rules.append({"id": code})
            continue
        driver_rules.append(
            {
                "id": code,
                "name": "".join(
                    w.capitalize() for w in rule.title.replace("/", " ").replace("-", " ").split()
                ),
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.message},
                "help": {"text": rule.hint},
                "defaultConfiguration": {"level": rule.severity},
                "properties": {"tags": [rule.suite]},
            }
        )
    results = []
    for report in reports:
        for f in report.findings:
            results.append(
                {
                    "ruleId": f.rule,
                    "ruleIndex": index[f.rule],
                    "level": "error" if _failed(report, f, strict) else "warning",
                    "message": {"text": f"{f.message} (hint: {f.hint})" if f.hint else f.message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": display_path(report, f).replace(os.sep, "/")},
                                "region": {"startLine": f.line, "startColumn": f.column + 1},
                            }
                        }
                    ],
                }
            )
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cdk validate",
                        "version": __version__,
                        "informationUri": "https://github.com/connector-cdk/connector-cdk",
                        "rules": driver_rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2)


def _gh_escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(reports: list[Report], *, strict: bool = False) -> str:
    lines = []
    for report in reports:
        for f in report.findings:
            kind = "error" if _failed(report, f, strict) else "warning"
            props = ",".join(
                [
                    f"file={_gh_escape(display_path(report, f), True)}",
                    f"line={f.line}",
                    f"col={f.column + 1}",
                    f"title={_gh_escape(f.rule + ' ' + f.suite, True)}",
                ]
            )
            lines.append(f"::{kind} {props}::{_gh_escape(f.message + (' — ' + f.hint if f.hint else ''))}")
    return "\n".join(lines)


def render(fmt: str, reports: list[Report], *, strict: bool = False, color: bool = False) -> str:
    if fmt == "text":
        return text(reports, strict=strict, color=color)
    if fmt == "json":
        return to_json(reports, strict=strict)
    return {"junit": junit, "sarif": sarif, "github": github}[fmt](reports, strict=strict)
