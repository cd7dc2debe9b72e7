"""A guide-style check_connection (issue 13 item 5): the session's typed errors escaping it are a
failed check with the error's message, in `cdk check` and in the standard tests alike."""

from __future__ import annotations

import json
from pathlib import Path

from cdk.testing.demo_api import DemoAPI
from tests.testing.conftest import copy_connector, run_cdk, write_json

TOKEN = "tok_guide_style_123"
GUIDE_CHECK = """    def check_connection(self) -> tuple[bool, str | None]:
        response = self.session.get(f"{self.config.api_url}/health")
        return response.ok, None
"""


def guide_connector(dest: Path) -> Path:
    conn = copy_connector(dest)
    src = conn / "demo_source" / "source.py"
    text = src.read_text()
    start = text.index("    def check_connection")
    end = text.index("    def get_total_records_count")
    src.write_text(text[:start] + GUIDE_CHECK + "\n" + text[end:])
    return conn


def test_guide_style_check_passes_the_401_test_and_cdk_check_says_why(tmp_path: Path) -> None:
    conn = guide_connector(tmp_path / "conn")
    with DemoAPI(25, api_key=TOKEN) as api:
        auth = {"type": "bearer", "params": {"token": TOKEN}}
        write_json(
            conn / "secrets" / "config.json", {"api_url": api.url, "page_size": 10, "authentication": auth}
        )
        rec = run_cdk("test", "--record", cwd=conn)
        assert rec.returncode == 0, rec.stdout + rec.stderr

        bad = write_json(
            tmp_path / "bad.json",
            {"api_url": api.url, "authentication": {"type": "bearer", "params": {"token": "wrong-token"}}},
        )
        check = run_cdk("check", "--config", str(bad), cwd=conn)
        assert check.returncode == 1, check.stdout + check.stderr
        assert "Connection failed: authentication failed" in check.stderr
        assert "401" in check.stderr and "Traceback" not in check.stderr
        as_json = run_cdk("check", "--config", str(bad), "--format", "json", cwd=conn)
        assert json.loads(as_json.stdout)["success"] is False

    rep = run_cdk("test", "--", "-v", cwd=conn)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "connector.yaml::errors[401-check] PASSED" in rep.stdout


def test_a_bug_in_check_connection_still_fails_the_standard_test(tmp_path: Path) -> None:
    """Only the SDK's typed errors are a failed check; a KeyError is the connector's bug."""
    conn = guide_connector(tmp_path / "conn")
    src = conn / "demo_source" / "source.py"
    src.write_text(
        src.read_text().replace(
            "        return response.ok, None\n", "        return response.json()['nope'], None\n"
        )
    )
    with DemoAPI(25) as api:
        write_json(conn / "secrets" / "config.json", {"api_url": api.url, "page_size": 10})
        rec = run_cdk("test", "--record", "-k", "check", cwd=conn)
    assert rec.returncode == 1, rec.stdout + rec.stderr
    assert "KeyError" in rec.stdout
