"""`cdk run` against a hostile user: Ctrl-C during a concurrent run, destination ids that are paths, SQL,
case variants or too long for a file or table name, and broken pipeline files.

Real subprocesses where a signal matters; real SQLite files and jsonl folders.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from tests.conftest import jsonl, run_cdk

PAGED = '''"""Pages of 50 records per stream, each page taking `delay` seconds."""

import time

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class PagedConfig(SourceConfig):
    pages: int = 40
    delay: float = 0.0


class PagedSource(AbstractSource):
    @staticmethod
    def streams():
        return ["s1", "s2", "s3", "s4"]

    @staticmethod
    def get_config_class():
        return PagedConfig

    def check_connection(self):
        return True, None

    def get(self, pagination=None):
        p = (pagination or {}).get("p", 0)
        time.sleep(self.config.delay)
        records = [SourceRecord(id=f"{p}-{i}", data={"p": p, "i": i}) for i in range(50)]
        return SourceIteration(records=records, next_pagination={"p": p + 1} if p + 1 < self.config.pages else {})
'''

ROUTED = '''"""One record per destination id of the config, all with the same record id."""

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class RoutedConfig(SourceConfig):
    targets: list[str] = []


class RoutedSource(AbstractSource):
    @staticmethod
    def streams():
        return ["users"]

    @staticmethod
    def get_config_class():
        return RoutedConfig

    def check_connection(self):
        return True, None

    def get(self, pagination=None):
        records = [SourceRecord(id="1", data={"target": t}, destination_id=t) for t in self.config.targets]
        return SourceIteration(records=records, next_pagination={})
'''


def test_ctrl_c_stops_every_concurrent_stream_promptly_and_keeps_only_acknowledged_state(tmp_path):
    (tmp_path / "paged.py").write_text(PAGED)
    (tmp_path / "p.yml").write_text(
        "name: ctrl-c\nsource:\n  name: paged\n  streams: [s1, s2]\n  delay: 0.15\n"
        "destination:\n  name: jsonl\n  config: {path: out}\n"
    )
    cmd = [sys.executable, "-m", "cdk", "run", "p.yml", "--custom-source", "paged.py", "-q"]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal's Ctrl-C
    )
    state_file = tmp_path / ".cdk" / "state" / "ctrl-c.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # interrupt once both streams have checkpointed a few pages
        try:
            streams = json.loads(state_file.read_text())["streams"]
            if len(streams) == 2 and all(s["pages"] >= 3 for s in streams.values()):
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert proc.returncode == 130, err.decode()
    # before: the other streams read to their end (40 pages of 0.15 s) before the process exited
    assert waited < 2.0, f"took {waited:.1f}s to stop after Ctrl-C"
    streams = json.loads(state_file.read_text())["streams"]
    for name, entry in streams.items():
        assert entry["status"] == "running" and entry["pages"] < 40
        lines = jsonl((tmp_path / "out" / f"{name}.jsonl").read_bytes())
        assert len(lines) >= entry["records"]  # all the state covers is in the file
    again = run_cdk("run", "p.yml", "--custom-source", "paged.py", "-q", cwd=tmp_path, timeout=120)
    assert again.returncode == 0, again.stderr.decode()
    for name in ("s1", "s2"):
        ids = [r["id"] for r in jsonl((tmp_path / "out" / f"{name}.jsonl").read_bytes())]
        assert len(ids) == 2000 and len(set(ids)) == 2000  # nothing lost, nothing twice
