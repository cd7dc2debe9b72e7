"""A local demo API: a real HTTP server on 127.0.0.1 serving synthetic records.

Tests, benchmarks, templates and the README demo all talk to it instead of a live API.

Every list endpoint ``GET /<stream>`` serves all the usual pagination styles at once:

* ``?offset=N&limit=L``, ``?page=N&per_page=L`` (1-based), ``?cursor=TOKEN&limit=L``
* the body: ``{"items": [...], "total": T, "total_pages": P, "next_cursor": TOKEN|null, "next": URL|null}``
* a ``Link: <URL>; rel="next"`` header, and ``X-PageCount`` / ``X-Total-Count`` headers
* ``?updated_since=ISO`` keeps records updated strictly after that instant (incremental reads)

Other endpoints: ``GET /health``; ``POST /oauth/token`` (refresh-token grant); ``POST /ingest/<stream>``
and ``GET /ingest/<stream>`` (a destination's target); ``POST /_control/faults`` to script the next
responses of a path (``{"path": "/users", "responses": [{"status": 429, "headers": {"Retry-After": "2"}},
{"status": 500}, {"delay": 0.5}]}``), ``POST /_control/reset``, ``GET /_control/requests``.

With ``api_key`` set, every data endpoint wants ``Authorization: Bearer KEY``, ``X-API-Key: KEY`` or
``?api_key=KEY`` and answers 401 otherwise.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

BASE_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)
MAX_LIMIT = 10_000


def make_record(stream: str, i: int) -> dict[str, Any]:
    """Record ``i`` (1-based) of ``stream``: about 240 bytes of JSON, updated_at rising with the id."""
    updated = BASE_TIME + timedelta(minutes=i)
    return {
        "id": i,
        "name": f"{stream[:-1] if stream.endswith('s') else stream} {i:06d}",
        "email": f"user{i:06d}@example.com",
        "status": ("active", "paused", "closed")[i % 3],
        "amount": round(i * 1.25, 2),
        "tags": ["alpha", "beta"] if i % 2 else ["gamma"],
        "created_at": (BASE_TIME + timedelta(minutes=i - 1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "address": {"city": ("Lyon", "Oslo", "Kyoto", "Quito")[i % 4], "zip": f"{10000 + i % 89999}"},
    }


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> int:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    if not raw.startswith("o:"):
        raise ValueError(token)
    return int(raw[2:])


class DemoAPI:
    """The server. Use as a context manager or call :meth:`start` / :meth:`stop`.

    ``records`` is the count per stream (an int for all, or a mapping stream -> count).
    """

    def __init__(
        self,
        records: int | dict[str, int] = 100,
        *,
        streams: tuple[str, ...] = ("users", "orders"),
        api_key: str | None = None,
        port: int = 0,
        refresh_token: str | None = None,
        flaky: float = 0.0,
        seed: int = 0,
        retry_after: str = "1",
    ) -> None:
        counts = records if isinstance(records, dict) else {s: records for s in streams}
        self.counts = dict(counts)
        self.api_key = api_key
        self.refresh_token = refresh_token
        self.port = port
        self.faults: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self.requests: list[dict[str, Any]] = []
        self.ingested: dict[str, list[Any]] = defaultdict(list)
        self.tokens_issued = 0
        # like a real API under load: a share ``flaky`` of the requests (seeded) answers 429 + Retry-After
        self.flaky = flaky
        self.retry_after = retry_after
        self.rng = random.Random(seed)
        self.throttled = 0
        self._lock = threading.Lock()
        self._cache: dict[str, list[bytes]] = {}
        self._updated: dict[str, list[str]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> DemoAPI:
        api = self

        class Handler(_Handler):
            demo = api

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DemoAPI:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- scripting ------------------------------------------------------------------------------
    def script(self, path: str, *responses: dict[str, Any]) -> None:
        """Queue responses for the next requests to ``path`` (status, headers, body, delay)."""
        with self._lock:
            self.faults[path].extend(responses)

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self.ingested.clear()

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r["path"] == path)

    # -- data -----------------------------------------------------------------------------------
    def encoded(self, stream: str) -> tuple[list[bytes], list[str]]:
        """Pre-encoded records of a stream (the server must not be the bottleneck of benchmarks)."""
        if stream not in self._cache:
            recs = [make_record(stream, i) for i in range(1, self.counts[stream] + 1)]
            self._cache[stream] = [json.dumps(r, separators=(",", ":")).encode() for r in recs]
            self._updated[stream] = [r["updated_at"] for r in recs]
        return self._cache[stream], self._updated[stream]


class _Handler(BaseHTTPRequestHandler):
    demo: DemoAPI
    # BaseHTTPRequestHandler's own buffer, undeclared in typeshed; _send() writes it at once
    _headers_buffer: list[bytes]
    protocol_version = "HTTP/1.1"
    server_version = "cdk-demo-api/1"
    disable_nagle_algorithm = True  # headers and body leave at once; no 40 ms delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing -------------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes | dict[str, Any] | list[Any] = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self._headers_buffer.append(b"\r\n")  # end_headers() without its separate flush
        self._headers_buffer.append(body)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorised(self, query: dict[str, list[str]]) -> bool:
        key = self.demo.api_key
        if not key:
            return True
        return (
            self.headers.get("Authorization") == f"Bearer {key}"
            or self.headers.get("X-API-Key") == key
            or query.get("api_key", [None])[0] == key
        )

    def _fault(self, path: str) -> bool:
        """Play the next scripted response for ``path``; True when it answered."""
        with self.demo._lock:
            queue = self.demo.faults.get(path)
            step = queue.popleft() if queue else None
        if step is None:
            return False
        if step.get("delay"):
            time.sleep(float(step["delay"]))
        if "status" not in step:
            return False
        body = step.get("body", {"error": f"scripted {step['status']}"})
        if isinstance(body, str):
            self._send(step["status"], body.encode(), step.get("headers"), content_type="text/plain")
        else:
            self._send(step["status"], body, step.get("headers"))
        return True

    def _throttle(self) -> bool:
        """A random 429 (seeded), as real APIs answer now and then; True when it answered."""
        demo = self.demo
        if not demo.flaky:
            return False
        with demo._lock:
            hit = demo.rng.random() < demo.flaky
            demo.throttled += hit
        if hit:
            self._send(429, {"error": "rate limited"}, {"Retry-After": demo.retry_after})
        return hit

    # -- verbs ----------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        self.demo.requests.append(
            {"method": "GET", "path": path, "query": parts.query, "headers": dict(self.headers)}
        )
        if path == "/_control/requests":
            return self._send(
                200, [{k: v for k, v in r.items() if k != "headers"} for r in self.demo.requests]
            )
        if self._fault(path) or self._throttle():
            return None
        if path == "/health":
            if not self._authorised(query):
                return self._send(401, {"error": "invalid api key"})
            return self._send(200, {"status": "ok"})
        if path.startswith("/ingest/"):
            return self._send(200, self.demo.ingested.get(path[len("/ingest/") :], []))
        stream = path.strip("/")
        if stream.endswith("/count"):
            stream = stream[: -len("/count")]
            if stream in self.demo.counts:
                return self._send(200, {"total": self.demo.counts[stream]})
        if stream not in self.demo.counts:
            return self._send(404, {"error": f"no stream {stream!r}", "streams": sorted(self.demo.counts)})
        if not self._authorised(query):
            return self._send(401, {"error": "invalid api key"})
        self._list(stream, query)

    def _list(self, stream: str, query: dict[str, list[str]]) -> None:
        def arg(name: str, default: int) -> int:
            return int(query.get(name, [default])[0])

        try:
            limit = min(MAX_LIMIT, arg("limit", arg("per_page", 100)))
            if "cursor" in query:
                offset = decode_cursor(query["cursor"][0])
            elif "page" in query:
                offset = (arg("page", 1) - 1) * limit
            else:
                offset = arg("offset", 0)
        except ValueError:
            return self._send(400, {"error": "bad pagination parameter"})
        encoded, updated = self.demo.encoded(stream)
        if "updated_since" in query:
            since = query["updated_since"][0].replace("+00:00", "Z")
            if not since.endswith("Z"):
                since = since + "Z" if len(since) == 19 else since
            import bisect

            start = bisect.bisect_right(updated, since)
            encoded = encoded[start:]
        total = len(encoded)
        window = encoded[offset : offset + limit]
        nxt = offset + limit if offset + limit < total else None
        host = f"http://{self.headers.get('Host', '127.0.0.1')}"
        keep = {
            k: v[0] for k, v in query.items() if k not in ("offset", "page", "cursor", "limit", "per_page")
        }
        next_url = (
            f"{host}/{stream}?{urlencode({**keep, 'offset': nxt, 'limit': limit})}"
            if nxt is not None
            else None
        )
        total_pages = max(1, -(-total // limit)) if limit else 1
        head = json.dumps(
            {
                "total": total,
                "total_pages": total_pages,
                "next_cursor": encode_cursor(nxt) if nxt is not None else None,
                "next": next_url,
            }
        )[:-1].encode()
        body = head + b',"items":[' + b",".join(window) + b"]}"
        headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
        headers["X-PageCount"] = str(total_pages)  # PAGE pagination by header (sourceSpec endPageIndex)
        headers["X-Total-Count"] = str(total)
        self._send(200, body, headers)

    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        raw = self._body()
        self.demo.requests.append(
            {
                "method": "POST",
                "path": path,
                "query": parts.query,
                "headers": dict(self.headers),
                "body": raw.decode("utf-8", "replace"),
            }
        )
        if path == "/_control/faults":
            spec = json.loads(raw or b"{}")
            self.demo.script(spec["path"], *spec.get("responses", []))
            return self._send(200, {"queued": len(spec.get("responses", []))})
        if path == "/_control/reset":
            self.demo.reset()
            return self._send(200, {"reset": True})
        if self._fault(path):
            return None
        if path == "/oauth/token":
            form = parse_qs(raw.decode())
            if self.demo.refresh_token and form.get("refresh_token", [None])[0] != self.demo.refresh_token:
                return self._send(400, {"error": "invalid_grant"})
            self.demo.tokens_issued += 1
            token = f"access-{self.demo.tokens_issued}"
            self.demo.api_key = token
            return self._send(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})
        if path.startswith("/ingest/"):
            if not self._authorised(query):
                return self._send(401, {"error": "invalid api key"})
            try:
                rows = json.loads(raw)
            except ValueError:
                return self._send(400, {"error": "body is not JSON"})
            rows = rows if isinstance(rows, list) else [rows]
            self.demo.ingested[path[len("/ingest/") :]].extend(rows)
            return self._send(200, {"written": len(rows)})
        self._send(404, {"error": f"no route POST {path}"})


def serve(records: int = 1000, port: int = 8765, api_key: str | None = None) -> None:  # pragma: no cover
    """Run the demo API in the foreground until interrupted (``cdk demo-api``)."""
    api = DemoAPI(records, api_key=api_key, port=port).start()
    print(
        f"demo API on {api.url} ({records} records per stream: {', '.join(api.counts)}); Ctrl-C stops",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()
