"""The layering of ``cdk``: every import edge between its modules, lazy ones included, against one map.

    entry (python -m cdk) → cli → workflows → suites (validators, testing, publish, scaffold)
        → runtime (connector, declarative) → sdk → core (errors, manifest, project, fsutil, ...)

A module may import from its own layer's package and from any lower layer. Across packages of one
layer only where the layer says its packages are peers (the runtime and core helpers); the suites
are independent of each other: what combines them is a workflow. Nothing outside ``cdk/cli/`` imports
``cdk.cli``, in any spelling (``import cdk.cli``, ``from cdk import cli``, relative imports,
``importlib.import_module("cdk.cli...")``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import cdk

PACKAGE_ROOT = Path(cdk.__file__).resolve().parent

# (layer, module prefixes, may its packages import each other) — highest first
LAYERS: list[tuple[str, tuple[str, ...], bool]] = [
    ("entry", ("cdk.__main__",), False),  # `python -m cdk`: the console script's other spelling
    ("cli", ("cdk.cli",), False),
    ("service", ("cdk.server",), False),  # `cdk serve`: a front end like the CLI, never importing it
    # cdk/__init__.py: the curated public API (lazy re-exports of the layers below)
    ("workflows", ("cdk.workflows", "cdk.pipelines", "cdk"), False),
    ("suites", ("cdk.validators", "cdk.testing", "cdk.publish", "cdk.scaffold"), False),
    # the declarative engine builds an AbstractSource; connector.py loads both kinds of connector
    # cdk.sandbox runs a source's code in an OS-isolated child through the runtime (cdk.connector)
    ("runtime", ("cdk.connector", "cdk.declarative", "cdk.sandbox"), True),
    ("sdk", ("cdk.sdk",), False),
    (
        "core",
        (
            "cdk.errors",
            "cdk.findings",
            "cdk.secrets",
            "cdk.secret_refs",
            "cdk.settings",
            "cdk.manifest",
            "cdk.project",
            "cdk.fsutil",
            "cdk.yamlio",
            "cdk.mappings",
            "cdk._compat",
            "cdk._version",
        ),
        True,
    ),
]
RANK = {name: len(LAYERS) - i for i, (name, _, _) in enumerate(LAYERS)}
PEERS = {name for name, _, peers in LAYERS if peers}

# edges between two suites that are allowed, each with its reason
ALLOWED_PEER_EDGES: dict[tuple[str, str], str] = {
    ("cdk.validators.release", "cdk.publish.versions"): "the release rules compare versions with "
    "publish's semantic-version rules (not the registry client: that is passed in)",
}

FORBIDDEN_FOR_SDK = ("validators", "testing", "publish", "scaffold", "declarative", "workflows", "cli")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, e.g. cdk.publish.publish
    target: str  # imported module, e.g. cdk.errors
    line: int


def module_name(path: Path, root: Path = PACKAGE_ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> list[Edge]:
    """Every ``cdk`` module that ``source`` (the text of ``module``) imports, wherever the import is."""
    edges: list[Edge] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            # a bare `import cdk` (e.g. for cdk.__file__) runs only the package's light __init__;
            # a name taken from it (`from cdk import AbstractSource`) is judged as the public API
            targets = [alias.name for alias in node.names if alias.name != "cdk"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from cdk import cli` imports the submodule cdk.cli, `from cdk.errors import X` the module
            # cdk.errors: each name is resolved to the longest part that is a module (see _resolve)
            targets = [f"{stem}.{alias.name}" if alias.name != "*" else stem for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__", "find_spec") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    targets = [first.value]
        edges += [Edge(module, t, node.lineno) for t in targets if t == "cdk" or t.startswith("cdk.")]
    return edges


def layer_of(module: str) -> tuple[str, str] | None:
    """(layer, the prefix that placed it) by the longest matching prefix; None when unmapped."""
    best: tuple[str, str] | None = None
    for name, prefixes, _ in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best[1])
            ):
                best = (name, prefix)
    return best


def violation(edge: Edge) -> str | None:
    """Why ``edge`` breaks the layering, or None when it is allowed."""
    src, dst = layer_of(edge.source), layer_of(edge.target)
    if src is None:
        return f"{edge.source} is in no layer: add its package to LAYERS"
    if dst is None:
        return f"{edge.target} is in no layer: add its package to LAYERS"
    (src_layer, src_pkg), (dst_layer, dst_pkg) = src, dst
    if edge.target.startswith("cdk.cli") and src_layer not in ("cli", "entry"):
        return "nothing outside cdk/cli/ imports cdk.cli"
    if edge.source.startswith("cdk.sdk") and edge.target.split(".")[1] in FORBIDDEN_FOR_SDK:
        return "cdk/sdk/ is what connector code imports: it depends on nothing above it"
    if src_pkg == dst_pkg and src_layer == dst_layer:
        return None
    if RANK[dst_layer] < RANK[src_layer]:
        return None
    if src_layer == dst_layer and (src_layer in PEERS or _peer_allowed(edge)):
        return None
    return f"{src_layer} ({src_pkg}) must not import {dst_layer} ({dst_pkg})"


def _peer_allowed(edge: Edge) -> bool:
    return any(
        (edge.source == s or edge.source.startswith(s + ".")) and edge.target == t
        for s, t in ALLOWED_PEER_EDGES
    )


def _resolve(edge: Edge) -> Edge:
    """``from cdk import errors`` names the module cdk.errors, ``from cdk import __version__`` a name of
    the package: keep the longest part of the target that is a module of cdk."""
    parts = edge.target.split(".")
    while len(parts) > 1:
        candidate = PACKAGE_ROOT.parent.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            break
        parts.pop()
    return Edge(edge.source, ".".join(parts), edge.line)


def check_source(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """The layering violations of one module's text, as ``module:line: target: why``."""
    out = []
    for edge in imports_of(source, module, is_package=is_package):
        edge = _resolve(edge)
        why = violation(edge)
        if why:
            out.append(f"{edge.source}:{edge.line}: imports {edge.target}: {why}")
    return sorted(set(out))


