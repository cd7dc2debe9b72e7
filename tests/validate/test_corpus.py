"""The corpus: known-bad files (one escape each, expected rule and line) and realistic good connectors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cdk.validators.engine import validate_code
from cdk.validators.policy import load_policy

CORPUS = Path(__file__).parent / "corpus"
BAD = sorted((CORPUS / "bad").glob("*.py"))
GOOD = sorted((CORPUS / "good").glob("*.py"))
CODE_SUITES = {"security", "secrets", "egress", "syntax"}


def _headers(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        m = re.match(r"#\s*(expect|profile|allowed_hosts):\s*(.+)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
        elif not line.startswith("#"):
            break
    return out


def _validate(path: Path):
    text = path.read_text(encoding="utf-8")
    h = _headers(text)
    hosts = [x.strip() for x in h["allowed_hosts"].split(",")] if "allowed_hosts" in h else None
    policy = load_policy(None, profile=h.get("profile", "strict"))
    return h, validate_code(text, policy, filename=path.name, allowed_hosts=hosts)


def test_corpus_sizes() -> None:
    assert len(BAD) >= 200
    assert len(GOOD) >= 60


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_file_reports_its_escape_at_its_line(path: Path) -> None:
    h, report = _validate(path)
    expected = []
    for part in h["expect"].split(";"):
        m = re.match(r"\s*(\w\d{3}) line (\d+)(?: col (\d+))?", part)
        assert m, f"{path.name}: bad expect header"
        expected.append((m.group(1), int(m.group(2)), int(m.group(3)) if m.group(3) else None))
    code_findings = [f for f in report.findings if f.suite in CODE_SUITES]
    for rule, line, col in expected:
        hits = [f for f in code_findings if f.rule == rule and f.line == line]
        assert hits, (
            f"{path.name}: expected {rule} at line {line}, got {[(f.rule, f.line) for f in code_findings]}"
        )
        if col is not None:
            assert hits[0].column == col
    # one escape per file: nothing is reported on any line the header does not name
    assert {f.line for f in code_findings} == {line for _, line, _ in expected}, [
        (f.rule, f.line, f.message) for f in code_findings
    ]


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_good_connector_has_no_findings(path: Path) -> None:
    h, report = _validate(path)
    assert [f for f in report.findings] == [], [
        (f.rule, f.line, f.column, f.message) for f in report.findings
    ]
