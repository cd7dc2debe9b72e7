"""Dependencies tell the truth: every declared runtime dependency is used by cdk itself."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cdk._compat import tomllib

ROOT = Path(__file__).resolve().parents[2]

# distribution name (canonical) -> the module cdk imports (or runs with `python -m`)
IMPORT_NAMES = {
    "pyyaml": "yaml",
    "python-jsonpath": "jsonpath",
    "tomli": "tomli",
}


def _runtime_requirements() -> list[Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(r) for r in data["project"]["dependencies"]]


def _cdk_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "cdk").rglob("*.py")))


def test_every_runtime_dependency_is_used_by_cdk() -> None:
    sources = _cdk_sources()
    unused = []
    for req in _runtime_requirements():
        module = IMPORT_NAMES.get(canonicalize_name(req.name), canonicalize_name(req.name).replace("-", "_"))
        imported = re.search(rf"^\s*(import|from) {re.escape(module)}(\.|\s|$)", sources, re.M)
        run_as_module = re.search(rf"[\"']-m[\"'],\s*[\"']{re.escape(module)}[\"']", sources)
        if not (imported or run_as_module):
            unused.append(req.name)
    assert unused == []


def test_test_only_and_unused_packages_are_not_runtime_dependencies() -> None:
    names = {canonicalize_name(r.name) for r in _runtime_requirements()}
    assert "ruamel-yaml" not in names  # never imported
    assert "vcrpy" not in names  # only tests and bench/ use it; cdk reads its cassette format itself
    assert not re.search(r"^\s*(import|from) vcr\b", _cdk_sources(), re.M)


def test_tomli_is_declared_for_python_before_3_11_and_read_through_one_module() -> None:
    (tomli,) = [r for r in _runtime_requirements() if r.name == "tomli"]
    assert tomli.marker is not None
    assert tomli.marker.evaluate({"python_version": "3.10"}) and not tomli.marker.evaluate(
        {"python_version": "3.11"}
    )
    for path in (ROOT / "cdk").rglob("*.py"):
        if path.parent.name == "_compat":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from) (tomllib|tomli)\b", text, re.M), path
