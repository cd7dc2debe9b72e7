"""Pipeline throughput: `cdk run` into jsonl and into SQLite beside `cdk read > file` alone.

Goal (issue 16): the pipeline into jsonl costs at most 1.3x the time of the read alone. All three run as
separate processes (interpreter start included) against the demo API in a third process.

    python bench/bench_run.py [--records 100000] [--page 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, demo_api_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

PIPELINE = """name: bench
source:
  name: {folder}
  stream: users
  api_url: {url}
  page_size: {page}
destination:
  name: {dest}
  config:
    {key}: {value}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cdk-bench-run-"))
    connector = work / "demo_source"
    shutil.copytree(ROOT / "tests" / "fixtures" / "demo_source", connector)
    env = {**os.environ, "NO_COLOR": "1"}
    print(f"records: {args.records:,}, pages of {args.page}, best of {args.repeat}")
    with demo_api_process(args.records) as url:
        cfg = work / "config.json"
        cfg.write_text(json.dumps({"api_url": url, "page_size": args.page}))
        out = work / "read.jsonl"

        def read_alone() -> None:
            with out.open("wb") as fh:
                subprocess.run(
                    [sys.executable, "-m", "cdk", "read", "--config", str(cfg), "-s", "users", "-q"],
                    cwd=connector,
                    stdout=fh,
                    check=True,
                    env=env,
                )

        def pipeline(dest: str, key: str, value: str) -> float:
            folder = work / dest
            folder.mkdir()
            (folder / "p.yml").write_text(
                PIPELINE.format(folder=connector, url=url, page=args.page, dest=dest, key=key, value=value)
            )

            def once() -> None:
                shutil.rmtree(folder / ".cdk", ignore_errors=True)
                shutil.rmtree(folder / "out", ignore_errors=True)
                (folder / "out.db").unlink(missing_ok=True)
                subprocess.run(
                    [sys.executable, "-m", "cdk", "run", "p.yml", "-q", "--log-level", "WARNING"],
                    cwd=folder,
                    check=True,
                    env=env,
                )

            return best_of(args.repeat, once)

        t_read = best_of(args.repeat, read_alone)
        assert sum(1 for _ in out.open("rb")) == args.records
        t_jsonl = pipeline("jsonl", "path", "out")
        assert sum(1 for _ in (work / "jsonl" / "out" / "users.jsonl").open("rb")) == args.records
        t_sql = pipeline("sql", "url", "sqlite:///out.db")
        rows = sqlite3.connect(work / "sql" / "out.db").execute("select count(*) from users").fetchone()[0]
        assert rows == args.records, rows
        n = args.records
        print(f"cdk read > file      {n / t_read:>9,.0f} rec/s ({t_read:.2f} s)")
        print(
            f"cdk run -> jsonl     {n / t_jsonl:>9,.0f} rec/s ({t_jsonl:.2f} s)  "
            f"{t_jsonl / t_read:.2f}x the read (goal <= 1.3x)"
        )
        print(
            f"cdk run -> sqlite    {n / t_sql:>9,.0f} rec/s ({t_sql:.2f} s)  {t_sql / t_read:.2f}x the read"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
