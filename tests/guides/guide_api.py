"""An imitation of the API the Python source guide's examples talk to: every shape they expect at once.

``GET /<stream>`` pages by ``page``+``limit``/``per_page``, ``offset``+``limit``, ``cursor``+``limit`` or
``after``+``limit``, filters by ``updated_since``, and answers ``{"items", "data", "total_pages",
"next_cursor", "pagination": {"next_cursor"}}``. Also ``/health``, ``/ping``, ``/count``,
``/<stream>/count``. With ``api_key`` set, data endpoints want ``X-API-Key`` (and a valid
``X-Signature`` when ``signing_secret`` is set) or ``Authorization: Bearer``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.local_http import LocalAPI

BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)


def record(stream: str, i: int) -> dict[str, Any]:
    return {
        "id": i,
        "stream": stream,
        "type": ("click", "view")[i % 2],
        "updated_at": (BASE + timedelta(minutes=i)).isoformat(),
    }


class GuideAPI(LocalAPI):
    def __init__(self, counts: dict[str, int] | None = None, *, api_key: str | None = None) -> None:
        self.counts = counts or {"users": 95, "orders": 42, "products": 7}
        self.api_key = api_key
        self.signing_secret: str | None = None
        self.requests: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    fake: GuideAPI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _authorised(self) -> bool:
        key = self.fake.api_key
        if key is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {key}":
            return True
        if self.headers.get("X-API-Key") != key:
            return False
        if self.fake.signing_secret:
            want = hmac.new(self.fake.signing_secret.encode(), self.path.encode(), hashlib.sha256).hexdigest()
            return self.headers.get("X-Signature") == want
        return True

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.fake.requests.append({"path": parts.path, "query": q, "headers": dict(self.headers)})
        path = parts.path.strip("/")
        if path in ("health", "ping"):
            return self._send(200 if self._authorised() else 401, {"ok": True})
        if not self._authorised():
            return self._send(401, {"error": "invalid credentials"})
        if path == "count":
            return self._send(200, {"total": sum(self.fake.counts.values())})
        if path.endswith("/count") and path[:-6] in self.fake.counts:
            return self._send(200, {"total": self.fake.counts[path[:-6]]})
        if path not in self.fake.counts:
            return self._send(404, {"error": f"no stream {path}"})
        rows = [record(path, i) for i in range(1, self.fake.counts[path] + 1)]
        if "updated_since" in q:
            since = datetime.fromisoformat(q["updated_since"])
            rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) > since]
        limit = int(q.get("limit", q.get("per_page", 100)))
        if "page" in q:
            offset = (int(q["page"]) - 1) * limit
        elif "cursor" in q or "after" in q:
            offset = int(q.get("cursor", q.get("after", "0")).removeprefix("c"))
        else:
            offset = int(q.get("offset", 0))
        window = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        nxt = f"c{offset + limit}" if more else None
        self._send(
            200,
            {
                "items": window,
                "data": window,
                "total_pages": max(1, -(-len(rows) // limit)),
                "next_cursor": nxt,
                "pagination": {"next_cursor": nxt},
            },
        )


GuideAPI.handler = _Handler  # defined below the class it serves
