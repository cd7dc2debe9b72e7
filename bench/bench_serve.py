"""Latency of `cdk serve` (issue 15): the validate endpoint, and what the sandbox costs a preview.

- validate: 200 sequential requests, then 200 requests 20 at a time; p50 and p99 in milliseconds.
- preview: sandboxed preview over HTTP vs an in-process read of the same source (cdk.connector.read_stream
  on the same code); both must give the same records.

The server is the real `cdk serve` in its own process (SQLite under a temporary CDK_HOME).
Run: python bench/bench_serve.py [--requests 200] [--concurrency 20] [--previews 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "server"))
from _common import free_port  # noqa: E402
from sources import FULL, IMPORT_OS  # noqa: E402  (the sources of the service's tests)

API = "/api/v1/custom-sources"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def start(home: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "CDK_HOME": str(home)}
    key = subprocess.run(
        [sys.executable, "-m", "cdk", "serve", "keys", "create", "bench"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    port = free_port()
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdk", "serve", "--port", str(port)], stdout=log, stderr=log, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/openapi.json", timeout=1)
            return proc, url, key
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("cdk serve did not start")


def validate_latency(url: str, key: str, n: int, concurrency: int) -> tuple[list[float], list[float]]:
    headers = {"Authorization": f"Bearer {key}"}
    bodies = [{"code": FULL if i % 2 else IMPORT_OS} for i in range(n)]

    def one(client: httpx.Client, body: dict[str, Any]) -> float:
        t = time.perf_counter()
        r = client.post(API + "/validate", json=body)
        elapsed = (time.perf_counter() - t) * 1000
        assert r.status_code == 200, r.text
        return elapsed

    with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
        one(c, bodies[0])  # warm-up
        sequential = [one(c, b) for b in bodies]
    with httpx.Client(
        base_url=url, headers=headers, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as c:
        with ThreadPoolExecutor(concurrency) as pool:
            concurrent = list(pool.map(lambda b: one(c, b), bodies))
    return sequential, concurrent


def in_process_read(code: str) -> tuple[float, list[dict[str, Any]]]:
    from cdk import connector
    from cdk.project import Project

    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "bench_source.py").write_text(code)
        (root / "connector.yaml").write_text(
            "manifest_version: 1\nname: people\nversion: 0.0.0\nkind: source\ncapabilities: [batch_extract]\n"
            "entrypoint: bench_source:PeopleSource\nstreams:\n  - name: users\n"
        )
        (root / "config.json").write_text('{"stream": "users"}')
        sys.path.insert(0, d)
        records: list[dict[str, Any]] = []
        t = time.perf_counter()
        project = Project.load(root)
        connector.read_stream(
            project, root / "config.json", "users",
            lambda s, batch: records.extend({"id": r.id, "data": r.data} for r in batch), max_records=10,
        )  # fmt: skip
        elapsed = (time.perf_counter() - t) * 1000
        sys.path.remove(d)
        sys.modules.pop("bench_source", None)
    return elapsed, records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--previews", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        proc, url, key = start(Path(home))
        try:
            seq, conc = validate_latency(url, key, args.requests, args.concurrency)
            print(
                f"validate, {args.requests} sequential: p50 {percentile(seq, 50):.1f} ms, p99 {percentile(seq, 99):.1f} ms"
            )
            print(
                f"validate, {args.requests} with {args.concurrency} concurrent: "
                f"p50 {percentile(conc, 50):.1f} ms, p99 {percentile(conc, 99):.1f} ms"
            )
            sandboxed, server_ms = [], []
            with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=120) as c:
                for _ in range(args.previews):
                    t = time.perf_counter()
                    body = c.post(API + "/preview", json={"code": FULL, "stream": "users"}).json()
                    sandboxed.append((time.perf_counter() - t) * 1000)
                    server_ms.append(body["execution_time_ms"])
                    assert body["success"], body
            sandbox_records = [{"id": r["id"], "data": r["data"]} for r in body["records"]]
        except BaseException:
            print((Path(home) / "serve.log").read_text()[-6000:], file=sys.stderr)
            raise
        finally:
            proc.terminate()
            proc.wait()
    local = [in_process_read(FULL) for _ in range(args.previews)]
    assert all(records == sandbox_records for _, records in local), "the sandbox and in-process reads differ"
    local_ms = statistics.median(t for t, _ in local)
    print(
        f"preview: sandboxed median {statistics.median(sandboxed):.0f} ms over HTTP "
        f"({statistics.median(server_ms):.0f} ms in the sandbox runner) vs in-process read {local_ms:.1f} ms; "
        f"same {len(sandbox_records)} records"
    )


if __name__ == "__main__":
    main()
