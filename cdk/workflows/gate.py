"""The gate: everything checked before a connector merges (``cdk ci``) or is published (``cdk publish``).

One implementation of each stage, used by both:

* validate — every suite; errors fail it;
* test — the connector's tests in replay with the network blocked (:func:`run_tests`);
* build — sdist + wheel, then :func:`build_and_check`: the wheel's contents, ``twine check`` and the
  secret scan of the artifacts;
* release — the version rules against the registry (:mod:`cdk.validators.release`), when one is set.

``cdk ci`` runs every stage of every connector even when an earlier one failed, so one CI run shows
everything that is wrong (:func:`run_gate`); ``cdk publish`` stops at the first failure
(:func:`publish_gate`, then :func:`build_and_check` on the artifacts it uploads).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.errors import CdkError, PackagingError, TestsFailed, UsageError, ValidationFailed

if TYPE_CHECKING:
    from cdk.project import Project
    from cdk.publish.build import BuildResult, Isolation
    from cdk.publish.registry import Registry, RegistryFile
    from cdk.publish.versions import Version
    from cdk.validators.findings import Report
    from cdk.validators.policy import Policy
    from cdk.workflows.tests import TestReport

STAGES = ("validate", "test", "build", "release")

StepTimer = Callable[[str, str], AbstractContextManager[None]]


@contextmanager
def _untimed(name: str, message: str) -> Iterator[None]:
    yield


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


# -- the stages -------------------------------------------------------------------------------------


def validate_stage(root: str | Path, policy: Policy | None = None) -> tuple[StageResult, Report]:
    """Every validation suite on the connector in ``root``; failed when there are errors."""
    from cdk.validators.engine import validate_project

    report = validate_project(root, policy)
    status = "passed" if report.passed() else "failed"
    summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    shown = report.errors if report.errors else report.warnings
    stage = StageResult(
        str(root),
        "validate",
        status,
        summary=summary,
        details=[str(f) for f in shown[:50]],
        rules=report.rules_hit(),
    )
    return stage, report


def tests_stage(
    root: str | Path, *, junit_xml: str | Path | None = None, timeout: float = 1800
) -> tuple[StageResult, TestReport]:
    """The connector's tests in replay, their console output captured."""
    from cdk.workflows.tests import run_tests

    report = run_tests(root, junit_xml=junit_xml, output=None, timeout=timeout)
    details = [f"{t.outcome.upper()} {t.id} - {t.message}".rstrip(" -") for t in report.problems]
    if not report.ok and not details:  # nothing ran (a usage error, a crash): pytest's words say why
        details = [line for line in report.output.splitlines() if line.strip()][-20:]
    stage = StageResult(
        str(root), "test", "passed" if report.ok else "failed", summary=report.summary(), details=details[:50]
    )
    return stage, report


def build_and_check(
    project: Project,
    out: Path,
    *,
    build_root: Path | None = None,
    isolation: Isolation = "auto",
    version: Version | None = None,
    extra_secrets: dict[str, str] | None = None,
    step: StepTimer = _untimed,
) -> BuildResult:
    """Build sdist and wheel of ``project`` (from ``build_root``, default its folder) into ``out`` and
    check them: a wheel (of ``version`` when given) that carries connector.yaml, its schemas and the
    entry point; ``twine check``; no secret in any artifact. Raises PackagingError (CdkError) at the
    first problem. ``step(name, message)`` times each part (build, twine-check, scan)."""
    from cdk.publish.build import build_project, check_wheel, source_date_epoch, twine_check

    with step("build", "building sdist and wheel"):
        built = build_project(
            build_root or project.root, out, isolation=isolation, epoch=source_date_epoch(project.root)
        )
        wheel = built.wheel
        if version is not None:
            from packaging.utils import parse_wheel_filename

            if wheel is None or str(parse_wheel_filename(wheel.name)[1]) != version.pep440:
                names = [p.name for p in built.artifacts]
                raise PackagingError(
                    f"the build did not produce a wheel of version {version.pep440} ({names})"
                )
        if wheel is None:
            raise PackagingError("the build produced no wheel")
        check_wheel(wheel, project.manifest.name)
    with step("twine-check", "checking the artifacts (twine check)"):
        twine_check(built.artifacts)
    with step("scan", "scanning the artifacts for secrets"):
        _refuse_secrets(built.artifacts, project.root, extra_secrets or {})
    return built


def _refuse_secrets(artifacts: list[Path], root: Path, extra: dict[str, str]) -> None:
    """Scan the artifacts for secrets; PackagingError naming file and kind (never the value) if any."""
    from cdk.publish.scan import scan_artifacts

    findings = scan_artifacts(artifacts, root=root, extra_secrets=extra)
    if findings:
        listing = "\n".join(f"  {f}" for f in findings[:20])
        raise PackagingError(
            f"the artifacts contain secrets; nothing was uploaded:\n{listing}",
            hint="remove them from the package (and rotate them if they were ever shared)",
        )


def build_stage(root: str | Path, project: Project) -> StageResult:
    """:func:`build_and_check` into a scratch folder, as a stage result."""
    with tempfile.TemporaryDirectory(prefix="cdk-ci-build-") as tmp:
        try:
            built = build_and_check(project, Path(tmp))
        except CdkError as exc:
            lines = exc.message.splitlines()
            return StageResult(str(root), "build", "failed", summary=lines[0], details=lines[1:20])
        names = ", ".join(p.name for p in built.artifacts)
        return StageResult(str(root), "build", "passed", summary=names, details=list(built.notes))


