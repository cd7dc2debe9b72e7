"""The merge gate (``cdk ci``): everything a connector repository checks on every merge, in one call.

For each connector: validate (all suites) → test in replay with the network blocked → build the wheel
and check it (contents, ``twine check``, secret scan) → the version rules against the registry when one
is configured. Every stage of every connector runs even when an earlier one failed, so one CI run shows
everything that is wrong; the result is one table and one set of reports (JUnit, SARIF, JSON).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STAGES = ("validate", "test", "build", "release")


@dataclass
class StageResult:
    """One stage of one connector: passed | failed | skipped, how long, and why."""

    connector: str
    stage: str
    status: str
    seconds: float = 0.0
    summary: str = ""
    details: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


@dataclass
class GateResult:
    """All stages of all connectors; ``ok`` when none failed."""

    connectors: list[str]
    stages: list[StageResult] = field(default_factory=list)
    reports: list[Any] = field(default_factory=list)  # validation Reports, for SARIF/JUnit
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.stages)

    @property
    def failed(self) -> list[StageResult]:
        return [s for s in self.stages if s.status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "connectors": self.connectors,
            "stages": [asdict(s) | {"seconds": round(s.seconds, 3)} for s in self.stages],
        }


def changed_connectors(connectors: list[str], ref: str, *, cwd: str | Path = ".") -> list[str]:
    """The connectors with a file changed since git ``ref`` (committed, staged, unstaged or untracked)."""
    from cdk.errors import UsageError

    def git(*args: str) -> list[str]:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
        )
        if proc.returncode != 0:
            raise UsageError(
                f"git {' '.join(args)} failed: {proc.stderr.strip()}",
                hint="--changed-since needs a git checkout and a ref that exists (e.g. origin/main)",
            )
        return [line for line in proc.stdout.splitlines() if line.strip()]

    top = Path(git("rev-parse", "--show-toplevel")[0])
    base = git("merge-base", ref, "HEAD")[0]
    changed = set(git("diff", "--name-only", base))
    changed |= set(git("ls-files", "--others", "--exclude-standard"))
    paths = [(top / c).resolve() for c in changed]
    out = []
    for conn in connectors:
        root = Path(conn).resolve()
        if any(p == root or root in p.parents for p in paths):
            out.append(conn)
    return out


def _validate(root: str, policy: Any) -> tuple[StageResult, Any]:
    from cdk.validators.engine import validate_project

    report = validate_project(root, policy)
    status = "passed" if report.passed() else "failed"
    summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    shown = report.errors if report.errors else report.warnings
    return StageResult(
        root,
        "validate",
        status,
        summary=summary,
        details=[str(f) for f in shown[:50]],
        rules=report.rules_hit(),
    ), report


def _test(root: str, reports_dir: Path | None, name: str) -> StageResult:
    cmd = [sys.executable, "-m", "cdk", "test", root]
    if reports_dir is not None:
        cmd += ["--junit-xml", str(reports_dir / f"test-{name}.xml")]
    env = {**os.environ, "NO_COLOR": "1", "CDK_VIRTUAL_TIME": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False, env=env)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    summary = next(
        (
            line.strip("= ")
            for line in reversed(lines)
            if " passed" in line or " failed" in line or " error" in line
        ),
        lines[-1] if lines else f"exit {proc.returncode}",
    )
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR", "error:"))]
    return StageResult(
        root,
        "test",
        "passed" if proc.returncode == 0 else "failed",
        summary=summary,
        details=failures[:50] or ([] if proc.returncode == 0 else lines[-20:]),
    )


def _build(root: str, project: Any) -> StageResult:
    from cdk.errors import CdkError
    from cdk.publish.build import build_project, check_wheel, source_date_epoch
    from cdk.publish.publish import refuse_secrets, twine_check

    with tempfile.TemporaryDirectory(prefix="cdk-ci-build-") as tmp:
        try:
            built = build_project(root, tmp, epoch=source_date_epoch(Path(root)))
            if built.wheel is None:
                return StageResult(root, "build", "failed", summary="the build produced no wheel")
            check_wheel(built.wheel, project.manifest.name)
            twine_check(built.artifacts)
            refuse_secrets(built.artifacts, Path(root))
        except CdkError as exc:
            return StageResult(
                root,
                "build",
                "failed",
                summary=exc.message.splitlines()[0],
                details=exc.message.splitlines()[1:20],
            )
        names = ", ".join(p.name for p in built.artifacts)
        return StageResult(root, "build", "passed", summary=names, details=list(built.notes))


def _release(root: str, project: Any, registry: Any) -> StageResult:
    from cdk.validators.release import check_release

    findings = check_release(project, registry)
    if not findings:
        return StageResult(
            root,
            "release",
            "passed",
            summary=f"{project.manifest.version} is publishable to {registry.display}",
        )
    return StageResult(
        root,
        "release",
        "failed",
        summary=findings[0].message,
        details=[str(f) for f in findings],
        rules=sorted({f.rule for f in findings}),
    )


def run_gate(
    connectors: list[str],
    *,
    policy: Any = None,
    reports_dir: str | Path | None = None,
    registry: Any = None,
    skip: tuple[str, ...] = (),
    progress: Callable[[StageResult], None] = lambda _: None,
) -> GateResult:
    """Run every stage on every connector; write reports into ``reports_dir`` when given."""
    from cdk.errors import CdkError
    from cdk.project import Project
    from cdk.validators.policy import load_policy

    started = time.perf_counter()
    policy = policy or load_policy(None)
    out_dir = Path(reports_dir) if reports_dir else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    names = {root: display_name(root) for root in connectors}
    result = GateResult(connectors=[names[r] for r in connectors])
    for root in connectors:
        name = Path(root).resolve().name
        try:
            project: Any = Project.load(root)
        except CdkError:
            project = None  # validate reports the manifest's problems as findings
        for stage in STAGES:
            t0 = time.perf_counter()
            if stage in skip:
                res = StageResult(root, stage, "skipped", summary="skipped on request")
            elif stage == "validate":
                res, report = _validate(root, policy)
                result.reports.append(report)
            elif project is None:
                res = StageResult(
                    root, stage, "skipped", summary="connector.yaml does not load (see validate)"
                )
            elif stage == "test":
                res = _test(root, out_dir, name)
            elif stage == "build":
                res = _build(root, project)
            elif registry is None:
                res = StageResult(
                    root,
                    stage,
                    "skipped",
                    summary="no registry configured (CDK_REGISTRY_URL or --repository)",
                )
            else:
                res = _release(root, project, registry)
            res.seconds = time.perf_counter() - t0
            res.connector = names[root]
            result.stages.append(res)
            progress(res)
    result.seconds = time.perf_counter() - started
    if out_dir is not None:
        write_reports(result, out_dir)
    return result


def display_name(root: str) -> str:
    """How a connector path shows in tables and reports: as given, but '.' becomes the folder's name."""
    return Path(root).resolve().name if Path(root).resolve() == Path.cwd().resolve() else root


