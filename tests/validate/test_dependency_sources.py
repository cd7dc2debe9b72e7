"""The dependency suite reads every place a connector declares a requirement: optional dependencies,
dependency groups, build-system.requires, requirements files in requirements/ and -r/-c includes."""

from __future__ import annotations

from pathlib import Path

from cdk.validators import dependencies
from cdk.validators.policy import load_policy


def _findings(root: Path) -> list[tuple[str, str, int, str]]:
    from cdk.project import Project

    found = dependencies.check(Project.load(root), load_policy(None))
    return sorted((f.rule, f.file, f.line, f.message) for f in found)


def _pyproject(root: Path, extra: str, build: str = '["hatchling"]') -> None:
    text = (root / "pyproject.toml").read_text()
    text = text.replace('requires = ["hatchling"]', f"requires = {build}")
    (root / "pyproject.toml").write_text(text + "\n" + extra)


def test_optional_dependencies_and_groups_are_checked(connector_copy):
    root = connector_copy("demo_source")
    _pyproject(
        root,
        '[project.optional-dependencies]\nfast = ["leftpad-py>=1"]\n\n'
        '[dependency-groups]\nruntime = ["requests>=2.0"]\ndev = ["pytest"]\n',
    )
    found = _findings(root)
    rules = [(rule, msg) for rule, _, _, msg in found]
    assert (
        "D001",
        "'leftpad-py' is not on the dependency allowlist (in [optional-dependencies] optional-dependencies.fast)",
    ) in rules
    assert any(r == "D003" and "requests>=2.0" in m and "dependency-groups.runtime" in m for r, m in rules)
    assert not any("pytest" in m for _, m in rules)  # a dev group does not ship
    lines = {msg.split("'")[1]: line for _, _, line, msg in found}
    text = (root / "pyproject.toml").read_text().splitlines()
    assert "leftpad-py" in text[lines["leftpad-py"] - 1]


def test_build_system_requires_refuses_urls_not_backends(connector_copy):
    root = connector_copy("demo_source")
    _pyproject(
        root,
        "",
        build='["hatchling @ https://evil.example/hatchling-1.0-py3-none-any.whl", "setuptools>=61", "x >> 1"]',
    )
    found = _findings(root)
    assert [(r, m.split(":")[0]) for r, _, _, m in found] == [
        ("D004", "'hatchling @ https"),
        ("D005", "'x >> 1' is not a valid requirement"),
    ]
    assert all("build-system.requires" in m for *_, m in found)


def test_requirement_files_in_a_folder_and_includes(connector_copy):
    root = connector_copy("demo_source")
    (root / "requirements").mkdir()
    (root / "requirements" / "base.txt").write_text("-r ../extra-deps.txt\nrequests>=2.31,<3\n")
    (root / "requirements" / "dev.txt").write_text("leftpad-py\n")  # skipped: dev
    (root / "extra-deps.txt").write_text("--constraint pins.txt\nleftpad-py==1.0\n")
    (root / "pins.txt").write_text("git+https://github.com/x/y\n-r extra-deps.txt\n")  # a cycle back
    (root / "requirements.txt").write_text("-r missing.txt\n")
    found = _findings(root)
    assert [(r, f, line) for r, f, line, _ in found] == [
        ("D001", "extra-deps.txt", 2),
        ("D004", "pins.txt", 1),
        ("D005", "missing.txt", 1),
    ]
