"""Packaging suite: the connector builds into a wheel that carries its manifest, schemas and entry point.

What the wheel will contain is worked out from pyproject.toml without building: hatchling (packages,
force-include, shared-data), setuptools (package-data, MANIFEST.in) and flit/pdm (the package folder)
are understood; another backend gets a warning that the check could not be made.
"""

from __future__ import annotations

import fnmatch
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
        "P001",
        "packaging",
        "pyproject.toml missing",
        "the connector has no pyproject.toml",
        "`cdk init` writes one; a connector is a Python package",
        bad="connector.yaml\nnotion_connector/",
        good="connector.yaml\npyproject.toml\nnotion_connector/",
    ),
    Rule(
        "P002",
        "packaging",
        "version mismatch",
        "pyproject.toml's version differs from connector.yaml's",
        "keep them equal (`cdk publish` writes both)",
        bad='version = "1.4.1"  # connector.yaml: 1.4.2',
        good='version = "1.4.2"',
    ),
    Rule(
        "P003",
        "packaging",
        "connector.yaml not in the wheel",
        "the wheel would not contain connector.yaml",
        "force-include it into the package",
        bad='[tool.hatch.build.targets.wheel]\npackages = ["notion_connector"]',
        good='[tool.hatch.build.targets.wheel.force-include]\n"connector.yaml" = "notion_connector/connector.yaml"',
    ),
    Rule(
        "P004",
        "packaging",
        "schema not in the wheel",
        "the wheel would not contain a schema file named in connector.yaml",
        "keep schemas inside the package folder or force-include them",
        bad="schema: schemas/pages.json   # schemas/ outside the package",
        good='"schemas" = "notion_connector/schemas"',
    ),
    Rule(
        "P005",
        "packaging",
        "entry point missing",
        "the connector is not registered under the `cdk.connectors` entry point",
        'add [project.entry-points."cdk.connectors"] name = "package.module:Class"',
        bad='[project.scripts]\nnotion = "notion_connector.source:main"',
        good='[project.entry-points."cdk.connectors"]\nnotion = "notion_connector.source:NotionSource"',
    ),
    Rule(
        "P006",
        "packaging",
        "pyproject.toml is not TOML",
        "pyproject.toml cannot be parsed",
        "fix the TOML at the position shown",
        bad='[project\nname = "x"',
        good='[project]\nname = "x"',
    ),
    Rule(
        "P007",
        "packaging",
        "entry point differs from manifest",
        "the `cdk.connectors` entry point names another class than connector.yaml's entrypoint",
        "point both at the same module:Class",
        severity="warning",
        bad='notion = "notion_connector.old:Source"',
        good='notion = "notion_connector.source:NotionSource"',
    ),
    Rule(
        "P008",
        "packaging",
        "build backend not checked",
        "the wheel's contents could not be worked out for this build backend",
        "use hatchling or setuptools, or waive P008 and check the wheel with `cdk build`",
        severity="warning",
        waivable=True,
        bad='build-backend = "maturin"',
        good='build-backend = "hatchling.build"',
    ),
    Rule(
        "P009",
        "packaging",
        "build backend not allowed",
        "the build backend is not on the allowlist, or is loaded from the connector itself (backend-path):"
        " `cdk build`, `cdk ci` and `cdk publish` would run its code",
        "use one of the allowed backends (hatchling.build, setuptools.build_meta, flit_core.buildapi,"
        " pdm.backend) from the registry",
        bad='[build-system]\nrequires = ["hatchling"]\nbuild-backend = "backend"\nbackend-path = ["."]',
        good='[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"',
    ),
    Rule(
        "P010",
        "packaging",
        "code that runs at build time",
        "build hooks (hatch hooks, a setup.py, setuptools cmdclass, pdm build scripts) run the connector's"
        " code on every build, outside any check",
        "remove the hook; a connector's wheel needs no build-time code",
        bad='[tool.hatch.build.hooks.custom]\npath = "hatch_build.py"',
        good='[tool.hatch.build.targets.wheel]\npackages = ["notion_connector"]',
    ),
    Rule(
        "P011",
        "packaging",
        ".pth file",
        "a .pth file in a wheel runs at every interpreter start once installed",
        "delete the .pth file",
        bad="notion_connector/setup_path.pth",
        good="(no .pth file)",
    ),
    Rule(
        "P012",
        "packaging",
        "entry point outside cdk.connectors",
        "console scripts and other entry-point groups (pytest11, ...) run the connector's code from pip,"
        " pytest or a shell, and may shadow `pip` or `cdk`",
        'register the connector only under [project.entry-points."cdk.connectors"]',
        bad='[project.scripts]\npip = "notion_connector.source:main"',
        good='[project.entry-points."cdk.connectors"]\nnotion = "notion_connector.source:NotionSource"',
    ),
]
DEFAULT_BACKENDS = ("hatchling.build", "setuptools.build_meta", "flit_core.buildapi", "pdm.backend")
R = {r.code: r for r in RULES}