def write_reports(result: GateResult, out_dir: Path) -> list[Path]:
    """ci.junit.xml (a testcase per stage), validate.sarif, validate.junit.xml and ci.json."""
    import json
    import xml.etree.ElementTree as ET

    from cdk.fsutil import atomic_write_text
    from cdk.validators.reporters import junit, sarif

    suites = ET.Element(
        "testsuites",
        name="cdk ci",
        tests=str(len(result.stages)),
        failures=str(len(result.failed)),
        time=f"{result.seconds:.3f}",
    )
    for conn in result.connectors:
        mine = [s for s in result.stages if s.connector == conn]
        ts = ET.SubElement(
            suites,
            "testsuite",
            name=conn,
            tests=str(len(mine)),
            failures=str(sum(s.status == "failed" for s in mine)),
            skipped=str(sum(s.status == "skipped" for s in mine)),
        )
        for s in mine:
            tc = ET.SubElement(ts, "testcase", classname=conn, name=s.stage, time=f"{s.seconds:.3f}")
            if s.status == "failed":
                fail = ET.SubElement(tc, "failure", message=s.summary, type=",".join(s.rules) or s.stage)
                fail.text = "\n".join(s.details)
            elif s.status == "skipped":
                ET.SubElement(tc, "skipped", message=s.summary)
    ET.indent(suites)
    written = []
    for fname, text in (
        (
            "ci.junit.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode"),
        ),
        ("validate.sarif", sarif(result.reports)),
        ("validate.junit.xml", junit(result.reports)),
        ("ci.json", json.dumps(result.as_dict(), indent=2)),
    ):
        path = out_dir / fname
        atomic_write_text(path, text + "\n")
        written.append(path)
    return written
