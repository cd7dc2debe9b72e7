"""Replay of a 1,000-interaction cassette (1,000 paginated GETs, ~25 MB): cdk's cassettes beside vcrpy's.

Run: python bench/bench_replay.py [--pages 1000] [--vcrpy-pages 200] [--keep DIR]

1. records 1,000 pages of 100 records (GET /users?offset=N&limit=100) from the local demo API into a
   cdk cassette (JSON), and writes the same interactions as a vcrpy cassette (vcrpy's YAML serializer);
2. measures loading each file (vcrpy's YAML loader, stdlib json, orjson);
3. replays the 1,000 GETs through cdk's cassette (load + every request, each response parsed as JSON);
4. replays through vcrpy (record_mode none, default matchers). vcrpy scans every interaction for every
   request, so each request costs about the same: it is capped at --vcrpy-pages requests and the
   per-request time is extrapolated to all pages (printed as such). --vcrpy-pages 0 skips it.

Goal: cdk's whole replay <= 3 s. Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdk.testing.cassettes import Cassette, decode_body, use_cassette  # noqa: E402
from cdk.testing.demo_api import DemoAPI  # noqa: E402
from cdk.testing.redact import Redactor  # noqa: E402

PAGE = 100


def record(folder: Path, pages: int) -> tuple[Path, str]:
    path = folder / "replay.json"
    with DemoAPI(records={"users": pages * PAGE}) as api:
        api.encoded("users")
        cassette = Cassette(path, mode="record", redactor=Redactor())
        with use_cassette(cassette):  # fresh connections: the demo API's keep-alive adds ~40 ms (Nagle)
            for n in range(pages):
                requests.get(
                    f"{api.url}/users", params={"offset": n * PAGE, "limit": PAGE}
                ).raise_for_status()
        cassette.save()
        return path, api.url


def to_vcrpy(cassette_path: Path, folder: Path) -> Path:
    """The same interactions in vcrpy's default cassette format (YAML via vcrpy's own serializer)."""
    from vcr.serializers import yamlserializer

    data = json.loads(cassette_path.read_bytes())
    interactions = []
    for inter in data["interactions"]:
        req, resp = inter["request"], inter["response"]
        interactions.append(
            {
                "request": {
                    "body": None,
                    "headers": {k: v if isinstance(v, list) else [v] for k, v in req["headers"].items()},
                    "method": req["method"],
                    "uri": req["uri"],
                },
                "response": {
                    "status": {"code": resp["status"], "message": resp["reason"]},
                    "headers": {k: v if isinstance(v, list) else [v] for k, v in resp["headers"].items()},
                    "body": {"string": decode_body(resp["body"]).decode()},
                },
            }
        )
    path = folder / "replay_vcrpy.yaml"
    path.write_text(yamlserializer.serialize({"interactions": interactions, "version": 1}))
    return path


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def replay_cdk(path: Path, url: str, pages: int) -> float:
    start = time.perf_counter()
    cassette = Cassette.load(path, redactor=Redactor())
    total = 0
    with use_cassette(cassette), requests.Session() as s:
        for n in range(pages):
            total += len(s.get(f"{url}/users", params={"offset": n * PAGE, "limit": PAGE}).json()["items"])
    elapsed = time.perf_counter() - start
    assert total == pages * PAGE, total
    return elapsed


def replay_vcrpy(path: Path, url: str, pages: int) -> tuple[float, float]:
    import vcr

    start = time.perf_counter()
    with vcr.VCR(record_mode="none").use_cassette(str(path)), requests.Session() as s:
        loaded = time.perf_counter() - start
        for n in range(pages):
            s.get(f"{url}/users", params={"offset": n * PAGE, "limit": PAGE}).json()
    return loaded, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--vcrpy-pages", type=int, default=200)
    ap.add_argument("--keep", type=Path, default=None, help="keep the cassettes in this folder")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="cdk-bench-"))
    folder.mkdir(parents=True, exist_ok=True)

    t_rec, (ours, url) = timed(record, folder, args.pages)
    theirs = to_vcrpy(ours, folder)
    print(
        f"cassette: {args.pages} interactions; cdk JSON {ours.stat().st_size / 1e6:.1f} MB, "
        f"vcrpy YAML {theirs.stat().st_size / 1e6:.1f} MB (recorded in {t_rec:.1f} s)"
    )

    import orjson
    from vcr.serializers import yamlserializer

    t_yaml, _ = timed(yamlserializer.deserialize, theirs.read_text())
    t_json, _ = timed(json.loads, ours.read_bytes())
    t_orjson, _ = timed(orjson.loads, ours.read_bytes())
    print(f"load only: vcrpy YAML {t_yaml:.2f} s | stdlib json {t_json:.2f} s | orjson {t_orjson:.2f} s")

    runs = [replay_cdk(ours, url, args.pages) for _ in range(3)]
    print(
        f"cdk replay ({args.pages} GETs, load + match + parse): best {min(runs):.2f} s, "
        f"median {sorted(runs)[1]:.2f} s   (goal <= 3 s)"
    )

    if args.vcrpy_pages:
        n = min(args.vcrpy_pages, args.pages)
        loaded, elapsed = replay_vcrpy(theirs, url, n)
        per = (elapsed - loaded) / n
        estimate = loaded + per * args.pages
        label = "measured" if n == args.pages else f"extrapolated from {n} requests"
        print(
            f"vcrpy default replay: load {loaded:.2f} s, {per * 1000:.1f} ms per request -> "
            f"{estimate:.1f} s for {args.pages} GETs ({label})"
        )
        print(f"speed-up: {estimate / min(runs):.0f}x")


if __name__ == "__main__":
    main()