def all_violations() -> list[str]:
    found: list[str] = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        found += check_source(
            path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py"
        )
    return sorted(set(found))


def test_every_import_edge_of_cdk_follows_the_layers() -> None:
    assert all_violations() == []


def test_every_module_of_cdk_is_in_a_layer() -> None:
    unmapped = [module_name(p) for p in PACKAGE_ROOT.rglob("*.py") if layer_of(module_name(p)) is None]
    assert unmapped == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("cdk.publish.publish", "import cdk.cli.main\n"),
        ("cdk.publish.publish", "from cdk.cli.main import COMMANDS\n"),
        ("cdk.scaffold.fixtures", "def f():\n    from cdk import cli\n"),
        ("cdk.publish.gate", "from ..cli import main\n"),
        ("cdk.workflows.gate", "import importlib\nimportlib.import_module('cdk.cli.test')\n"),
        ("cdk.server.app", "from cdk.cli.output import print_json\n"),
    ],
)
def test_the_checker_catches_an_import_of_the_cli(module: str, source: str) -> None:
    (problem,) = check_source(source, module)
    assert "nothing outside cdk/cli/ imports cdk.cli" in problem


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("cdk.publish.publish", "def f():\n    from cdk.workflows.tests import run_tests\n", "suites"),
        ("cdk.connector", "from cdk.validators.engine import validate_project\n", "runtime"),
        ("cdk.sdk.http", "from cdk.testing import cassettes\n", "cdk/sdk/"),
        ("cdk.sdk.runner", "from cdk.declarative import build_source_class\n", "cdk/sdk/"),
        ("cdk.validators.release", "from cdk.publish.registry import versions_of\n", "suites"),
        ("cdk.scaffold.fixtures", "from cdk.testing.demo_api import DemoAPI\n", "suites"),
        ("cdk.errors", "from cdk.sdk import http\n", "core"),
        ("cdk.testing.standard", "from cdk import AbstractSource\n", "suites"),
    ],
)
def test_the_checker_catches_an_import_upwards_or_across(module: str, source: str, why: str) -> None:
    problems = check_source(source, module)
    assert problems and all(why in p for p in problems)


def test_the_checker_allows_imports_downwards() -> None:
    source = (
        "from cdk.errors import CdkError\n"
        "from cdk import errors\n"
        "from cdk._version import __version__\n"
        "def f():\n"
        "    from cdk.validators.engine import validate_project\n"
        "    from cdk.workflows.tests import run_tests\n"
        "    from . import gate\n"
    )
    assert check_source(source, "cdk.workflows.publish") == []
    assert check_source("from cdk.cli.output import print_json\n", "cdk.cli.ci") == []
