"""Runner throughput: `cdk read` (records as JSON Lines) beside a plain requests loop over the same pages.

Goal (issue 2): the runner costs at most 25% more time than the plain loop. Both run as separate
processes against a demo API in a third process; both times include interpreter start.
Also prints `cdk --help` wall time beside `python -c pass` (goal: at most 0.15 s more).

    python bench/bench_read.py [--records 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, demo_api_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

PLAIN_LOOP = """
import sys, requests
url, limit = sys.argv[1], int(sys.argv[2])
s = requests.Session()
offset = n = 0
while True:
    items = s.get(url + "/users", params={"offset": offset, "limit": limit}).json()["items"]
    n += len(items)
    if len(items) < limit:
        break
    offset += limit
assert n == int(sys.argv[3]), n
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cdk-bench-"))
    connector = work / "demo_source"
    shutil.copytree(ROOT / "tests" / "fixtures" / "demo_source", connector)
    out = work / "out.jsonl"
    env = {**os.environ, "NO_COLOR": "1"}
    print(f"records: {args.records:,}, best of {args.repeat}")
    with demo_api_process(args.records) as url:
        for page in (100, 1000):
            cfg = work / f"config-{page}.json"
            cfg.write_text(json.dumps({"api_url": url, "page_size": page}))

            def plain(page=page):
                subprocess.run(
                    [sys.executable, "-c", PLAIN_LOOP, url, str(page), str(args.records)], check=True
                )

            def runner(cfg=cfg):
                with out.open("wb") as fh:
                    subprocess.run(
                        [sys.executable, "-m", "cdk", "read", "--config", str(cfg), "-s", "users", "-q"],
                        cwd=connector,
                        stdout=fh,
                        check=True,
                        env=env,
                    )

            t_plain = best_of(args.repeat, plain)
            t_runner = best_of(args.repeat, runner)
            lines = sum(1 for _ in out.open("rb"))
            assert lines == args.records, lines
            print(
                f"page {page:>5}: plain requests {args.records / t_plain:>9,.0f} rec/s ({t_plain:.2f} s) | "
                f"cdk read {args.records / t_runner:>9,.0f} rec/s ({t_runner:.2f} s) | "
                f"runner/plain time {t_runner / t_plain:.2f}x (goal <= 1.25x)"
            )

    t_pass = best_of(10, lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
    t_help = best_of(
        10,
        lambda: subprocess.run(
            [sys.executable, "-m", "cdk", "--help"], check=True, stdout=subprocess.DEVNULL
        ),
    )
    print(
        f"cdk --help {t_help * 1000:.0f} ms vs python -c pass {t_pass * 1000:.0f} ms: "
        f"+{(t_help - t_pass) * 1000:.0f} ms (goal <= +150 ms)"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