def _hatch_version(project: Project, data: dict[str, Any]) -> str | None:
    rel = (((data.get("tool") or {}).get("hatch") or {}).get("version") or {}).get("path")
    if not rel:
        return None
    try:
        text = (Path(project.root) / rel).read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", text)
    return m.group(1) if m else None


def _package_dirs(project: Project, data: dict[str, Any], backend: str) -> list[str]:
    root = Path(project.root)
    tool = data.get("tool") or {}
    wheel = (((tool.get("hatch") or {}).get("build") or {}).get("targets") or {}).get("wheel") or {}
    if backend == "hatchling" and wheel.get("packages"):
        return [str(p).strip("/") for p in wheel["packages"]]
    if backend == "setuptools":
        pk = (tool.get("setuptools") or {}).get("packages")
        if isinstance(pk, list):
            return [p.replace(".", "/") for p in pk]
    out = []
    for base in (root, root / "src"):
        if base.is_dir():
            for d in sorted(base.iterdir()):
                if d.is_dir() and (d / "__init__.py").is_file() and d.name != "tests":
                    out.append(str(d.relative_to(root)))
    return out


def _included(rel: str, project: Project, data: dict[str, Any], backend: str, packages: list[str]) -> bool:
    tool = data.get("tool") or {}
    rel = rel.strip("/")
    if backend == "hatchling":
        build = (tool.get("hatch") or {}).get("build") or {}
        wheel = (build.get("targets") or {}).get("wheel") or {}
        for table in (
            wheel.get("force-include") or {},
            build.get("force-include") or {},
            wheel.get("shared-data") or {},
        ):
            for src in table:
                src = str(src).strip("/").removeprefix("./")
                if rel == src or rel.startswith(src + "/"):
                    return True
        return any(rel.startswith(p + "/") for p in packages)
    if backend in ("flit_core", "pdm"):
        return any(rel.startswith(p + "/") for p in packages)
    if backend == "setuptools":
        pkg = next((p for p in packages if rel.startswith(p + "/")), None)
        if pkg is None:
            return False
        inner = rel[len(pkg) + 1 :]
        pdata = (tool.get("setuptools") or {}).get("package-data") or {}
        for key, patterns in pdata.items():
            if key in ("*", pkg.replace("/", ".").split("src.")[-1]):
                if any(fnmatch.fnmatch(inner, pat) for pat in patterns):
                    return True
        manifest_in = Path(project.root) / "MANIFEST.in"
        if manifest_in.is_file():
            text = manifest_in.read_text(encoding="utf-8")
            return Path(rel).name in text or any(part in text for part in Path(rel).parts[:-1])
        return False
    return True


def build_time_code(project: Project, data: dict[str, Any], text: str, policy: Policy) -> list[Finding]:
    """P009-P012: nothing of the connector runs at build, install or interpreter start."""
    out: list[Finding] = []
    root = Path(project.root)
    build = data.get("build-system") or {}
    allowed = tuple((policy.data.get("packaging") or {}).get("build_backends") or DEFAULT_BACKENDS)
    backend = str(build.get("build-backend") or "")
    if build.get("backend-path") is not None:
        line, col = find_key_line(text, "backend-path")
        out.append(
            make(
                R["P009"],
                "pyproject.toml",
                line,
                col,
                "backend-path loads the build backend from the connector",
            )
        )
    elif backend and backend not in allowed:
        line, col = find_key_line(text, "build-backend")
        out.append(
            make(
                R["P009"],
                "pyproject.toml",
                line,
                col,
                f"build backend '{backend}' is not one of {list(allowed)}",
            )
        )
    tool = data.get("tool") or {}
    hatch = tool.get("hatch") or {}
    hook_tables: list[str] = []
    hb = hatch.get("build") or {}
    if hb.get("hooks"):
        hook_tables.append("tool.hatch.build.hooks")
    for target, conf in (hb.get("targets") or {}).items():
        if isinstance(conf, dict) and conf.get("hooks"):
            hook_tables.append(f"tool.hatch.build.targets.{target}.hooks")
    if (hatch.get("metadata") or {}).get("hooks"):
        hook_tables.append("tool.hatch.metadata.hooks")
    if (hatch.get("version") or {}).get("source") == "code":
        hook_tables.append("tool.hatch.version (source = code)")
    if (tool.get("setuptools") or {}).get("cmdclass"):
        hook_tables.append("tool.setuptools.cmdclass")
    if ((tool.get("pdm") or {}).get("build") or {}).get("run-setuptools") or (
        root / "pdm_build.py"
    ).is_file():
        hook_tables.append("tool.pdm.build")
    for table in hook_tables:
        key = table.split(" ")[0].rsplit(".", 1)[-1]
        line, col = find_key_line(text, key)
        out.append(make(R["P010"], "pyproject.toml", line, col, f"[{table}] runs code at build time"))
    for name in ("setup.py", "hatch_build.py", "pdm_build.py"):
        if (root / name).is_file():
            out.append(make(R["P010"], name, 1, 0, f"{name} is run by the build backend"))
    for path in _walk_files(root, ".pth"):
        out.append(
            make(R["P011"], project.rel(path), 1, 0, f"'{project.rel(path)}' would run at interpreter start")
        )
    for mapping in (
        hb.get("force-include") or {},
        ((hb.get("targets") or {}).get("wheel") or {}).get("force-include") or {},
        ((hb.get("targets") or {}).get("wheel") or {}).get("shared-data") or {},
    ):
        for dest in mapping.values():
            if str(dest).endswith(".pth"):
                line, col = find_key_line(text, str(dest))
                out.append(
                    make(
                        R["P011"],
                        "pyproject.toml",
                        line,
                        col,
                        f"'{dest}' in the wheel would run at interpreter start",
                    )
                )
    proj = data.get("project") or {}
    for key in ("scripts", "gui-scripts"):
        for name in proj.get(key) or {}:
            line, col = (
                find_key_line(text, f"{name} =")
                if find_key_line(text, f"{name} =") != (1, 0)
                else find_key_line(text, f"[project.{key}]")
            )
            out.append(
                make(
                    R["P012"],
                    "pyproject.toml",
                    line,
                    col,
                    f"[project.{key}] '{name}' would install a command",
                )
            )
    for group in proj.get("entry-points") or {}:
        if group != "cdk.connectors":
            line, col = find_key_line(text, group)
            out.append(
                make(
                    R["P012"],
                    "pyproject.toml",
                    line,
                    col,
                    f"entry-point group '{group}' runs code outside cdk",
                )
            )
    return out


