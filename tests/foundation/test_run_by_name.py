"""An installed connector runs by name: `cdk read acme` after `cdk install acme==1.4.2` (issue 14 item 11).

The connector is built, put into a folder registry and installed with `cdk install` into a fresh
environment (``venv_seeing_this_env``: a venv that sees this one's packages through a .pth file, so
nothing is downloaded and this environment is left untouched); `cdk read acme` then runs in that environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cdk.publish.build import build_project
from cdk.publish.registry import FolderRegistry
from tests.conftest import FIXTURES, jsonl, venv_seeing_this_env


def _cdk(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(python), "-m", "cdk", *args], cwd=cwd, env=env, capture_output=True, timeout=300
    )


@pytest.fixture(scope="module")
def installed_env(tmp_path_factory) -> tuple[Path, Path]:
    """(python of a fresh venv with acme 1.4.2 installed by `cdk install`, the registry folder)."""
    root = tmp_path_factory.mktemp("byname")
    src = root / "acme"
    shutil.copytree(FIXTURES / "demo_source", src, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = (src / "connector.yaml").read_text()
    (src / "connector.yaml").write_text(
        manifest.replace("name: demo-source", "name: acme").replace("version: 0.1.0", "version: 1.4.2")
    )
    pyproject = (src / "pyproject.toml").read_text()
    (src / "pyproject.toml").write_text(
        pyproject.replace('name = "demo-source"', 'name = "acme"')
        .replace('version = "0.1.0"', 'version = "1.4.2"')
        .replace('demo-source = "demo_source', 'acme = "demo_source')
    )
    built = build_project(src, src / "dist", isolation="none")
    assert built.wheel is not None
    registry = root / "registry"
    FolderRegistry(registry).upload([built.wheel])
    python = venv_seeing_this_env(root / "venv")
    work = root / "work"
    work.mkdir()
    result = _cdk(
        Path(sys.executable),
        "install",
        "acme==1.4.2",
        "--repository",
        str(registry),
        "--python",
        str(python),
        cwd=work,
    )
    assert result.returncode == 0, result.stderr.decode()
    return python, work


def test_cdk_read_by_name_after_cdk_install(installed_env, demo_api):
    python, work = installed_env
    cfg = work / "config.json"
    cfg.write_text(json.dumps({"api_url": demo_api.url, "page_size": 40}))
    listed = _cdk(python, "connectors", cwd=work)
    assert b"acme" in listed.stdout and b"1.4.2" in listed.stdout
    result = _cdk(python, "read", "acme", "--config", str(cfg), "-s", "users", cwd=work)
    assert result.returncode == 0, result.stderr.decode()
    assert [r["data"]["id"] for r in jsonl(result.stdout)] == list(range(1, 101))
    by_flag = _cdk(
        python, "read", "-C", "acme", "--version", "1.4.2", "--config", str(cfg), "-s", "orders", cwd=work
    )
    assert by_flag.returncode == 0 and len(jsonl(by_flag.stdout)) == 100


def test_version_mismatch_and_unknown_name_are_refused(installed_env):
    python, work = installed_env
    wrong = _cdk(python, "read", "acme", "--version", "1.5.0", "--config", "c.json", cwd=work)
    assert wrong.returncode == 1
    assert (
        b"installed connector acme is version 1.4.2, not 1.5.0" in wrong.stderr
        and b"cdk install acme==1.5.0" in wrong.stderr
    )
    unknown = _cdk(python, "read", "nope", "--config", "c.json", cwd=work)
    assert unknown.returncode == 1 and b"no such folder or installed connector: 'nope'" in unknown.stderr
    assert b"cdk connectors" in unknown.stderr
