"""Declarative vs hand-written: `cdk read` of a sourceSpec connector beside the Python demo source.

Goal (issue 7): the declarative read takes at most 1.2x the time of the hand-written Python source on
the same API. Measured twice: with records equal to the hand-written source's, and in the seed's
wrapped shape (slightly larger records to write). Both are `cdk read` subprocesses (records as JSON Lines, interpreter start included)
against one demo API in a third process, offset pagination, 1000 records per page.

    python bench/bench_declarative.py [--records 100000] [--repeat 3] [--page 1000]
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

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, demo_api_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def declarative_connector(folder: Path, page: int, *, wrapped: bool = False) -> None:
    """The demo source's users stream as a sourceSpec.

    Unwrapped (``overrideWrapperAttribute: ""``) the records equal the hand-written source's; wrapped is
    the seed's shape (``{"items": item}``, the response's other attributes skipped).
    """
    folder.mkdir(parents=True)
    content = (
        {"path": "$.items", "skipAttributes": ["total", "total_pages", "next_cursor", "next"]}
        if wrapped
        else {"path": "$.items", "overrideWrapperAttribute": ""}
    )
    manifest = {
        "manifest_version": 1,
        "name": "demo-declarative",
        "version": "0.1.0",
        "kind": "source",
        "capabilities": ["batch_extract"],
        "streams": [{"name": "users", "primary_key": ["id"]}],
        "allowed_hosts": ["127.0.0.1", "localhost"],
        "declarative": {
            "spec": {
                "type": "object",
                "required": ["api_url"],
                "properties": {"api_url": {"type": "string"}},
            },
            "streams": {
                "users": {
                    "urlParams": {"host": "${api_url}", "path": "/users", "method": "GET"},
                    "contentPath": content,
                    "paginationParams": {
                        "type": "OFFSET",
                        "limitName": "limit",
                        "limitValue": page,
                        "offSetName": "offset",
                        "endConditionName": "$.next",
                        "endConditionValue": "Const:null",
                    },
                }
            },
        },
    }
    (folder / "connector.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--page", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cdk-bench-decl-"))
    python_connector = work / "demo_source"
    shutil.copytree(ROOT / "tests" / "fixtures" / "demo_source", python_connector)
    decl_connector = work / "demo_declarative"
    declarative_connector(decl_connector, args.page)
    wrapped_connector = work / "demo_declarative_wrapped"
    declarative_connector(wrapped_connector, args.page, wrapped=True)
    out = work / "out.jsonl"
    env = {**os.environ, "NO_COLOR": "1"}
    print(f"records: {args.records:,}, page {args.page}, best of {args.repeat}")
    with demo_api_process(args.records) as url:
        cfg = work / "config.json"
        cfg.write_text(json.dumps({"api_url": url, "page_size": args.page}))
        dcfg = work / "dconfig.json"
        dcfg.write_text(json.dumps({"api_url": url}))

        def read(folder: Path, config: Path) -> None:
            with out.open("wb") as fh:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "cdk",
                        "read",
                        "-C",
                        str(folder),
                        "--config",
                        str(config),
                        "-s",
                        "users",
                        "-q",
                    ],
                    stdout=fh,
                    check=True,
                    env=env,
                )
            lines = sum(1 for _ in out.open("rb"))
            assert lines == args.records, lines

        t_python = best_of(args.repeat, lambda: read(python_connector, cfg))
        t_decl = best_of(args.repeat, lambda: read(decl_connector, dcfg))
        t_wrapped = best_of(args.repeat, lambda: read(wrapped_connector, dcfg))
    print(f"hand-written Python source          {args.records / t_python:>9,.0f} rec/s ({t_python:.2f} s)")
    print(
        f"declarative, same records           {args.records / t_decl:>9,.0f} rec/s ({t_decl:.2f} s)  "
        f"{t_decl / t_python:.2f}x the time (goal <= 1.20x)"
    )
    print(
        f"declarative, seed shape (wrapper)   {args.records / t_wrapped:>9,.0f} rec/s ({t_wrapped:.2f} s)  "
        f"{t_wrapped / t_python:.2f}x the time"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
