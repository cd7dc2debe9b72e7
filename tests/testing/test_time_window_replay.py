"""Time is part of the recording (issue 13 item 3): schedule windows replay exactly, days later.

The Mailchimp members and Zendesk ADVANCE examples of the declarative spec (seed 003) are imported
with `cdk import source-spec`, recorded against local imitations of those APIs, then replayed and
published (--dry-run) with the API stopped and the wall clock of the replaying processes a day later.
Each step is a real `cdk` subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.declarative.decl_fake_apis import FakeAPIs

SEEDS = Path(__file__).resolve().parents[1] / "declarative" / "data"
DAY = 86_400

# Loaded by every Python process of a run (PYTHONPATH): its wall clock is `CDK_TEST_SHIFT_SECONDS`
# later than the machine's. A test-only stand-in for "the next day"; cdk itself knows nothing of it.
SITECUSTOMIZE = """
import os, time, datetime as _dt
_shift = float(os.environ.get("CDK_TEST_SHIFT_SECONDS") or 0)
if _shift:
    _real = time.time
    time.time = lambda: _real() + _shift
    class _Shifted(_dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return _dt.datetime.fromtimestamp(time.time(), tz)
        @classmethod
        def utcnow(cls):
            return _dt.datetime.utcfromtimestamp(time.time())
    _dt.datetime = _Shifted
"""

ZENDESK = {
    "name": "Zendesk Users",
    "sourceSpec": {
        "attributes": {
            "urlParams": {
                "host": "https://{subdomain}.zendesk.com",
                "path": "/api/v2/search/export.json",
                "method": "GET",
                "queryParams": {"query": "{SCHEDULE_QUERY}", "filter[type]": "user", "page[size]": "5"},
            },
            "contentPath": {"path": "$.results", "overrideWrapperAttribute": "user"},
            "paginationParams": {
                "type": "CONTINUATION_TOKEN",
                "continuationTokenPath": "$.meta.after_cursor",
                "parameterType": "QUERYPARAM",
                "parameterName": "page[after]",
                "endConditionName": "$.meta.has_more",
                "endConditionValue": "Const:false",
            },
            "scheduleParams": {
                "type": "ADVANCE",
                "paramFormat": "yyyy-MM-ddTHH:mm:ssK",
                "incremental": "type:user updated > {START_TIME} updated < {END_TIME}",
                "backfill": "type:user updated < {END_TIME}",
            },
            "schema": {
                "type": "object",
                "properties": {
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "name": {"type": "string"},
                                "updated_at": {"type": "string"},
                            },
                        },
                    }
                },
            },
        }
    },
}


class ZendeskExport:
    """GET /api/v2/search/export.json like Zendesk's: ``query`` is honoured (``updated > T``, ``updated < T``,
    in seed 003's ADVANCE format ``yyyy-MM-ddTHH:mm:ssK``), continuation token in ``meta.after_cursor``."""

    def __init__(self, users: int = 23) -> None:
        self.users = [
            {"id": i, "name": f"user{i}", "updated_at": f"2024-01-{i:02d}T00:00:00Z"}
            for i in range(1, users + 1)
        ]
        self.queries: list[str] = []

    def __enter__(self) -> ZendeskExport:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                q = parse_qs(parts.query)
                query = q.get("query", [""])[0]
                api.queries.append(query)
                rows = api.users
                try:
                    for op, stamp in re.findall(r"updated ([<>]) (\S+)", query):
                        when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
                        rows = [
                            r
                            for r in rows
                            if (datetime.fromisoformat(r["updated_at"].replace("Z", "+00:00")) > when)
                            == (op == ">")
                        ]
                except ValueError:
                    return self._send(400, {"error": "InvalidQuery", "description": query})
                size = int(q.get("page[size]", ["5"])[0])
                start = int(q.get("page[after]", ["c0"])[0][1:])
                page = rows[start : start + size]
                more = start + size < len(rows)
                meta = {"has_more": more, "after_cursor": f"c{start + size}", "before_cursor": None}
                self._send(200, {"results": page, "facets": None, "meta": meta})

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def cdk(
    *args: str, cwd: Path, shift: float = 0, clock_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTEST_ADDOPTS": "-p no:hypothesispytest"}
    env.pop("CDK_VIRTUAL_TIME", None)
    if clock_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(clock_dir), env.get("PYTHONPATH", "")) if p)
        env["CDK_TEST_SHIFT_SECONDS"] = str(shift)
    return subprocess.run(
        [sys.executable, "-m", "cdk", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def localise(folder: Path, host: str, url: str, allowed: str) -> None:
    """Point the imported connector at the local imitation (its host and allowed_hosts only)."""
    text = (folder / "connector.yaml").read_text()
    assert host in text
    text = text.replace(f"host: {host}", f"host: {url}")
    text = text.replace(f"- '{allowed}'", "- 127.0.0.1")
    (folder / "connector.yaml").write_text(text)


@pytest.mark.parametrize("example", ["mailchimp-members", "zendesk-advance"])
def test_schedule_windows_replay_the_next_day_and_publish(tmp_path: Path, example: str) -> None:
    clock_dir = tmp_path / "clock"
    clock_dir.mkdir()
    (clock_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    out = tmp_path / example
    if example == "mailchimp-members":
        args = [
            str(SEEDS / "mailchimp_members_seed.txt"),
            "--name",
            example,
            "--primary-key",
            "member.id",
            "--cursor-field",
            "member.last_changed",
        ]
    else:
        spec = tmp_path / "zendesk.json"
        spec.write_text(json.dumps(ZENDESK))
        args = [str(spec), "--name", example]
    imported = cdk("import", "source-spec", *args, "--out", str(out), cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert (out / "tests" / "sample_config.json").is_file(), "the importer writes the replay config"

    with FakeAPIs(members=250) if example == "mailchimp-members" else ZendeskExport() as api:
        if example == "mailchimp-members":
            localise(out, "https://{domain}.api.mailchimp.com", api.url, "*.api.mailchimp.com")
            config = {"domain": "us21", "listId": "L42"}
        else:
            localise(out, "https://{subdomain}.zendesk.com", api.url, "*.zendesk.com")
            config = {"subdomain": "acme"}
        (out / "secrets").mkdir(exist_ok=True)
        (out / "secrets" / "config.json").write_text(json.dumps(config))
        rec = cdk("test", "--record", cwd=out)
        assert rec.returncode == 0, rec.stdout + rec.stderr

    # the recorded window ends at the instant of the recording, and that instant is in the cassette
    stream = "members" if example == "mailchimp-members" else "results"
    cassette = json.loads((out / "tests" / "cassettes" / f"read-{stream}.json").read_text())
    recorded_now = datetime.fromtimestamp(cassette["clock"]["now"], tz=timezone.utc)
    first = cassette["interactions"][0]["request"]["uri"]
    end = "before_last_changed=" if example == "mailchimp-members" else "updated+%3C+"
    assert end + recorded_now.strftime("%Y-%m-%dT%H:%M:%S") in first, first

    # the next day, API stopped: the connector's clock shows the recorded instant again
    rep = cdk("test", "--", "-v", cwd=out, shift=DAY, clock_dir=clock_dir)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "errors[429-retry-after] PASSED" in rep.stdout
    pub = cdk(
        "publish",
        "--dry-run",
        "0.1.1",
        "-r",
        str(tmp_path / "registry"),
        cwd=out,
        shift=DAY,
        clock_dir=clock_dir,
    )
    assert pub.returncode == 0, pub.stdout + pub.stderr
