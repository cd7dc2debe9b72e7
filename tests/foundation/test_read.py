"""`cdk read/check/spec/discover/write` as real subprocesses against the demo API."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from tests.conftest import jsonl, run_cdk

STYLES = ["offset", "page", "cursor", "next_url", "link"]


@pytest.fixture
def source(connector_copy):
    return connector_copy("demo_source")


@pytest.mark.parametrize("style", STYLES)
def test_each_pagination_style_reads_exactly_n_records(demo_api, source, write_config, style):
    demo_api.counts["users"] = 237
    cfg = write_config({"api_url": demo_api.url, "page_size": 50, "pagination": style})
    result = run_cdk("read", "-s", "users", "--config", str(cfg), "--stream", "users", cwd=source)
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert [r["data"]["id"] for r in rows] == list(range(1, 238))
    assert {r["stream"] for r in rows} == {"users"}
    assert b"237 records in 5 pages" in result.stderr
    assert demo_api.count("/users") == 5


def run_cdk_virtual_time(*args: str, cwd, monkeypatch) -> tuple[int, bytes, str]:
    """`cdk ARGS` in this process on a virtual clock, as `cdk test` replay runs connectors: the exit code,
    stdout bytes and stderr text. (A real subprocess always really waits: no variable turns that off.)"""
    import contextlib
    import io

    from cdk.cli.main import main
    from cdk.sdk.http import VirtualClock, set_default_clock

    monkeypatch.chdir(cwd)
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    previous = set_default_clock(VirtualClock())
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
            stdout.flush()
    finally:
        set_default_clock(previous)
    return code, out.getvalue(), err.getvalue()


def test_429_retry_after_is_honoured_without_sleeping(demo_api, source, write_config, monkeypatch, caplog):
    demo_api.script("/users", {"status": 429, "headers": {"Retry-After": "40"}})
    cfg = write_config({"api_url": demo_api.url})
    started = time.monotonic()
    code, out, _err = run_cdk_virtual_time(
        "read", "-s", "users", "--config", str(cfg), cwd=source, monkeypatch=monkeypatch
    )
    assert code == 0, caplog.text
    assert time.monotonic() - started < 20  # a real 40 s wait did not happen
    assert len(jsonl(out)) == 100
    assert "429 from" in caplog.text and "retrying in 40.0 s" in caplog.text


def test_virtual_time_variable_does_not_skip_waits_in_production(demo_api, source, write_config):
    """CDK_VIRTUAL_TIME used to switch every backoff off; a production run must really wait."""
    demo_api.script("/users", {"status": 503, "headers": {"Retry-After": "2"}})
    cfg = write_config({"api_url": demo_api.url})
    started = time.monotonic()
    result = run_cdk("read", "-s", "users", "--config", str(cfg), cwd=source, env={"CDK_VIRTUAL_TIME": "1"})
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 2.0
    assert len(jsonl(result.stdout)) == 100


def test_500_twice_then_success(demo_api, source, write_config, monkeypatch):
    demo_api.script("/users", {"status": 500}, {"status": 502})
    cfg = str(write_config({"api_url": demo_api.url}))
    code, out, _ = run_cdk_virtual_time(
        "read", "-s", "users", "--config", cfg, cwd=source, monkeypatch=monkeypatch
    )
    assert code == 0 and len(jsonl(out)) == 100


def test_endless_500_fails_with_exit_3_and_clear_message(demo_api, source, write_config, monkeypatch):
    demo_api.script("/users", *[{"status": 500}] * 20)
    cfg = str(write_config({"api_url": demo_api.url}))
    code, _, err = run_cdk_virtual_time(
        "read", "-s", "users", "--config", cfg, cwd=source, monkeypatch=monkeypatch
    )
    assert code == 3
    assert "answered 500" in err and "gave up after 5 retries" in err and "Traceback" not in err


def test_host_outside_allowed_hosts_is_refused(source, write_config):
    result = run_cdk(
        "read", "-s", "users", "--config", str(write_config({"api_url": "http://example.com"})), cwd=source
    )
    assert result.returncode == 1
    assert b"host 'example.com' refused" in result.stderr


def test_crash_after_page_k_resumes_at_k_plus_1_without_duplicates(demo_api, source, write_config, tmp_path):
    state = tmp_path / "state.json"
    crash = write_config({"api_url": demo_api.url, "page_size": 10, "fail_on_page": 4}, "crash.json")
    first = run_cdk("read", "-s", "users", "--config", str(crash), "--state", str(state), cwd=source)
    assert first.returncode == 1 and b"simulated crash on page 4" in first.stderr
    assert b"Traceback" not in first.stderr
    got_first = [r["data"]["id"] for r in jsonl(first.stdout)]
    assert got_first == list(range(1, 31))  # pages 1-3
    saved = json.loads(state.read_text())["streams"]["users"]
    assert saved["status"] == "running" and saved["pagination"]["offset"] == 30
    ok = write_config({"api_url": demo_api.url, "page_size": 10}, "ok.json")
    second = run_cdk("read", "-s", "users", "--config", str(ok), "--state", str(state), cwd=source)
    assert second.returncode == 0, second.stderr
    got_second = [r["data"]["id"] for r in jsonl(second.stdout)]
    assert got_second == list(range(31, 101))
    assert b"resumed at" in second.stderr
    assert json.loads(state.read_text())["streams"]["users"]["status"] == "done"


def test_incremental_state_advances_and_second_run_reads_only_newer(demo_api, source, write_config, tmp_path):
    state = tmp_path / "state.json"
    cfg = write_config({"api_url": demo_api.url, "page_size": 30, "sync_mode": "incremental"})
    first = run_cdk("read", "-s", "users", "--config", str(cfg), "--state", str(state), cwd=source)
    assert first.returncode == 0, first.stderr
    assert len(jsonl(first.stdout)) == 100
    entry = json.loads(state.read_text())["streams"]["users"]
    assert entry["incremental"]["last_run"] == "2024-01-01T01:40:00Z"  # updated_at of record 100
    demo_api.counts["users"] = 130  # 30 newer records appear
    demo_api._cache.clear()
    second = run_cdk("read", "-s", "users", "--config", str(cfg), "--state", str(state), cwd=source)
    assert second.returncode == 0, second.stderr
    assert [r["data"]["id"] for r in jsonl(second.stdout)] == list(range(101, 131))
    assert "updated_since=2024-01-01T01%3A40%3A00Z" in demo_api.requests[-1]["query"]
    third = run_cdk("read", "-s", "users", "--config", str(cfg), "--state", str(state), cwd=source)
    assert jsonl(third.stdout) == []


def test_max_records_and_max_iterations(demo_api, source, write_config):
    cfg = write_config({"api_url": demo_api.url, "page_size": 10})
    assert (
        len(
            jsonl(
                run_cdk("read", "-s", "users", "--config", str(cfg), "--max-records", "15", cwd=source).stdout
            )
        )
        == 15
    )
    assert (
        len(
            jsonl(
                run_cdk(
                    "read", "-s", "users", "--config", str(cfg), "--max-iterations", "3", cwd=source
                ).stdout
            )
        )
        == 30
    )


def test_check_ok_and_failing(demo_api, source, write_config):
    ok = run_cdk("check", "--config", str(write_config({"api_url": demo_api.url})), cwd=source)
    assert ok.returncode == 0 and b"Connection successful" in ok.stdout
    demo_api.api_key = "needed"
    bad = run_cdk(
        "check", "--config", str(write_config({"api_url": demo_api.url})), "--format", "json", cwd=source
    )
    assert bad.returncode == 1
    answer = json.loads(bad.stdout)
    assert answer["success"] is False and "authentication failed" in answer["message"]


def test_env_references_in_config(demo_api, source, write_config):
    demo_api.api_key = "s3cret-token"
    cfg = write_config(
        {
            "api_url": demo_api.url,
            "authentication": {"type": "bearer", "params": {"token": "CDK_ENV_DEMO_TOKEN"}},
        }
    )
    missing = run_cdk("check", "--config", str(cfg), cwd=source)
    assert missing.returncode == 1 and b"environment variable DEMO_TOKEN" in missing.stderr
    ok = run_cdk("read", "-s", "users", "--config", str(cfg), cwd=source, env={"DEMO_TOKEN": "s3cret-token"})
    assert ok.returncode == 0 and len(jsonl(ok.stdout)) == 100
    assert b"s3cret-token" not in ok.stdout + ok.stderr
    assert b"CDK_ENV_NAME" in run_cdk("read", "--help").stdout


def test_401_on_read_is_authentication_error(demo_api, source, write_config):
    demo_api.api_key = "needed"
    result = run_cdk(
        "read", "-s", "users", "--config", str(write_config({"api_url": demo_api.url})), cwd=source
    )
    assert result.returncode == 1 and b"authentication failed" in result.stderr


def test_config_failing_schema_names_every_field(source, write_config):
    cfg = write_config({"api_url": 5, "page_size": "many", "colour": "red"})
    result = run_cdk("read", "-s", "users", "--config", str(cfg), cwd=source)
    assert result.returncode == 1
    err = result.stderr.decode()
    for field in ("api_url", "page_size", "colour: unknown field"):
        assert field in err


def test_non_json_body_is_a_clear_error(demo_api, source, write_config):
    demo_api.script("/users", {"status": 200, "body": "<html>maintenance</html>"})
    result = run_cdk(
        "read", "-s", "users", "--config", str(write_config({"api_url": demo_api.url})), cwd=source
    )
    assert result.returncode == 1
    assert b"not JSON" in result.stderr and b"Traceback" not in result.stderr


def test_debug_shows_traceback(source, write_config):
    result = run_cdk(
        "--debug",
        "read",
        "-s",
        "users",
        "--config",
        str(write_config({"api_url": "http://example.com"})),
        cwd=source,
    )
    assert result.returncode == 1 and b"Traceback" in result.stderr


def test_entrypoint_that_does_not_resolve(source, write_config):
    manifest = source / "connector.yaml"
    manifest.write_text(
        manifest.read_text().replace("demo_source.source:DemoSource", "demo_source.source:Nope")
    )
    result = run_cdk(
        "read", "-s", "users", "--config", str(write_config({"api_url": "http://127.0.0.1:1"})), cwd=source
    )
    assert result.returncode == 1
    assert b"connector.yaml:8:13: entrypoint 'demo_source.source:Nope' does not resolve" in result.stderr


def test_pagination_loop_stops_with_clear_error(source, demo_api, write_config):
    code = source / "demo_source" / "source.py"
    code.write_text(code.read_text().replace('nxt["_n"] = page_no + 1', 'nxt = {"offset": 0}'))
    result = run_cdk(
        "read",
        "--config",
        str(write_config({"api_url": demo_api.url, "page_size": 10})),
        cwd=source,
        timeout=30,
    )
    assert result.returncode == 1
    assert b"already used" in result.stderr and b"loop forever" in result.stderr


def test_spec_and_discover(source):
    spec = json.loads(run_cdk("spec", cwd=source).stdout)
    assert spec["required"] == ["api_url"]
    found = json.loads(run_cdk("discover", cwd=source).stdout)
    assert [s["name"] for s in found["streams"]] == ["users", "orders"]
    assert found["streams"][0]["schema"]["properties"]["id"] == {"type": "integer"}


def test_destination_write_from_read_output(demo_api, connector_copy, write_config):
    source = connector_copy("demo_source")
    dest = connector_copy("demo_destination")
    cfg = write_config({"api_url": demo_api.url})
    records = run_cdk("read", "-s", "users", "--config", str(cfg), cwd=source).stdout
    result = run_cdk(
        "write",
        "--config",
        str(cfg),
        "--stream",
        "users",
        "--batch-size",
        "40",
        "--format",
        "json",
        cwd=dest,
        input=records,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "stream": "users",
        "written": 100,
        "failed": 0,
        "batches": 3,
        "errors": [],
    }
    assert [r["id"] for r in demo_api.ingested["users"]] == list(range(1, 101))


def test_seed_000_contract_is_adapted(connector_copy, write_config, tmp_path):
    simple = connector_copy("simple_source")
    cfg = write_config({})
    assert run_cdk("check", "--config", str(cfg), cwd=simple).returncode == 0
    rows = jsonl(run_cdk("read", "--config", str(cfg), cwd=simple).stdout)
    assert [r["data"]["id"] for r in rows] == list(range(2500))


def test_streaming_source_checkpoints_and_resumes(connector_copy, write_config, tmp_path):
    ticker = connector_copy("ticker_stream")
    state = tmp_path / "state.json"
    cfg = write_config({"total": 25})
    first = run_cdk("read", "--config", str(cfg), "--state", str(state), "--max-records", "10", cwd=ticker)
    assert [r["data"]["n"] for r in jsonl(first.stdout)] == list(range(10))
    second = run_cdk("read", "--config", str(cfg), "--state", str(state), cwd=ticker)
    assert [r["data"]["n"] for r in jsonl(second.stdout)] == list(range(10, 25))


def test_discover_lists_declarative_streams_without_a_streams_section(tmp_path):
    import shutil

    from tests.conftest import FIXTURES

    folder = tmp_path / "decl"
    shutil.copytree(FIXTURES.parent / "declarative" / "example_connector", folder)
    manifest = folder / "connector.yaml"
    text = manifest.read_text()
    start, end = text.index("streams:\n  - name: users"), text.index("allowed_hosts:")
    manifest.write_text(text[:start] + text[end:])
    found = json.loads(run_cdk("discover", cwd=folder).stdout)
    assert [s["name"] for s in found["streams"]] == ["users", "orders"]
    assert found["streams"][0]["schema"]["type"] == "object"
    assert "port" in json.loads(run_cdk("spec", cwd=folder).stdout)["properties"]


def test_read_without_a_stream_reads_every_stream_unless_the_config_names_one(demo_api, source, write_config):
    """Issue 14: `--all-streams` is the default when neither -s nor the config's stream: names one."""
    demo_api.counts["users"] = 30
    demo_api.counts["orders"] = 20
    every = run_cdk("read", "--config", str(write_config({"api_url": demo_api.url})), cwd=source)
    assert every.returncode == 0, every.stderr
    assert Counter(r["stream"] for r in jsonl(every.stdout)) == {"users": 30, "orders": 20}
    named = write_config({"api_url": demo_api.url, "stream": "orders"}, name="named.json")
    one = run_cdk("read", "--config", str(named), cwd=source)
    assert one.returncode == 0, one.stderr
    assert Counter(r["stream"] for r in jsonl(one.stdout)) == {"orders": 20}
    flag = run_cdk("read", "-s", "users", "--config", str(named), cwd=source)
    assert Counter(r["stream"] for r in jsonl(flag.stdout)) == {"users": 30}
