"""Wall time of `cdk init --no-input` (goal: <= 1 s), as a user runs it: a fresh `cdk` process each time.

Prints the median and best of N runs per template, without fixtures (`--no-fixtures`: render only) and,
when this cdk has `cdk test`, with the default fixture recording against the in-process demo API.

    python bench/bench_init.py [--runs 5]
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

TEMPLATES = ("source-python", "destination-python", "source-streaming")


def run_once(template: str, extra: list[str], workdir: Path, n: int) -> float:
    target = workdir / f"c{n}-{template}"
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdk",
            "init",
            "--no-input",
            "--template",
            template,
            str(target),
            "--set",
            "auth=api_key",
            *extra,
        ],
        env=env,
        capture_output=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"cdk init failed: {proc.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from cdk.cli.main import COMMANDS

    modes = [("render only (--no-fixtures)", ["--no-fixtures"])]
    if "test" in COMMANDS:
        modes.append(("with demo fixtures (default)", []))
    else:
        print(
            "note: this cdk has no `cdk test`, so the default run records no fixtures (same as --no-fixtures)"
        )
    print(f"cdk init --no-input wall time, {args.runs} runs each (goal <= 1.0 s)")
    with tempfile.TemporaryDirectory(prefix="bench-init-") as tmp:
        n = 0
        for label, extra in modes:
            for template in TEMPLATES:
                times = []
                for _ in range(args.runs):
                    n += 1
                    times.append(run_once(template, extra, Path(tmp), n))
                print(
                    f"  {label:<30} {template:<20} median {statistics.median(times):.3f} s  "
                    f"best {min(times):.3f} s"
                )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    print(f"  (a bare `python -c pass` here takes {time.perf_counter() - start:.3f} s)")


if __name__ == "__main__":
    main()
