"""Virtual time is set in-process by the `cdk test` plugin on replay, and only there (issue 14 item 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURES, run_cdk

CLOCK_TEST = """
from cdk.sdk.http import ConnectorSession, VirtualClock


def test_sessions_wait_virtually_in_replay():
    assert isinstance(ConnectorSession().clock, VirtualClock)
"""


def test_replay_sets_a_virtual_default_clock_in_the_test_process(tmp_path: Path) -> None:
    conn = tmp_path / "demo_source"
    shutil.copytree(FIXTURES / "demo_source", conn, ignore=shutil.ignore_patterns("__pycache__"))
    (conn / "tests").mkdir(exist_ok=True)
    (conn / "tests" / "test_clock.py").write_text(CLOCK_TEST)
    result = run_cdk("test", "--", "-k", "sessions_wait_virtually", "-v", cwd=conn)
    out = result.stdout.decode() + result.stderr.decode()
    assert "test_sessions_wait_virtually_in_replay PASSED" in out, out
