"""Disk full during `cdk read --state`: the checkpoint never runs ahead of the output (issue 19 item 1).

The output file is limited with RLIMIT_FSIZE in a real subprocess (mounting a small tmpfs needs root):
the kernel then performs a short write up to the limit and fails the next one with EFBIG, as a full
disk does with ENOSPC.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import pytest

from cdk.errors import OutputWriteError
from cdk.sdk.records import SourceRecord
from cdk.sdk.runner import JsonLinesSink

LIMIT = 60_000  # bytes: the output fills after about 250 records of ~240 bytes


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def read_into(out_path, cfg, state, *, limited: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    with open(out_path, "ab") as out:  # `cdk read ... >> out.jsonl`
        return subprocess.run(
            [sys.executable, "-m", "cdk", "read", "--config", str(cfg), "--state", str(state), "-s", "users"],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cfg.parent / "demo_source",
            preexec_fn=_limit_file_size if limited else None,
            timeout=60,
        )


def test_disk_full_then_resume_yields_every_record_exactly_once(demo_api, connector_copy, tmp_path):
    demo_api.counts["users"] = 1000
    connector_copy("demo_source")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"api_url": demo_api.url, "page_size": 37}))
    out, state = tmp_path / "out.jsonl", tmp_path / "state.json"

    first = read_into(out, cfg, state, limited=True)
    err = first.stderr.decode()
    assert first.returncode == 3, err
    assert (
        "writing records to stdout failed" in err and "internal error" not in err and "Traceback" not in err
    )
    assert "--state" in err  # what to do next
    saved = json.loads(state.read_text())["streams"]["users"]
    lines = out.read_bytes().split(b"\n")
    assert lines[-1] == b""  # no half line left behind
    assert saved["records"] == len(lines) - 1  # the checkpoint covers exactly the durable output

    second = read_into(out, cfg, state, limited=False)
    assert second.returncode == 0, second.stderr.decode()
    ids = [json.loads(line)["data"]["id"] for line in out.read_bytes().splitlines()]
    assert ids == list(range(1, 1001))


class _FullDisk:
    """A binary output whose writes fail after ``room`` bytes (no file descriptor)."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.data = b""

    def write(self, data: bytes) -> int:
        take = data[: max(0, self.room - len(self.data))]
        self.data += take
        return len(take)

    def flush(self) -> None:
        pass


def test_short_write_without_a_file_descriptor_is_an_outside_error():
    sink = JsonLinesSink(_FullDisk(50))  # type: ignore[arg-type]
    with pytest.raises(OutputWriteError) as info:
        sink("users", [SourceRecord(id=str(i), data={"i": i}) for i in range(10)])
    assert info.value.exit_code == 3 and "short write" in info.value.message
