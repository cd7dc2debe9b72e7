"""Shared helpers of the cdk test suite: connector copies in tmp_path, the demo API, running `cdk`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdk.testing.demo_api import DemoAPI

DEMO_SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_source"


def copy_connector(dest: Path, replace: dict[str, tuple[str, str]] | None = None) -> Path:
    """A copy of tests/fixtures/demo_source with text edits: {relative file: (old, new)}."""
    shutil.copytree(DEMO_SOURCE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for rel, (old, new) in (replace or {}).items():
        path = dest / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new))
    return dest


def write_json(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def run_cdk(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`cdk` as a real subprocess (plain output, no colour)."""
    # hypothesis and xdist (our dev dependencies, not a connector's) cost ~1 s of plugin import per run
    env = {**os.environ, "NO_COLOR": "1", "PYTEST_ADDOPTS": "-p no:hypothesispytest -p no:xdist"}
    env.pop("CDK_VIRTUAL_TIME", None)
    return subprocess.run(
        [sys.executable, "-m", "cdk", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def demo_api() -> Iterator[DemoAPI]:
    api = DemoAPI(25).start()
    try:
        yield api
    finally:
        api.stop()
