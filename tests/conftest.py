"""Fixtures shared by every test area: the demo API, fixture connectors, and running `cdk` for real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cdk.testing.demo_api import DemoAPI

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path_factory, monkeypatch):
    """No test reads the developer's ~/.config/cdk/config.toml: point XDG_CONFIG_HOME at an empty folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "no-user-config"))


@pytest.fixture
def demo_api():
    """A fresh demo API on 127.0.0.1 (100 records per stream); tests may change counts/api_key/scripts."""
    with DemoAPI(100) as api:
        yield api


@pytest.fixture
def connector_copy(tmp_path):
    """Copy a fixture connector into tmp_path and return its folder."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest, ignore=shutil.ignore_patterns("__pycache__"))
        return dest

    return copy


@pytest.fixture
def write_config(tmp_path):
    def write(data: dict, name: str = "config.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data))
        return path

    return write


def run_cdk(
    *args: str,
    cwd: Path | str | None = None,
    env: dict | None = None,
    input: bytes | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    """Run `python -m cdk ARGS` as a real subprocess; returns the completed process (bytes stdout)."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("CDK_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "cdk", *args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        timeout=timeout,
    )


def jsonl(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]
