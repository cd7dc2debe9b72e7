"""`cdk test` modes: --record=missing, --record afresh, replay misses, record_mode refused, own tests' fixtures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cdk.testing.demo_api import DemoAPI
from tests.testing.conftest import copy_connector, run_cdk, write_json

NET_TEST = """
import socket

import pytest


def test_no_cassette_no_internet():
    with pytest.raises(Exception, match="network access is blocked during replay .*request the `cassette` fixture"):
        socket.create_connection(("192.0.2.1", 443), timeout=5)
"""

OWN_TEST = """
def test_total_count(connector, cassette, config):
    assert config["page_size"] == 10
    assert connector.get_total_records_count() == 25
    assert cassette.path.name == "test_own-test_total_count.json"
"""


@pytest.fixture
def recorded(tmp_path: Path, demo_api: DemoAPI) -> tuple[Path, DemoAPI, Path]:
    conn = copy_connector(tmp_path / "conn")
    (conn / "tests").mkdir()
    (conn / "tests" / "test_own.py").write_text(OWN_TEST)
    config = {"api_url": demo_api.url, "page_size": 10}
    write_json(conn / "secrets" / "config.json", config)
    write_json(conn / "tests" / "sample_config.json", config)
    out = run_cdk("test", "--record", cwd=conn)
    assert out.returncode == 0, out.stdout + out.stderr
    return conn, demo_api, conn / "tests" / "cassettes"


def test_own_tests_get_fixtures_and_a_cassette_and_replay(recorded: tuple[Path, DemoAPI, Path]) -> None:
    conn, api, cassettes = recorded
    assert (cassettes / "test_own-test_total_count.json").exists()
    api.stop()
    (conn / "tests" / "test_net.py").write_text(NET_TEST)
    out = run_cdk("test", "--junit-xml", str(conn.parent / "report.xml"), "--", "-v", cwd=conn)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "tests/test_own.py::test_total_count PASSED" in out.stdout
    assert "tests/test_net.py::test_no_cassette_no_internet PASSED" in out.stdout
    assert "connector.yaml::read[orders] PASSED" in out.stdout
    report = (conn.parent / "report.xml").read_text()
    assert 'name="read[orders]"' in report and 'name="test_total_count"' in report
    assert 'failures="0"' in report


def test_unknown_stream_is_a_usage_error(recorded: tuple[Path, DemoAPI, Path]) -> None:
    conn, _api, _ = recorded
    out = run_cdk("test", "--stream", "userz", cwd=conn)
    assert out.returncode == 2
    assert "no stream 'userz' in connector.yaml; streams: users, orders" in out.stderr


def test_record_missing_records_only_missing_cassettes(recorded: tuple[Path, DemoAPI, Path]) -> None:
    conn, api, cassettes = recorded
    kept = (cassettes / "read-users.json").read_bytes()
    (cassettes / "read-orders.json").unlink()
    before = len(api.requests)
    out = run_cdk("test", "--record=missing", cwd=conn)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (cassettes / "read-orders.json").exists()
    assert (cassettes / "read-users.json").read_bytes() == kept
    live = [r["path"] for r in api.requests[before:]]
    assert live and set(live) == {"/orders"}, live  # nothing else went live


def test_record_replaces_old_interactions(recorded: tuple[Path, DemoAPI, Path]) -> None:
    conn, _api, cassettes = recorded
    path = cassettes / "check.json"
    doc = json.loads(path.read_text())
    fresh = len(doc["interactions"])
    doc["interactions"].append(
        {**doc["interactions"][0], "response": {**doc["interactions"][0]["response"], "status": 418}}
    )
    path.write_text(json.dumps(doc))
    out = run_cdk("test", "--record", "-k", "check and not errors", cwd=conn)
    assert out.returncode == 0, out.stdout + out.stderr
    assert len(json.loads(path.read_text())["interactions"]) == fresh


def test_replay_of_an_unrecorded_request_fails_with_the_request_and_the_hint(
    recorded: tuple[Path, DemoAPI, Path],
) -> None:
    conn, api, _ = recorded
    api.stop()
    write_json(conn / "tests" / "sample_config.json", {"api_url": api_url(conn), "page_size": 7})
    out = run_cdk("test", "-k", "read and users and not errors", cwd=conn)
    assert out.returncode == 1
    assert "unrecorded request GET http://127.0.0.1:" in out.stdout
    assert "/users?limit=7&offset=0" in out.stdout
    assert "run `cdk test --record`" in out.stdout


def api_url(conn: Path) -> str:
    return json.loads((conn / "secrets" / "config.json").read_text())["api_url"]


@pytest.mark.parametrize("how", ["mark", "fixture"])
def test_a_connector_cannot_set_record_mode(tmp_path: Path, how: str) -> None:
    conn = copy_connector(tmp_path / "conn")
    (conn / "tests").mkdir()
    write_json(conn / "tests" / "sample_config.json", {"api_url": "http://127.0.0.1:9", "page_size": 10})
    if how == "mark":
        (conn / "tests" / "test_vcr.py").write_text(
            "import pytest\n\n@pytest.mark.vcr(record_mode='all')\ndef test_x():\n    pass\n"
        )
    else:
        (conn / "tests" / "conftest.py").write_text(
            "import pytest\n\n@pytest.fixture\ndef vcr_config():\n    return {'record_mode': 'once'}\n"
        )
    out = run_cdk("test", cwd=conn)
    assert out.returncode == 2, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "record_mode is set by the connector" in text
    assert ("record_mode='all'" if how == "mark" else "record_mode='once'") in text


def test_plugin_is_inert_outside_a_connector_folder(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "test_plain.py").write_text(
        "def test_uses_config(config):\n    pass\n\ndef test_ok():\n    pass\n"
    )
    (tmp_path / "connector.yaml.txt").write_text("not a manifest")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # our `config` fixture does not exist here, and no standard tests were added
    assert "fixture 'config' not found" in out.stdout, out.stdout
    assert "1 passed, 1 error" in out.stdout
    assert "connector.yaml::" not in out.stdout


def test_secret_scan_after_recording_fails_the_run(tmp_path: Path) -> None:
    token = "tok-planted-Secret-123"
    conn = copy_connector(tmp_path / "conn")
    (conn / "tests").mkdir()
    # a developer pasted the real token into a test data file: redaction of cassettes cannot help
    (conn / "tests" / "notes.txt").write_text(f"remember: token {token}\n")
    with DemoAPI(25, api_key=token) as api:
        real = write_json(
            tmp_path / "real.json",
            {
                "api_url": api.url,
                "page_size": 10,
                "authentication": {"type": "bearer", "params": {"token": token}},
            },
        )
        schema_path = conn / "schemas" / "config.json"
        schema = json.loads(schema_path.read_text())
        schema["properties"]["authentication"] = {"type": "object"}
        write_json(schema_path, schema)
        out = run_cdk("test", "--record", "--config", str(real), "-k", "check and not errors", cwd=conn)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "secret scan after recording FAILED" in out.stdout
    assert "tests/notes.txt" in out.stdout
    assert token not in out.stdout + out.stderr  # the report masks it
    assert not (conn / "tests" / "cassettes" / "check.json").exists()  # this run's cassettes are removed


def test_invalid_manifest_is_a_usage_error_without_traceback(tmp_path: Path) -> None:
    conn = copy_connector(tmp_path / "conn")
    (conn / "connector.yaml").write_text(
        (conn / "connector.yaml").read_text().replace("kind: source", "kind: sauce")
    )
    out = run_cdk("test", cwd=conn)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "connector.yaml:" in out.stdout + out.stderr and "Traceback" not in out.stdout + out.stderr


def test_destination_gets_its_check_recorded_and_replayed(tmp_path: Path) -> None:
    import shutil

    conn = tmp_path / "dest"
    shutil.copytree(
        Path(__file__).resolve().parents[1] / "fixtures" / "demo_destination",
        conn,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    with DemoAPI(5) as api:
        config = {"api_url": api.url, "name": "d"}
        write_json(conn / "secrets" / "config.json", config)
        write_json(conn / "tests" / "sample_config.json", config)
        rec = run_cdk("test", "--record", "--", "-v", cwd=conn)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    assert "connector.yaml::check PASSED" in rec.stdout and "read[" not in rec.stdout
    rep = run_cdk("test", cwd=conn)
    assert rep.returncode == 0, rep.stdout + rep.stderr


def test_streaming_source_reads_a_bounded_sample_and_checks_keys(tmp_path: Path) -> None:
    import shutil

    conn = tmp_path / "ticker"
    shutil.copytree(
        Path(__file__).resolve().parents[1] / "fixtures" / "ticker_stream",
        conn,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    write_json(conn / "secrets" / "config.json", {"total": 250})
    write_json(conn / "tests" / "sample_config.json", {"total": 250})
    ok = run_cdk("test", "--record", "--", "-v", cwd=conn)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "connector.yaml::read[ticks] PASSED" in ok.stdout
    src = conn / "ticker_stream" / "source.py"
    src.write_text(src.read_text().replace('data={"n": n}', 'data={"n": n % 120}'))
    bad = run_cdk("test", cwd=conn)
    assert bad.returncode == 1
    assert "page 2, record #21 (id='120'): primary key (n=0) repeats page 1, record #1 (id='0')" in bad.stdout


def test_replay_without_a_cassette_says_how_to_record_it(recorded: tuple[Path, DemoAPI, Path]) -> None:
    conn, api, cassettes = recorded
    api.stop()
    (cassettes / "read-users.json").unlink()
    out = run_cdk("test", "--", "-k", "users or errors", cwd=conn)
    assert out.returncode == 1
    assert "no cassette tests/cassettes/read-users.json for this test; run `cdk test --record`" in out.stdout
    # the error-path tests replay the same recording and say so
    assert "error-path tests replay the recording of read[users]" in out.stdout


def test_declarative_connector_records_and_replays(tmp_path: Path) -> None:
    """A connector with no Python (declarative:) gets the same standard and error-path tests."""
    import shutil

    conn = tmp_path / "decl"
    shutil.copytree(
        Path(__file__).resolve().parents[1] / "declarative" / "example_connector",
        conn,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    with DemoAPI(120) as api:
        port = int(api.url.rsplit(":", 1)[1])
        write_json(conn / "secrets" / "config.json", {"port": port})
        write_json(conn / "tests" / "sample_config.json", {"port": port})
        rec = run_cdk("test", "--record", cwd=conn)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    rep = run_cdk("test", "--", "-v", cwd=conn)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "connector.yaml::read[users] PASSED" in rep.stdout
    assert "connector.yaml::incremental[orders] PASSED" in rep.stdout
    assert "connector.yaml::errors[429-retry-after] PASSED" in rep.stdout
