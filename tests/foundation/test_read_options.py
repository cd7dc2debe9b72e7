"""`cdk read`: several streams in one run, the config's stream:, --state on a full-refresh read (issue 14 item 7)."""

from __future__ import annotations

from tests.conftest import jsonl, run_cdk


def test_repeated_stream_flags_read_each_stream(demo_api, connector_copy, write_config):
    demo_api.counts.update(users=30, orders=12)
    folder = connector_copy("demo_source")
    cfg = str(write_config({"api_url": demo_api.url}))
    result = run_cdk("read", "--config", cfg, "-s", "orders", "-s", "users", cwd=folder)
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert [r["stream"] for r in rows] == ["orders"] * 12 + ["users"] * 30
    assert b"orders: 12 records" in result.stderr and b"users: 30 records" in result.stderr


def test_all_streams(demo_api, connector_copy, write_config):
    demo_api.counts.update(users=5, orders=7)
    folder = connector_copy("demo_source")
    result = run_cdk(
        "read", "--config", str(write_config({"api_url": demo_api.url})), "--all-streams", cwd=folder
    )
    assert result.returncode == 0, result.stderr
    assert sorted({r["stream"] for r in jsonl(result.stdout)}) == ["orders", "users"]
    assert len(jsonl(result.stdout)) == 12
    both = run_cdk("read", "--config", "x.json", "--all-streams", "-s", "users", cwd=folder)
    assert both.returncode == 2 and b"not both" in both.stderr


def test_state_on_full_refresh_read_warns(demo_api, connector_copy, write_config, tmp_path):
    folder = connector_copy("demo_source")
    cfg = str(write_config({"api_url": demo_api.url}))
    result = run_cdk("read", "--config", cfg, "-s", "users", "--state", str(tmp_path / "s.json"), cwd=folder)
    assert result.returncode == 0
    assert b"full-refresh read: --state only resumes it" in result.stderr
    inc = run_cdk(
        "read",
        "--config",
        cfg,
        "-s",
        "users",
        "--incremental",
        "--state",
        str(tmp_path / "i.json"),
        cwd=folder,
    )
    assert inc.returncode == 0 and b"full-refresh" not in inc.stderr


def test_total_records_feeds_progress_only_when_implemented(demo_api):
    from cdk.connector import total_records
    from cdk.sdk.config import SourceConfig
    from cdk.sdk.records import SourceIteration
    from cdk.sdk.source import AbstractSource

    class Counted(AbstractSource):
        @staticmethod
        def streams():
            return ["users"]

        @staticmethod
        def get_config_class():
            return SourceConfig

        def check_connection(self):
            return True, None

        def get(self, pagination=None):
            return SourceIteration(records=[], next_pagination={})

        def get_total_records_count(self):
            return self.session.get(f"{demo_api.url}/users/count").json()["total"]

    class Broken(Counted):
        def get_total_records_count(self):
            raise RuntimeError("no count endpoint")

    class Plain(Counted):
        get_total_records_count = AbstractSource.get_total_records_count

    cfg = SourceConfig(name="x", stream="users")
    assert total_records(Counted(cfg)) == 100
    assert total_records(Broken(cfg)) is None
    assert total_records(Plain(cfg)) is None
    assert demo_api.count("/users/count") == 1
