"""Wall time of `cdk validate` (a subprocess, interpreter start included).

Goals (issue 3): one typical connector <= 0.3 s; 200 connectors in one call <= 10 s on 2 cores.
Run: python bench/bench_validate.py [--runs 5] [--count 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "validate"))
from validate_fixture import CONNECTOR_FILES  # noqa: E402  (the realistic connector of the tests)


def write_connector(root: Path) -> None:
    for rel, text in CONNECTOR_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "cdk", "validate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"cdk validate failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write_connector(base / "one")
        for i in range(args.count):
            write_connector(base / "many" / f"c{i:03d}")
        timed(["one"], base)  # warm the file-system cache and .pyc files
        one = [timed(["one"], base) for _ in range(args.runs)]
        many = [timed(["many/*"], base) for _ in range(max(1, args.runs // 2))]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"one connector:   min {min(one):.3f} s, median {statistics.median(one):.3f} s  (goal <= 0.3 s)")
    print(
        f"{args.count} connectors: min {min(many):.3f} s, median {statistics.median(many):.3f} s  (goal <= 10 s)"
    )


if __name__ == "__main__":
    main()
