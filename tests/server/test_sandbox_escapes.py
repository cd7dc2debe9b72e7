"""Runtime escapes through preview, with static validation switched off so the sandbox alone must hold.

Each test sends code that tries one way out; the answer is a clear error, nothing outside changes, a
listener on 127.0.0.1 sees no connection, and the server keeps serving. The real server (uvicorn on
127.0.0.1) over SQLite; the API suite runs on PostgreSQL too, the sandbox does not depend on storage.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdk.sandbox import Limits, available
from tests.server.harness import Service, start_service
from tests.server.sources import full_with

pytestmark = pytest.mark.skipif(available() is not None, reason=f"no sandbox here: {available()}")

API = "/api/v1/custom-sources"
LIMITS = Limits(wall_seconds=20, cpu_seconds=120, memory_bytes=1024**3, output_bytes=1024 * 1024)
SERVER_SECRET = "server-only-value-7f3a"


@pytest.fixture(scope="module")
def unvalidated() -> Iterator[Service]:
    folder = tempfile.mkdtemp(prefix="cdk-serve-escapes-")
    os.environ["CDK_SERVE_TEST_SECRET"] = SERVER_SECRET  # in the server's environment
    try:
        yield from start_service(f"sqlite:///{folder}/serve.sqlite3", static_validation=False, limits=LIMITS)
    finally:
        os.environ.pop("CDK_SERVE_TEST_SECRET", None)


class Listener:
    """A TCP listener on the host's 127.0.0.1 that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def preview(service: Service, body: str, **extra: Any) -> dict[str, Any]:
    with service.client() as c:
        r = c.post(f"{API}/preview", json={"code": full_with(body), "stream": "users", **extra})
        assert r.status_code == 200, r.text
        result = dict(r.json())
        assert c.get(API).status_code == 200  # the server keeps serving
    assert result["success"] is False, result
    assert result["records"] == [] and isinstance(result["error"], str) and result["error"]
    return result


@pytest.mark.parametrize(
    "how",
    [
        'data = open("/etc/passwd").read()',
        'import _io\ndata = _io.open("/etc/passwd").read()',
        'import pathlib\ndata = pathlib.Path("/etc/passwd").read_text()',
        'import codecs\ndata = codecs.open("/etc/passwd").read()',
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nfd = libc.open(b'/etc/passwd', 0)\n"
        "buf = ctypes.create_string_buffer(4096)\nn = libc.read(fd, buf, 4096)\n"
        "if n <= 0:\n    raise OSError(ctypes.get_errno(), 'libc open/read of /etc/passwd failed')\n"
        "data = buf.raw[:n].decode()",
    ],
    ids=["open", "_io", "pathlib", "codecs", "ctypes"],
)
def test_reading_a_file_outside_the_sandbox_fails(unvalidated: Service, how: str) -> None:
    result = preview(unvalidated, how + '\nraise RuntimeError("LEAKED " + data)')
    assert "LEAKED" not in result["error"] and "root:" not in result["error"]
    # the audit hooks (cdk.sandbox.audit) refuse first; the OS isolation behind them as well
    assert (
        "sandbox refused" in result["error"]
        or "No such file" in result["error"]
        or "Errno 2" in result["error"]
        or "failed" in result["error"]
    )


@pytest.mark.parametrize(
    "how",
    [
        'import subprocess, sys\nsubprocess.run([sys.executable, "-c", "print(1)"], check=True)',
        'import os\nos.system("touch /tmp/cdk-escaped")\nos.fork()',
        'import os, sys\nos.execv(sys.executable, [sys.executable, "-c", "print(1)"])',
    ],
    ids=["subprocess", "fork", "exec"],
)
def test_spawning_a_process_is_refused(unvalidated: Service, how: str) -> None:
    result = preview(unvalidated, how)
    assert (
        "sandbox refused" in result["error"]
        or "PermissionError" in result["error"]
        or "not permitted" in result["error"]
    ), result["error"]
    assert not Path("/tmp/cdk-escaped").exists()


def test_a_raw_socket_to_the_hosts_loopback_reaches_nothing(unvalidated: Service, listener: Listener) -> None:
    body = f'import socket\nsocket.create_connection(("127.0.0.1", {listener.port}), timeout=3)'
    result = preview(unvalidated, body)
    assert "Connection refused" in result["error"] or "Errno 111" in result["error"], result["error"]
    result = preview(unvalidated, 'import socket\nsocket.create_connection(("1.1.1.1", 80), timeout=3)')
    assert (
        "sandbox refused" in result["error"]
        or "unreachable" in result["error"].lower()
        or "Errno 101" in result["error"]
    ), result["error"]
    assert listener.connections == 0


