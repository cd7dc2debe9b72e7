"""Helpers for the benchmarks: a demo API in its own process, and best-of-N timing."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def demo_api_process(records: int):
    """`cdk demo-api` in a separate process, so servers and clients do not share one GIL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdk", "demo-api", "--port", str(port), "--records", str(records)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(
                    f"{url}/users?limit=1", timeout=5
                ).read()  # also warms the record cache
                urllib.request.urlopen(f"{url}/orders?limit=1", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("demo API did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def best_of(n: int, fn) -> float:
    """Fastest wall time of ``n`` runs of ``fn()`` (seconds)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
