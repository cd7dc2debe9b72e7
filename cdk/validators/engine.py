"""Run the suites over a connector folder or a single code string, then apply the policy layers.

Library API::

    validate_project("connectors/notion") -> Report
    validate_code(code_from_a_request)     -> Report   # one source file, never imported or run

A manifest that fails to load, a pyproject that is not TOML and a file with a syntax error all become
findings: the other files and suites still run.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from cdk.errors import CdkError, ManifestError
from cdk.findings import Finding, Severity
from cdk.validators.findings import SUITES, Report, Rule, make
from cdk.validators.policy import Policy, apply_connector_settings, load_policy

if TYPE_CHECKING:
    from cdk.project import Project

RULES = [
    Rule(
        "Y001",
        "syntax",
        "Python syntax error",
        "the file is not valid Python",
        "fix the syntax error; the file was skipped by the code suites",
        bad="def get(self)\n    return 1",
        good="def get(self):\n    return 1",
    ),
    Rule(
        "Y002", "syntax", "unreadable file", "the file cannot be read as UTF-8 text", "save the file as UTF-8"
    ),
    Rule(
        "Y003",
        "syntax",
        "suite failed",
        "a validation suite failed on this connector",
        "this is a bug in connector-cdk; please report it with the connector",
    ),
    Rule(
        "L001",
        "policy",
        "inline ignore of a non-waivable rule",
        "an inline `# cdk: ignore[...]` names a rule the policy does not let connectors waive",
        "fix the finding instead; only rules listed as waivable in the policy can be ignored",
        bad="import os  # cdk: ignore[S001]",
        good="from urllib.parse import urlencode",
    ),
    Rule(
        "L002",
        "policy",
        "connector setting would loosen the policy",
        "[tool.cdk.validate] may only tighten the organisation policy or waive waivable rules",
        "remove the setting, or ask for the organisation policy to change",
        bad='[tool.cdk.validate]\nprofile = "standard"  # the policy says strict',
        good='[tool.cdk.validate]\nwaive = {S006 = "dispatch on a fixed set of method names"}',
    ),
    Rule(
        "L003",
        "policy",
        "unknown setting or rule",
        "[tool.cdk.validate] names an unknown setting or rule",
        "check the spelling; `cdk rules` lists every rule",
        bad='[tool.cdk.validate]\nwaive = ["S999"]',
        good='[tool.cdk.validate]\nwaive = ["S006"]',
    ),
]
R = {r.code: r for r in RULES}

# the suites a project runs through, in report order: every suite but the engine's own (syntax, policy)
# and release, which needs a registry and runs only in the gate
SUITE_ORDER = tuple(s for s in SUITES if s not in ("syntax", "policy", "release"))
CODE_SUITES = ("capabilities", "security", "secrets", "egress")
IGNORE_RE = re.compile(r"#\s*cdk:\s*ignore\[([A-Za-z0-9_,\s]+)\]")


class CodeProject:
    """A single code string posing as a project, for :func:`validate_code`."""

    def __init__(self, code: str, filename: str = "source.py", allowed_hosts: list[str] | None = None):
        self.root = Path(".")
        self.manifest = None
        self.positions = None
        self.pyproject = None
        self.tool_settings: dict[str, Any] = {}
        self.code_only = True
        self.allowed_hosts = allowed_hosts
        self._path = Path(filename)
        self.python_files = [self._path]
        self._code = code.removeprefix("\ufeff")  # a UTF-8 BOM, as the interpreter reads a file with one
        self._ast: ast.Module | SyntaxError | None = None

    def source(self, path: Path) -> str:
        return self._code

    def parse(self, path: Path) -> ast.Module | SyntaxError:
        if self._ast is None:
            from cdk.fsutil import parse_python

            try:
                tree = parse_python(self._code, str(self._path))
                assert isinstance(tree, ast.Module)
                self._ast = tree
            except SyntaxError as exc:
                self._ast = exc
        return self._ast

    def rel(self, path: Path) -> str:
        return str(path)

    def module_path(self, module: str) -> Path | None:
        return None


def _manifest_rule(problem_message: str, key: str | None) -> str:
    """Which manifest rule a loader problem belongs to (name, version, hosts, capabilities, else schema)."""
    text = problem_message
    if key == "name" or text.startswith("name:"):
        return "M002"
    if key == "version" or text.startswith("version:"):
        return "M003"
    if "allowed_hosts" in text:
        return "M011"
    if "do not fit kind" in text:
        return "M010"
    if "YAML syntax error" in text:
        return "M012"
    return "M001"


def _load(path: str | Path) -> tuple[Project | None, list[Finding]]:
    from cdk.manifest import MANIFEST_FILE, Positions
    from cdk.project import Project
    from cdk.validators import manifest as manifest_suite

    findings: list[Finding] = []
    try:
        return Project.load(path), findings
    except ManifestError as exc:
        root = Path(path)
        root = root.parent if root.name == MANIFEST_FILE else root
        if exc.problems:
            for p in exc.problems:
                rule = manifest_suite.R[_manifest_rule(p.message, p.key)]
                findings.append(make(rule, MANIFEST_FILE, p.line, p.column, p.message))
        else:
            findings.append(make(manifest_suite.R["M001"], MANIFEST_FILE, 1, 0, exc.message))
        if not root.is_dir():
            return None, findings
        # ignored below: validate goes on without a manifest (its problems are findings); suites check project.manifest for None
        return Project(root=root.resolve(), manifest=None, positions=Positions()), findings  # type: ignore[arg-type]


def _pyproject_findings(project: Project) -> list[Finding]:
    from cdk.validators import packaging as packaging_suite

    try:
        project.pyproject  # noqa: B018 - parse once, turning a TOML error into a finding
    except ManifestError as exc:
        project.__dict__["pyproject"] = None
        return [
            make(
                packaging_suite.R["P006"],
                p.file,
                p.line,
                p.column,
                f"pyproject.toml is not valid TOML: {p.message}",
            )
            for p in exc.problems
        ] or [make(packaging_suite.R["P006"], "pyproject.toml", 1, 0)]
    return []


def _syntax_findings(project: Project | CodeProject) -> list[Finding]:
    out = []
    for path in project.python_files:
        try:
            tree = project.parse(path)
        except (OSError, UnicodeDecodeError) as exc:
            out.append(make(R["Y002"], project.rel(path), 1, 0, f"cannot read the file: {exc}"))
            if not isinstance(project, CodeProject):  # a code string is parsed, never read
                project._asts[Path(path)] = SyntaxError(str(exc))
            continue
        if isinstance(tree, SyntaxError):
            line = tree.lineno or 1
            col = (tree.offset or 1) - 1
            out.append(make(R["Y001"], project.rel(path), line, col, f"syntax error: {tree.msg}"))
    return out


def run_suites(project: Project | CodeProject, policy: Policy, suites: tuple[str, ...]) -> list[Finding]:
    findings: list[Finding] = []
    for name in suites:
        module = importlib.import_module(f"cdk.validators.{name}")
        try:
            findings.extend(module.check(project, policy))
        except Exception as exc:  # noqa: BLE001 - one broken suite must not hide the others' findings
            findings.append(
                make(R["Y003"], "connector.yaml", 1, 0, f"suite '{name}' failed: {type(exc).__name__}: {exc}")
            )
    return findings


def _line_of(project: Project | CodeProject, file: str, line: int, cache: dict[str, list[str]]) -> str:
    if file not in cache:
        try:
            if getattr(project, "code_only", False):
                text = project.source(Path(file))
            else:
                from cdk.fsutil import read_input_text

                text = read_input_text(Path(project.root) / file)  # regular files only: never a FIFO
            from cdk.validators.security import python_lines

            cache[file] = python_lines(text)  # the interpreter's line numbers, not str.splitlines()
        except (OSError, UnicodeDecodeError, ValueError, CdkError):
            cache[file] = []
    lines = cache[file]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def apply_policy(
    project: Project | CodeProject, policy: Policy, findings: list[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """Severity overrides, connector waivers and inline ignores; returns (kept, suppressed)."""
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    cache: dict[str, list[str]] = {}
    reported_ignores: set[tuple[str, int, str]] = set()
    waivable = policy.waivable  # NEVER_WAIVABLE already taken out
    for f in findings:
        sev = policy.severity_of(f.rule, f.severity)
        if sev == "off":
            suppressed.append(f)
            continue
        if sev != f.severity and sev in ("error", "warning"):
            f = replace(f, severity=cast(Severity, sev))  # checked just above
        if f.rule in policy.waived and f.rule in waivable:
            suppressed.append(f)
            continue
        m = IGNORE_RE.search(_line_of(project, f.file, f.line, cache))
        if m:
            codes = {c.strip().upper() for c in m.group(1).split(",") if c.strip()}
            if f.rule in codes:
                if f.rule in waivable:
                    suppressed.append(f)
                    continue
                key = (f.file, f.line, f.rule)
                if key not in reported_ignores:
                    reported_ignores.add(key)
                    col = _line_of(project, f.file, f.line, cache).find("#")
                    kept.append(
                        make(
                            R["L001"],
                            f.file,
                            f.line,
                            col,
                            f"`# cdk: ignore[{f.rule}]` is not honoured: {f.rule} is not waivable under policy {policy.source}",
                        )
                    )
        kept.append(f)
    return kept, suppressed


def _settings_findings(project: Project, refused: list[tuple[str, str, str]]) -> list[Finding]:
    from cdk.validators.astutil import find_key_line

    text = ""
    try:
        text = (Path(project.root) / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    out = []
    for rule, key, message in refused:
        line, col = find_key_line(text, key) if text else (1, 0)
        out.append(make(R[rule], "pyproject.toml", line, col, message))
    return out


def _finish(root: str, project: Project | CodeProject, policy: Policy, findings: list[Finding]) -> Report:
    kept, suppressed = apply_policy(project, policy, findings)
    kept.sort(key=Finding.sort_key)
    return Report(root=root, findings=kept, suppressed=suppressed, strict=policy.strict)


def validate_project(
    path_or_project: str | Path | Project,
    policy: Policy | None = None,
    *,
    profile: str | None = None,
    suites: tuple[str, ...] = SUITE_ORDER,
) -> Report:
    """Validate a connector folder (or a loaded :class:`cdk.project.Project`) with every suite."""
    policy = policy or load_policy(profile=profile)
    if isinstance(path_or_project, str | Path):
        root = str(path_or_project)
        project, findings = _load(path_or_project)
        if project is None:
            return Report(root=root, findings=findings)
    else:
        project, findings = path_or_project, []
        root = str(project.root)
    if "files" in suites:  # first and alone: the other suites read files, and would read through a link
        gate = run_suites(project, policy, ("files",))
        findings.extend(gate)
        suites = tuple(s for s in suites if s != "files")
        if gate:
            return _finish(root, project, policy, findings)
    findings.extend(_pyproject_findings(project))
    settings = project.tool_settings.get("validate") if isinstance(project.tool_settings, dict) else None
    policy, refused = apply_connector_settings(policy, settings or {})
    findings.extend(_settings_findings(project, refused))
    findings.extend(_syntax_findings(project))
    findings.extend(run_suites(project, policy, suites))
    return _finish(root, project, policy, findings)


def validate_code(
    code: str,
    policy: Policy | None = None,
    *,
    filename: str = "source.py",
    allowed_hosts: list[str] | None = None,
    profile: str | None = None,
) -> Report:
    """Validate one source file given as text (the service's validate endpoint); the code never runs."""
    policy = policy or load_policy(profile=profile)
    project = CodeProject(code, filename, allowed_hosts)
    findings = _syntax_findings(project)
    findings.extend(run_suites(project, policy, CODE_SUITES))
    return _finish(filename, project, policy, findings)


def _validate_one(args: tuple[str, Policy | None]) -> Report:  # runs in a worker process
    return validate_project(args[0], args[1])


def validate_many(
    targets: list[str], policy: Policy | None = None, *, jobs: int | None = None, on_report: Any = None
) -> list[Report]:
    """Validate every connector folder, in a process pool when there is more than one (connector code
    is only parsed, so forking is safe); reports come back in the order of ``targets``."""
    import os

    workers = max(1, min(jobs or os.cpu_count() or 1, len(targets)))
    if workers == 1:
        reports = []
        for target in targets:
            reports.append(_validate_one((target, policy)))
            if on_report is not None:
                on_report(reports[-1])
        return reports
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, len(targets) // (workers * 4))
    reports = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for report in pool.map(_validate_one, [(t, policy) for t in targets], chunksize=chunk):
            reports.append(report)
            if on_report is not None:
                on_report(report)
    return reports