def test_a_host_outside_allowed_hosts_through_the_session(unvalidated: Service, listener: Listener) -> None:
    body = f'self.session.get("http://127.0.0.1:{listener.port}/").raise_for_status()'
    result = preview(unvalidated, body, allowed_hosts=["api.example.com"])
    assert "127.0.0.1" in result["error"] and "allowed_hosts" in result["error"]
    assert listener.connections == 0


def test_a_host_outside_allowed_hosts_around_the_session(unvalidated: Service, listener: Listener) -> None:
    # requests without the SDK's guard: the only way out is the egress proxy, which refuses the host
    body = f'import requests\nrequests.get("http://127.0.0.1:{listener.port}/", timeout=5).raise_for_status()'
    result = preview(unvalidated, body, allowed_hosts=["api.example.com"])
    assert "egress denied" in result["error"] and "127.0.0.1" in result["error"]
    assert [e["denied"] for e in result["http_log"]] == [True]
    # HTTPS through CONNECT, and a proxy-less http.client connection
    body = f'import requests\nrequests.get("https://127.0.0.1:{listener.port}/", timeout=5)'
    result = preview(unvalidated, body, allowed_hosts=["api.example.com"])
    assert "403" in result["error"] or "egress denied" in result["error"], result["error"]
    body = f'import http.client\nc = http.client.HTTPConnection("127.0.0.1", {listener.port}, timeout=3)\nc.request("GET", "/")'
    result = preview(unvalidated, body, allowed_hosts=["api.example.com"])
    assert "refused" in result["error"].lower()
    assert listener.connections == 0


def test_the_servers_environment_is_not_visible(unvalidated: Service) -> None:
    assert os.environ["CDK_SERVE_TEST_SECRET"] == SERVER_SECRET
    body = (
        "import os\nseen = dict(os.environ)\n"
        "try:\n    seen['proc1'] = open('/proc/1/environ').read()\nexcept OSError as e:\n    seen['proc1'] = str(e)\n"
        "raise RuntimeError('ENV ' + repr(seen))"
    )
    result = preview(unvalidated, body)
    assert "ENV {" in result["error"]  # the code ran and reported what it saw
    assert SERVER_SECRET not in result["error"] and "CDK_SERVE_TEST_SECRET" not in result["error"]


def test_writing_outside_the_sandbox_directory_fails(unvalidated: Service) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cdk-escape-target-"))
    target = folder / "target.txt"
    target.write_text("original\n")
    try:
        for path in (target, folder / "new.txt", Path("/tmp/cdk-escape-new.txt")):
            result = preview(unvalidated, f'open("{path}", "w").write("pwned")')
            assert "sandbox refused" in result["error"] or "Errno" in result["error"], result["error"]
        assert target.read_text() == "original\n"
        assert sorted(p.name for p in folder.iterdir()) == ["target.txt"]
        assert not Path("/tmp/cdk-escape-new.txt").exists()
    finally:
        target.unlink()
        folder.rmdir()


def test_an_infinite_loop_is_killed_at_the_wall_time_limit(unvalidated: Service) -> None:
    result = preview(unvalidated, "while True:\n    pass")
    assert result["error"] == "killed: wall-time limit of 20 s exceeded"
    assert 20_000 <= result["execution_time_ms"] < 40_000


def test_allocating_4_gib_is_stopped_at_the_memory_limit(unvalidated: Service) -> None:
    result = preview(unvalidated, "x = bytearray(4 * 1024 ** 3)")
    assert result["error"].startswith("memory limit of 1024 MiB exceeded")
    result = preview(unvalidated, "hoard = []\nwhile True:\n    hoard.append(bytearray(50 * 1024 ** 2))")
    assert "memory limit" in result["error"]


def test_printing_1_gb_is_cut_at_the_output_limit(unvalidated: Service) -> None:
    result = preview(
        unvalidated, 'import sys\nchunk = "x" * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)'
    )
    assert result["error"] == "killed: output limit of 1048576 bytes exceeded"


def test_a_busy_loop_is_killed_at_the_cpu_time_limit() -> None:
    from cdk import sandbox

    result = sandbox.run(
        "preview",
        code=full_with("while True:\n    pass"),
        class_name="PeopleSource",
        source_name="people",
        stream="users",
        streams=["users"],
        limits=Limits(wall_seconds=300, cpu_seconds=1),  # CPU seconds: wall time on a busy machine is longer
    )
    assert result.success is False and result.killed == "cpu_time"
    assert result.error == "killed: CPU-time limit of 1 s exceeded"
