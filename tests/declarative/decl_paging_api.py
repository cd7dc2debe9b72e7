"""A local HTTP server on 127.0.0.1 for Link-header and body-parameter pagination.

Records are ``{"id": i}`` for i in 1..``records``; pages hold ``limit`` records (default 5).

* ``GET /link/<style>?limit=L[&after=N]`` — records after offset N; body ``{"items": [...], "more": bool}``;
  the next page is named only by the ``Link`` header, written per style:

  - ``absolute``: ``<http://127.0.0.1:PORT/link/absolute?after=N&limit=L>; rel="next"``
  - ``relative``: ``<absolute-path-less reference>``, resolved against the request URL (RFC 3986)
  - ``multi``: two ``Link`` headers; first/prev links with quoted titles holding ``;`` ``,`` ``=`` and ``<``;
    the next link's title (before its rel) holds them too; the link to the last page has ``rel="next last"``
  - ``always``: like ``absolute`` but the last page still links to a next (empty) page
  - ``hostile``: the second page announces the third on another host (``evil.example.com``)
  - ``loop``: the second page links back to the first page's URL
  - ``scheme``: the second page is announced as a ``file:`` URL

  The last page has no ``Link`` (except ``always``). A query parameter other than limit/after answers 400.
* ``POST /body`` — JSON body ``{"filter": "active", "paging": {"sort": "id", "size": L, "offset": N |
  "page": P | "after": "tN"}}``; 400 unless ``filter`` and ``paging.sort`` are there and the query string is
  empty (pagination must not leak into it). Body ``{"data": {"rows": [...]}, "more": bool,
  "total_pages": T, "next": "tN" | null}``.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.local_http import LocalAPI


class PagingAPI(LocalAPI):
    """The server; ``records`` is the record count, ``requests`` logs every request (method, path, query, body)."""

    def __init__(self, records: int = 23) -> None:
        self.records = records
        self.requests: list[dict[str, Any]] = []

    def reset(self, records: int = 23) -> PagingAPI:
        self.records = records
        self.requests.clear()
        return self


class _Handler(BaseHTTPRequestHandler):
    fake: PagingAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, links: list[str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for link in links or []:  # one Link header each: the client sees them joined with ", "
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(raw)

    def _rows(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        total = self.fake.records
        rows = [{"id": i} for i in range(offset + 1, min(offset + limit, total) + 1)]
        return rows, offset + limit < total

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        q = parse_qs(parts.query)
        self.fake.requests.append({"method": "GET", "path": parts.path, "query": parts.query})
        if not parts.path.startswith("/link/"):
            return self._send(404, {"error": "not found"})
        if set(q) - {"limit", "after"}:
            return self._send(400, {"error": f"unexpected query parameters {sorted(q)}"})
        style = parts.path.rsplit("/", 1)[1]
        limit, after = int(q.get("limit", ["5"])[0]), int(q.get("after", ["0"])[0])
        rows, more = self._rows(after, limit)
        nxt = after + limit
        host = f"http://127.0.0.1:{self.server.server_address[1]}"
        links: list[str] = []
        if style == "absolute" or (style == "always" and rows):
            if more or style == "always":
                links = [f'<{host}/link/{style}?after={nxt}&limit={limit}>; rel="next"']
        elif style == "relative" and more:
            links = [f'<relative?after={nxt}&limit={limit}>; rel="next"']
        elif style == "multi":
            links = [
                f'<{host}/link/multi?limit={limit}>; rel="first"; title="first; page, <one>"',
                f'<{host}/link/multi?after={max(after - limit, 0)}&limit={limit}>; title="a=b; c, <d>"; rel=prev',
            ]
            if more:
                rel = "next last" if nxt + limit >= self.fake.records else "next"
                links.append(f'</link/multi?after={nxt}&limit={limit}>; title="x=y; z, <w>"; rel="{rel}"')
        elif style == "hostile" and more:
            to = "evil.example.com" if after else f"127.0.0.1:{self.server.server_address[1]}"
            links = [f'<http://{to}/link/hostile?after={nxt}&limit={limit}>; rel="next"']
        elif style == "loop" and more:
            target = f"/link/loop?limit={limit}" if after else f"/link/loop?after={nxt}&limit={limit}"
            links = [f'<{target}>; rel="next"']
        elif style == "scheme" and more:
            links = ['<file:///etc/passwd>; rel="next"']
        self._send(200, {"items": rows, "more": more}, links)

    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.fake.requests.append({"method": "POST", "path": parts.path, "query": parts.query, "body": body})
        if parts.path != "/body":
            return self._send(404, {"error": "not found"})
        paging = body.get("paging") if isinstance(body, dict) else None
        if (
            parts.query
            or body.get("filter") != "active"
            or not isinstance(paging, dict)
            or "sort" not in paging
        ):
            return self._send(400, {"error": "want filter=active and paging.sort in the body, no query"})
        limit = int(paging.get("size", 5))
        if "page" in paging:
            offset = (int(paging["page"]) - 1) * limit
        elif "after" in paging:
            offset = int(str(paging["after"])[1:])
        else:
            offset = int(paging.get("offset", 0))
        rows, more = self._rows(offset, limit)
        self._send(
            200,
            {
                "data": {"rows": rows},
                "more": more,
                "total_pages": -(-self.fake.records // limit),
                "next": f"t{offset + limit}" if more else None,
            },
        )


PagingAPI.handler = _Handler  # defined below the class it serves