class RegistryHistory:
    """A registry client seen through :class:`cdk.validators.release.ReleaseHistory`."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.display = registry.display
        self._files: dict[str, list[RegistryFile]] = {}

    def files(self, dist: str) -> list[RegistryFile]:
        if dist not in self._files:
            self._files[dist] = self.registry.files(dist)
        return self._files[dist]

    def published_versions(self, dist: str) -> list[str]:
        from cdk.publish.registry import versions_of

        return versions_of(self.files(dist))

    def breaking_changes(
        self, dist: str, latest: str, project: Project, new_version: str
    ) -> dict[str, Any] | None:
        from cdk.publish.publish import diff_against

        notes: list[str] = []
        return diff_against(self.registry, self.files(dist), latest, project, new_version, notes)


def release_stage(root: str | Path, project: Project, registry: Registry) -> StageResult:
    """The version rules (V001-V003) of ``project`` against ``registry``."""
    from cdk.validators.release import check_release

    findings = check_release(project, RegistryHistory(registry))
    if not findings:
        return StageResult(
            str(root),
            "release",
            "passed",
            summary=f"{project.manifest.version} is publishable to {registry.display}",
        )
    return StageResult(
        str(root),
        "release",
        "failed",
        summary=findings[0].message,
        details=[str(f) for f in findings],
        rules=sorted({f.rule for f in findings}),
    )


# -- cdk ci: every stage of every connector ----------------------------------------------------------


def run_gate(
    connectors: list[str],
    *,
    policy: Policy | None = None,
    reports_dir: str | Path | None = None,
    registry: Registry | None = None,
    skip: tuple[str, ...] = (),
    progress: Callable[[StageResult], None] = lambda _: None,
) -> GateResult:
    """Run every stage on every connector; write reports into ``reports_dir`` when given."""
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
            project: Project | None = Project.load(root)
        except CdkError:
            project = None  # validate reports the manifest's problems as findings
        for stage in STAGES:
            t0 = time.perf_counter()
            if stage in skip:
                res = StageResult(root, stage, "skipped", summary="skipped on request")
            elif stage == "validate":
                res, report = validate_stage(root, policy)
                result.reports.append(report)
            elif project is None:
                res = StageResult(
                    root, stage, "skipped", summary="connector.yaml does not load (see validate)"
                )
            elif stage == "test":
                junit = out_dir / f"test-{name}.xml" if out_dir is not None else None
                res, _ = tests_stage(root, junit_xml=junit)
            elif stage == "build":
                res = build_stage(root, project)
            elif registry is None:
                res = StageResult(
                    root,
                    stage,
                    "skipped",
                    summary=_no_registry_summary(),
                )
            else:
                res = release_stage(root, project, registry)
            res.seconds = time.perf_counter() - t0
            res.connector = names[root]
            result.stages.append(res)
            progress(res)
    result.seconds = time.perf_counter() - started
    if out_dir is not None:
        write_reports(result, out_dir)
    return result


# -- cdk publish: validate and test, stopping at the first failure ---------------------------------


def publish_gate(
    root: Path, *, skip_validate: bool = False, skip_tests: bool = False
) -> list[dict[str, Any]]:
    """Validate (errors stop publishing) and test in replay (failures stop it); only the explicit skip
    flags skip a step. Returns one ``{"step", "status", "details"}`` per step."""
    steps: list[dict[str, Any]] = []
    if skip_validate:
        steps.append({"step": "validate", "status": "skipped"})
    else:
        _, report = validate_stage(root)
        errors = list(report.errors)
        if errors:
            shown = "\n".join(f"  {e}" for e in errors[:20]) + (
                f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
            )
            raise ValidationFailed(
                f"the publish gate stopped: cdk validate found {len(errors)} error(s)\n{shown}",
                hint="fix them (cdk validate shows details), then publish again",
            )
        warnings = list(report.warnings)
        steps.append(
            {
                "step": "validate",
                "status": "passed",
                "details": [f"{len(warnings)} warning(s)"] if warnings else [],
            }
        )
    if skip_tests:
        steps.append({"step": "test", "status": "skipped"})
    else:
        _, tests = tests_stage(root)
        if not tests.ok:
            tail = "\n".join(tests.output.strip().splitlines()[-20:])
            raise TestsFailed(
                f"the publish gate stopped: cdk test (replay) failed with exit {tests.exit_code}\n{tail}",
                hint="run cdk test to see the failures; cdk test --record re-records fixtures",
            )
        steps.append({"step": "test", "status": "passed", "details": []})
    return steps


# -- which connectors, and the reports ------------------------------------------------------------


def changed_connectors(connectors: list[str], ref: str, *, cwd: str | Path = ".") -> list[str]:
    """The connectors with a file changed since git ``ref`` (committed, staged, unstaged or untracked)."""

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


def _no_registry_summary() -> str:
    """Why the release stage was skipped, and what publish would use instead (a true statement)."""
    from cdk.publish.registry import default_registry_path

    return (
        "version rules not checked: no registry given (--repository or CDK_REGISTRY_URL); "
        f"cdk publish would use the folder registry {default_registry_path()}"
    )
