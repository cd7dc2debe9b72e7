"""Symlinks and special files inside a connector are refused by validate (I001/I002) and by build,
wherever they point; folders that are never packaged (secrets/, .venv/) are not looked into."""

from __future__ import annotations

import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from cdk.errors import PackagingError
from cdk.validators.engine import validate_project
from tests.conftest import run_cdk


def _rules(root: Path) -> dict[str, list[str]]:
    report = validate_project(root)
    out: dict[str, list[str]] = {}
    for f in report.findings:
        out.setdefault(f.rule, []).append(f"{f.file}: {f.message}")
    return out


@pytest.mark.parametrize("where", ["schemas/users.json", "demo_source/passwd.txt", "connector.yaml"])
def test_a_symlink_anywhere_is_an_error_naming_link_and_target(connector_copy, tmp_path, where):
    root = connector_copy("demo_source")
    target = tmp_path / "outside.txt"
    target.write_text("root:x:0:0:root:/root:/bin/bash\n")
    link = root / where
    if link.exists():
        target.write_bytes(link.read_bytes())  # same content: only the link itself is wrong
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)
    found = _rules(root).get("I001", [])
    assert found == [f"{where}: '{where}' is a symlink (to {target}); cdk does not follow links"]
    proc = run_cdk("validate", str(root), "--format", "json")
    assert proc.returncode == 1
    errors = json.loads(proc.stdout)["errors"]
    assert any(e["rule"] == "I001" and e["file"].endswith(where) for e in errors)


def test_relative_symlinks_inside_are_refused_too_and_fifos(connector_copy):
    root = connector_copy("demo_source")
    os.symlink("users.json", root / "schemas" / "alias.json")
    os.mkfifo(root / "pipe")
    rules = _rules(root)
    assert rules["I001"] == [
        "schemas/alias.json: 'schemas/alias.json' is a symlink (to users.json); cdk does not follow links"
    ]
    assert rules["I002"] == ["pipe: 'pipe' is a fifo, not a regular file"]


def test_unpackaged_folders_are_not_searched(connector_copy, tmp_path):
    root = connector_copy("demo_source")
    (root / "secrets").mkdir(exist_ok=True)
    (tmp_path / "real.json").write_text("{}")
    os.symlink(tmp_path / "real.json", root / "secrets" / "config.json")  # a common, git-ignored setup
    (root / ".venv" / "bin").mkdir(parents=True)
    os.symlink("/usr/bin/python3", root / ".venv" / "bin" / "python")
    assert "I001" not in _rules(root)
    os.symlink(tmp_path, root / "build")  # a link named like a skipped folder is still a link
    assert _rules(root)["I001"] == [f"build: 'build' is a symlink (to {tmp_path}); cdk does not follow links"]


def test_build_refuses_a_symlink_and_writes_nothing(connector_copy):
    from cdk.publish.build import build_project

    root = connector_copy("demo_source")
    os.symlink("/etc/passwd", root / "demo_source" / "passwd.txt")
    with pytest.raises(PackagingError, match=r"demo_source/passwd\.txt -> /etc/passwd") as info:
        build_project(root, root / "dist", isolation="none")
    assert info.value.exit_code == 1
    assert not any((root / "dist").glob("*"))
    proc = run_cdk("build", cwd=root, timeout=120)
    assert (
        proc.returncode == 1
        and b"passwd.txt -> /etc/passwd" in proc.stderr
        and b"Traceback" not in proc.stderr
    )


def test_build_without_links_ships_no_link(connector_copy):
    """The positive control: the same connector, link removed, builds and its artifacts hold no link."""
    from cdk.publish.build import build_project

    root = connector_copy("demo_source")
    result = build_project(root, root / "dist", isolation="none")
    assert result.wheel and result.sdist
    with zipfile.ZipFile(result.wheel) as zf:
        assert all(((info.external_attr >> 16) & 0o170000) != 0o120000 for info in zf.infolist())
    with tarfile.open(result.sdist) as tf:
        assert not any(m.issym() or m.islnk() for m in tf.getmembers())
