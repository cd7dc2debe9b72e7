"""Broken connectors fail the matching standard test, and the message names the page and the record."""

from __future__ import annotations

import json
from pathlib import Path

from cdk.testing.demo_api import DemoAPI
from tests.testing.conftest import copy_connector, run_cdk, write_json


def record_read_users(conn: Path, api: DemoAPI) -> tuple[int, str]:
    real = write_json(conn.parent / "real.json", {"api_url": api.url, "page_size": 10})
    out = run_cdk(
        "test", "--record", "--config", str(real), "--stream", "users", "-k", "read and not errors", cwd=conn
    )
    return out.returncode, out.stdout + out.stderr


def test_endless_pagination_fails_naming_the_pages(tmp_path: Path, demo_api: DemoAPI) -> None:
    conn = copy_connector(
        tmp_path / "endless",
        {
            "demo_source/source.py": (
                "nxt = pager.next(pagination, response, items)",
                'nxt = {"offset": int((pagination or {}).get("offset", 0)) + self.config.page_size}',
            )
        },
    )
    code, out = record_read_users(conn, demo_api)
    assert code == 1, out
    assert "connector.yaml::read[users]" in out
    # 25 records in pages of 10: pages 4, 5 and 6 are empty and each still asks for more
    assert "pagination does not terminate" in out and "pages 4..6 returned no records" in out, out
    assert not (conn / "tests" / "cassettes" / "read-users.json").exists()  # only passing tests are recorded


def test_records_breaking_their_schema_fail_naming_the_record(tmp_path: Path, demo_api: DemoAPI) -> None:
    conn = copy_connector(tmp_path / "badschema")
    schema_path = conn / "schemas" / "users.json"
    schema = json.loads(schema_path.read_text())
    schema["properties"]["name"] = {"type": "integer"}
    write_json(schema_path, schema)
    code, out = record_read_users(conn, demo_api)
    assert code == 1, out
    assert "page 1, record #1 (id='1'): schema: 'user 000001' is not of type 'integer' (at name)" in out, out
    assert "page 3, record #5 (id='25')" in out or "problem(s) in 25 records over 3 page(s)" in out
    assert not (conn / "tests" / "cassettes" / "read-users.json").exists()


def test_repeated_primary_keys_fail_naming_both_records(tmp_path: Path, demo_api: DemoAPI) -> None:
    conn = copy_connector(
        tmp_path / "dupes",
        {
            "demo_source/source.py": (
                'records = [SourceRecord(id=str(item["id"]), data=item) for item in items]',
                'records = [SourceRecord(id=str(item["id"]), data={**item, "id": (item["id"] - 1) % 12 + 1}) for item in items]',
            )
        },
    )
    code, out = record_read_users(conn, demo_api)
    assert code == 1, out
    # record 13 (page 2, #3) gets id 1 again
    assert "page 2, record #3 (id='13'): primary key (id=1) repeats page 1, record #1 (id='1')" in out, out


def test_good_connector_passes_the_same_read(tmp_path: Path, demo_api: DemoAPI) -> None:
    conn = copy_connector(tmp_path / "good")
    code, out = record_read_users(conn, demo_api)
    assert code == 0, out
    assert (conn / "tests" / "cassettes" / "read-users.json").exists()


def test_error_path_tests_fail_for_a_connector_that_bypasses_the_session(
    tmp_path: Path, demo_api: DemoAPI
) -> None:
    """requests.get instead of self.session: no retries, no typed errors — the error-path tests say so."""
    conn = copy_connector(
        tmp_path / "raw",
        {
            "demo_source/source.py": (
                "response = self.session.get(url, params=params)",
                "import requests\n        response = requests.get(url, params=params, timeout=10)",
            )
        },
    )
    real = write_json(conn.parent / "real.json", {"api_url": demo_api.url, "page_size": 10})
    out = run_cdk("test", "--record", "--config", str(real), "--stream", "users", "--", "-v", cwd=conn)
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "connector.yaml::read[users] PASSED" in text
    assert "connector.yaml::errors[401-check] PASSED" in text  # check_connection still uses the session
    for case in ("401-read", "429-retry-after", "500-once", "500-repeated"):
        assert f"connector.yaml::errors[{case}] FAILED" in text, case
    assert "expected AuthenticationError" in text
    assert "failed instead of retrying" in text
