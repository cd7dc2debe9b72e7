"""Recording against APIs that behave like real ones (issue 13): outages, kills, random 429s.

Every test here records with `cdk test --record` in a real subprocess against a real HTTP server on
127.0.0.1 (the demo API), then replays with that server stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cdk.testing.demo_api import DemoAPI
from tests.testing.conftest import copy_connector, run_cdk, write_json


def tree_hash(root: Path) -> str:
    """Names and bytes of every file below ``root`` (pytest's bytecode caches aside)."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def recorded_connector(tmp_path: Path, api: DemoAPI) -> Path:
    """demo_source with a real config (outside tests/) and a first good recording."""
    conn = copy_connector(tmp_path / "conn")
    write_json(conn / "secrets" / "config.json", {"api_url": api.url, "page_size": 10})
    rec = run_cdk("test", "--record", cwd=conn)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    return conn


def test_record_with_the_api_down_exits_3_fast_and_leaves_tests_untouched(tmp_path: Path) -> None:
    with DemoAPI(25) as api:
        conn = recorded_connector(tmp_path, api)
    before = tree_hash(conn / "tests")
    assert json.loads((conn / "tests" / "cassettes" / "check.json").read_text())["interactions"]

    started = time.monotonic()
    rec = run_cdk("test", "--record", cwd=conn)  # the API is stopped: connection refused
    elapsed = time.monotonic() - started

    assert rec.returncode == 3, rec.stdout + rec.stderr
    assert elapsed < 10, f"took {elapsed:.1f} s (a retry storm?)"
    assert "cannot reach the API at http://127.0.0.1:" in rec.stderr
    assert "Connection refused" in rec.stderr
    assert "existing cassette" in rec.stderr  # says nothing was lost, and what to do
    assert tree_hash(conn / "tests") == before
    # one failure, then the run stopped: not one failure per test
    assert rec.stdout.count(" FAILED") + rec.stdout.count("FAILED ") <= 2, rec.stdout
    assert "stopping after" in rec.stdout or "Interrupted" in rec.stdout, rec.stdout


def test_a_test_that_fails_while_recording_keeps_its_old_cassette(tmp_path: Path) -> None:
    """check_connection returns (False, ...) without raising: the old behaviour saved its empty cassette."""
    with DemoAPI(25) as api:
        conn = recorded_connector(tmp_path, api)
        old = (conn / "tests" / "cassettes" / "check.json").read_bytes()
        api.script(
            "/health",
            {"status": 503},
            {"status": 503},
            {"status": 503},
            {"status": 503},
            {"status": 503},
            {"status": 503},
        )
        rec = run_cdk("test", "--record", "-k", "check", cwd=conn)
    assert rec.returncode == 1, rec.stdout + rec.stderr
    assert (conn / "tests" / "cassettes" / "check.json").read_bytes() == old


def _rewritten(folder: Path, before: dict[Path, int]) -> int:
    """How many cassettes in ``folder`` were written since ``before`` (name -> mtime) was taken."""
    now = {p: p.stat().st_mtime_ns for p in folder.glob("*.json")}
    return sum(1 for p, t in now.items() if before.get(p) != t)


def test_sigkill_mid_recording_never_leaves_a_half_written_or_empty_cassette(tmp_path: Path) -> None:
    with DemoAPI(200) as api:
        conn = recorded_connector(tmp_path, api)
        cassettes = conn / "tests" / "cassettes"
        env = {**os.environ, "NO_COLOR": "1", "PYTEST_ADDOPTS": "-p no:hypothesispytest"}
        kills = 0
        for n in range(10):
            before = {p: p.stat().st_mtime_ns for p in cassettes.glob("*.json")}
            proc = subprocess.Popen(
                [sys.executable, "-m", "cdk", "test", "--record"],
                cwd=conn,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            # kill 0 and 1 during start-up, the others right after the k-th cassette of this run was
            # written (k = 1..4 of 5): mid-recording, whatever the speed of the machine
            after = n % 4 + 1
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if (n < 2 and time.monotonic() > deadline - 119.5) or (
                    n >= 2 and _rewritten(cassettes, before) >= after
                ):
                    break
                time.sleep(0.005)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # cdk and the pytest it runs
                kills += 1
            proc.wait()
            for path in cassettes.glob("*.json"):
                doc = json.loads(path.read_bytes())  # never half-written
                assert doc["interactions"], f"{path.name} emptied by kill {n}"
        assert kills >= 8, f"only {kills} of 10 runs were killed before they finished; the test proves little"
        rec = run_cdk("test", "--record", cwd=conn)  # the next recording sweeps temp files of killed ones
        assert rec.returncode == 0, rec.stdout + rec.stderr
        assert not list(cassettes.glob(".*.tmp"))
    rep = run_cdk("test", cwd=conn)  # API stopped: what is on disk replays
    assert rep.returncode == 0, rep.stdout + rep.stderr


def test_random_429s_while_recording_never_break_the_replay(tmp_path: Path) -> None:
    """20% of requests answer 429 + Retry-After: 1 (seeded): record 10 times, each replay passes offline."""
    conn = copy_connector(tmp_path / "conn")
    throttled = 0
    port = 0  # the API keeps its URL from one recording to the next, as a real one does
    for run in range(10):
        api = DemoAPI(25, flaky=0.2, seed=run, port=port).start()
        port = int(api.url.rsplit(":", 1)[1])
        try:
            write_json(conn / "secrets" / "config.json", {"api_url": api.url, "page_size": 10})
            rec = run_cdk("test", "--record", cwd=conn)
            throttled += api.throttled
        finally:
            api.stop()
        assert rec.returncode == 0, f"record {run}:\n{rec.stdout}{rec.stderr}"
        rep = run_cdk("test", cwd=conn)
        assert rep.returncode == 0, f"replay after record {run}:\n{rep.stdout}{rep.stderr}"
        for path in (conn / "tests" / "cassettes").glob("*.json"):
            statuses = [i["response"]["status"] for i in json.loads(path.read_text())["interactions"]]
            assert 429 not in statuses, f"{path.name} kept a retried 429: {statuses}"
    assert throttled >= 10, f"only {throttled} 429s were served; the test proves nothing"


def test_a_retried_failure_is_not_kept_but_an_unretried_one_is(tmp_path: Path) -> None:
    from cdk.testing.cassettes import Cassette, read_cassette

    def inter(uri: str, status: int) -> dict:
        return {
            "request": {"method": "GET", "uri": uri, "headers": {}, "body": None},
            "response": {"status": status, "reason": "", "headers": {}, "body": None},
        }

    cas = Cassette(tmp_path / "c.json", mode="record")
    cas.now = 1_700_000_000.0
    cas.interactions = [
        inter("http://api/a", 429),  # retried: dropped
        inter("http://api/a", 503),  # retried again: dropped
        inter("http://api/a", 200),
        inter("http://api/b", 500),  # never retried: what the test saw, kept
        inter("http://api/a", 200),  # the same request again later, kept
    ]
    cas.save()
    interactions, now = read_cassette(cas.path)
    assert [(i["request"]["uri"], i["response"]["status"]) for i in interactions] == [
        ("http://api/a", 200),
        ("http://api/b", 500),
        ("http://api/a", 200),
    ]
    assert now == 1_700_000_000.0


def test_first_record_writes_the_sample_config_with_placeholders_for_secrets(tmp_path: Path) -> None:
    token = "tok_Sup3r+Secret/Value=42"
    with DemoAPI(25, api_key=token) as api:
        conn = copy_connector(tmp_path / "conn")
        real = {
            "api_url": api.url,
            "page_size": 10,
            "authentication": {"type": "bearer", "params": {"token": token}},
        }
        write_json(conn / "secrets" / "config.json", real)
        assert not (conn / "tests" / "sample_config.json").exists()
        rec = run_cdk("test", "--record", cwd=conn)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    assert "wrote tests/sample_config.json" in rec.stdout
    sample = json.loads((conn / "tests" / "sample_config.json").read_text())
    assert sample == {**real, "authentication": {"type": "bearer", "params": {"token": "REPLACE_ME"}}}
    rep = run_cdk("test", cwd=conn)  # API stopped, no secret anywhere: replay passes
    assert rep.returncode == 0, rep.stdout + rep.stderr


def test_record_without_a_real_config_is_one_usage_error_before_any_test(tmp_path: Path) -> None:
    conn = copy_connector(tmp_path / "conn")
    rec = run_cdk("test", "--record", cwd=conn)
    assert rec.returncode == 2, rec.stdout + rec.stderr
    assert "recording needs the real config" in rec.stderr
    assert "secrets/config.json" in rec.stderr
    assert "passed" not in rec.stdout and "failed" not in rec.stdout  # no test ran
    assert rec.stderr.count("recording needs") == 1
