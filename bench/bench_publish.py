"""Wall time of `cdk publish --dry-run` on a generated connector, split by step.

A connector with STREAMS streams of PROPS properties each is generated in a temp folder, 1.0.0 is
published to a temp folder registry (so the diff step has something to compare with), then
`cdk publish minor --dry-run --skip-gate --format json` runs RUNS times as a real subprocess; the step
timings come from its JSON, the wall time (process start to exit) from here.

    python bench/bench_publish.py [--streams 25] [--props 40] [--runs 3] [--isolated]

By default builds are offline (the package index is pointed at a closed port, so the installed
hatchling is used, as on a machine without network); --isolated lets `build` create an isolated
environment from the real index, which is what a networked CI run would do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(root: Path, streams: int, props: int) -> None:
    pkg = root / "bench_connector"
    pkg.mkdir(parents=True)
    (root / "schemas").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "source.py").write_text(
        "from cdk import AbstractSource, SourceConfig\n\n"
        "class BenchConfig(SourceConfig):\n    api_key: str\n\n"
        "class BenchSource(AbstractSource):\n    pass\n"
    )
    kinds = ["string", "integer", "number", "boolean", ["string", "null"]]
    lines = [
        "manifest_version: 1",
        "name: bench",
        "version: 0.1.0  # bumped by cdk publish",
        "kind: source",
        "capabilities: [batch_extract, incremental]",
        "entrypoint: bench_connector.source:BenchSource",
        "config:",
        "  schema: schemas/config.json",
        "streams:",
    ]
    for s in range(streams):
        schema = {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string"}},
        }
        for p in range(props):
            schema["properties"][f"field_{p}"] = {"type": kinds[p % len(kinds)]}
        (root / "schemas" / f"stream_{s}.json").write_text(json.dumps(schema, indent=2))
        lines += [
            f"  - name: stream_{s}",
            "    primary_key: [id]",
            "    cursor_field: updated_at",
            f"    schema: schemas/stream_{s}.json",
        ]
    lines.append("allowed_hosts: [api.bench.test]")
    (root / "connector.yaml").write_text("\n".join(lines) + "\n")
    (root / "schemas" / "config.json").write_text(
        json.dumps({"type": "object", "required": ["api_key"], "properties": {"api_key": {"type": "string"}}})
    )
    (root / "README.md").write_text("# bench connector\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling>=1.21"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "bench-connector"\nversion = "0.1.0"\nreadme = "README.md"\n'
        'dependencies = ["connector-cdk"]\n\n'
        '[project.entry-points."cdk.connectors"]\nbench = "bench_connector.source:BenchSource"\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["bench_connector"]\n\n'
        "[tool.hatch.build.targets.wheel.force-include]\n"
        '"connector.yaml" = "bench_connector/connector.yaml"\n"schemas" = "bench_connector/schemas"\n'
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=25)
    ap.add_argument("--props", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--isolated", action="store_true", help="build in an isolated env from the real index")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cdk-bench-") as tmp:
        root = Path(tmp) / "bench"
        generate(root, args.streams, args.props)
        env = {**os.environ, "CDK_HOME": str(Path(tmp) / "home"), "NO_COLOR": "1"}
        if not args.isolated:
            env["PIP_INDEX_URL"] = "http://127.0.0.1:9/simple/"
        base = [sys.executable, "-m", "cdk", "publish", "--skip-gate", "--format", "json", "-C", str(root)]
        first = subprocess.run([*base, "1.0.0"], env=env, capture_output=True, text=True)
        if first.returncode:
            sys.exit(f"publishing 1.0.0 failed:\n{first.stderr}")
        walls: list[float] = []
        per_step: dict[str, list[float]] = {}
        for _ in range(args.runs):
            started = time.perf_counter()
            proc = subprocess.run([*base, "minor", "--dry-run"], env=env, capture_output=True, text=True)
            walls.append(time.perf_counter() - started)
            if proc.returncode:
                sys.exit(f"dry run failed:\n{proc.stderr}")
            for step in json.loads(proc.stdout)["steps"]:
                per_step.setdefault(step["step"], []).append(step["seconds"])
        mode = "isolated build (real index)" if args.isolated else "offline build (installed hatchling)"
        print(
            f"cdk publish minor --dry-run: {args.streams} streams x {args.props} properties, {mode}, "
            f"{args.runs} runs, median seconds"
        )
        for name, values in per_step.items():
            print(f"  {name:<12} {statistics.median(values):8.3f}")
        steps_total = sum(statistics.median(v) for v in per_step.values())
        print(f"  {'(steps)':<12} {steps_total:8.3f}")
        print(
            f"  {'wall':<12} {statistics.median(walls):8.3f}   (includes interpreter start and imports: "
            f"{statistics.median(walls) - steps_total:.3f})"
        )


if __name__ == "__main__":
    main()