def _walk_files(root: Path, suffix: str) -> list[Path]:
    import os

    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = [
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in ("__pycache__", "node_modules")
            and not (here / d / "pyvenv.cfg").exists()
        ]
        out.extend(here / f for f in filenames if f.endswith(suffix))
    return sorted(out)


def check(project: Project, policy: Policy) -> list[Finding]:
    if getattr(project, "code_only", False):
        return []
    data = project.pyproject
    if data is None:
        if (Path(project.root) / "pyproject.toml").is_file():
            return []  # not TOML: reported as P006 by the engine
        return [make(R["P001"], "pyproject.toml", 1, 0)]
    m = project.manifest
    text = (Path(project.root) / "pyproject.toml").read_text(encoding="utf-8")
    out: list[Finding] = build_time_code(project, data, text, policy)
    proj = data.get("project") or {}
    if m is not None:
        version = proj.get("version") if "version" in proj else _hatch_version(project, data)
        if version is not None and str(version) != m.version:
            line, col = find_key_line(text, "version")
            out.append(
                make(
                    R["P002"],
                    "pyproject.toml",
                    line,
                    col,
                    f"pyproject.toml says version {version}, connector.yaml says {m.version}",
                )
            )
    eps = (proj.get("entry-points") or {}).get("cdk.connectors") or {}
    if not eps:
        line, col = find_key_line(text, "[project]")
        out.append(make(R["P005"], "pyproject.toml", line, col))
    elif (
        m is not None and m.entrypoint and m.entrypoint not in {str(v).replace(" ", "") for v in eps.values()}
    ):
        line, col = find_key_line(text, "cdk.connectors")
        out.append(
            make(
                R["P007"],
                "pyproject.toml",
                line,
                col,
                f"entry point(s) {sorted(eps.values())} differ from connector.yaml's entrypoint {m.entrypoint}",
            )
        )
    backend_raw = str((data.get("build-system") or {}).get("build-backend", "setuptools.build_meta"))
    backend = backend_raw.split(".")[0].replace("pdm", "pdm")
    if backend not in ("hatchling", "setuptools", "flit_core", "pdm"):
        line, col = find_key_line(text, "build-backend")
        return out + [
            make(
                R["P008"],
                "pyproject.toml",
                line,
                col,
                f"cannot tell statically what backend '{backend_raw}' puts in the wheel",
            )
        ]
    packages = _package_dirs(project, data, backend)
    if not _included("connector.yaml", project, data, backend, packages):
        out.append(
            make(
                R["P003"],
                "pyproject.toml",
                1,
                0,
                f"connector.yaml would not be in the wheel (build backend {backend}; packages {packages})",
            )
        )
    if m is not None:
        refs = [s.schema_ for s in m.streams] + ([m.config.schema_] if m.config else [])
        for ref in refs:
            if isinstance(ref, str) and (Path(project.root) / ref).is_file():
                rel = Path(ref).as_posix().removeprefix("./")
                if not _included(rel, project, data, backend, packages):
                    out.append(
                        make(R["P004"], "pyproject.toml", 1, 0, f"schema '{ref}' would not be in the wheel")
                    )
    return out
