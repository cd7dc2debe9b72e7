"""Local imitations (127.0.0.1) of real APIs' pagination shapes, for connectors written from the docs.

* GitHub: ``GET /user/repos?per_page=N[&page=P]`` (repos ``{id, name, full_name, owner: {login}}``) and
  ``GET /repos/OWNER/NAME/issues?per_page=N[&page=P][&since=ISO]`` (a JSON array); the next page is in one
  ``Link`` header with ``rel="next"``, ``rel="last"``, ``rel="first"`` and ``rel="prev"``. Repo paths
  must have two segments: ``/repos/a%2Fb/issues`` answers 404 as GitHub does. ``repos_dupes`` makes the
  repo on page 1 appear again on page 2 (a list that moved under the read).
* Stripe: ``GET /v1/customers?limit=N[&starting_after=ID]`` -> ``{"object": "list", "data": [...],
  "has_more": bool}``.
* Shopify: ``GET /admin/orders.json?limit=N&status=any`` on the first page; later pages are
  ``?limit=N&page_info=TOKEN`` only: any other parameter beside page_info answers 400, as Shopify does.
* Elasticsearch: ``POST /idx/_search`` body ``{"query": {"range": {"ts": {"gt" | "gte", "lt"}}}, "from": F, "size": S}``
  (the range is applied; ``/idx/_search`` answers 429/500 as ``fail`` lists, once each) -> ``{"hits": {"total":
  {"value": T}, "hits": [{"_id", "_source"}]}}``; Algolia-like ``POST /1/indexes/i/query`` body ``{"params":
  ..., "page": P, "hitsPerPage": H}`` -> ``{"hits": [...], "page": P, "nbPages": N}``.
* HubSpot: ``GET /crm/v3/objects/contacts?limit=N[&after=TOKEN]`` -> ``{"results": [...], "paging":
  {"next": {"after": TOKEN, "link": ...}}}`` (no ``paging`` on the last page).

Every request is logged in ``requests`` as (method, path, query dict, headers dict, body).
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.local_http import LocalAPI

REPOS = [
    {"id": 1, "name": "hello", "full_name": "octo/hello", "owner": {"login": "octo"}},
    {"id": 2, "name": "empty", "full_name": "octo/empty", "owner": {"login": "octo"}},
    {"id": 3, "name": "world", "full_name": "cat/world", "owner": {"login": "cat"}},
]


def issues_of(full_name: str) -> list[dict[str, Any]]:
    """``hello``: 5 issues, ``world``: 3, ``empty``: none; updated_at rises with the number."""
    count = {"octo/hello": 5, "cat/world": 3}.get(full_name, 0)
    return [
        {"id": f"{full_name}#{n}", "number": n, "updated_at": f"2024-01-0{n}T00:00:00Z"}
        for n in range(1, count + 1)
    ]


CUSTOMERS = [{"id": f"cus_{i:03d}", "object": "customer"} for i in range(1, 8)]
ORDERS = [{"id": 100 + i} for i in range(7)]
DOCS = [{"_id": f"d{i}", "_source": {"n": i, "ts": f"2024-01-{i + 1:02d}T00:00:00Z"}} for i in range(11)]
CONTACTS = [{"id": str(500 + i), "properties": {}} for i in range(9)]


class RealAPIs(LocalAPI):
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]], dict[str, str], Any]] = []
        self.repos = list(REPOS)
        self.repos_dupes = False
        self.delay = 0.0  # seconds each answer waits (crash tests kill a reader mid-request)
        self.docs = list(DOCS)
        self.grow = False  # each search from 0 after the first adds a newer document (data that moves on)

    def reset(self) -> RealAPIs:
        self.requests.clear()
        self.repos = list(REPOS)
        self.repos_dupes = False
        self.delay = 0.0
        self.docs = list(DOCS)
        self.grow = False
        return self

    def paths(self, prefix: str = "") -> list[str]:
        return [
            p + ("?" + urlencode(q, doseq=True) if q else "")
            for _, p, q, _, _ in self.requests
            if p.startswith(prefix)
        ]


class _Handler(BaseHTTPRequestHandler):
    fake: RealAPIs
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _log(self, body: Any = None) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        q = parse_qs(parts.query, keep_blank_values=True)
        self.fake.requests.append(
            ("POST" if body is not None else "GET", parts.path, q, dict(self.headers), body)
        )
        return parts.path, q

    def _github_page(self, path: str, q: dict[str, list[str]], items: list[Any]) -> None:
        per_page = int(q.get("per_page", ["30"])[0])
        page = int(q.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        base = f"http://{self.headers['Host']}{path}"
        extra = {k: v[0] for k, v in q.items() if k not in ("page", "per_page")}

        def link(p: int, rel: str) -> str:
            return f'<{base}?{urlencode({**extra, "per_page": per_page, "page": p})}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        self._send(200, chunk, {"Link": ", ".join(links)} if links else None)

    def do_GET(self) -> None:  # noqa: N802
        path, q = self._log()
        if self.fake.delay:
            time.sleep(self.fake.delay)
        if path == "/user/repos":
            repos = self.fake.repos
            if self.fake.repos_dupes:  # page 2 starts with page 1's last repo again
                per_page = int(q.get("per_page", ["30"])[0])
                repos = repos[:per_page] + repos[per_page - 1 :]
            return self._github_page(path, q, repos)
        if path.startswith("/repos/") and path.endswith("/issues"):
            segments = path.split("/")
            if len(segments) != 5 or "%" in path:
                return self._send(404, {"message": "Not Found"})
            items = issues_of(f"{segments[2]}/{segments[3]}")
            if "since" in q:
                items = [i for i in items if i["updated_at"] >= q["since"][0]]
            return self._github_page(path, q, items)
        if path == "/v1/customers":
            limit = int(q.get("limit", ["10"])[0])
            after = q.get("starting_after", [None])[0]
            start = 0 if after is None else [c["id"] for c in CUSTOMERS].index(after) + 1
            chunk = CUSTOMERS[start : start + limit]
            return self._send(
                200, {"object": "list", "data": chunk, "has_more": start + limit < len(CUSTOMERS)}
            )
        if path == "/admin/orders.json":
            if "page_info" in q:
                if set(q) - {"page_info", "limit"}:
                    return self._send(400, {"errors": f"page_info cannot be combined with {sorted(set(q))}"})
                start = int(q["page_info"][0].removeprefix("tok"))
            else:
                if q.get("status") != ["any"]:
                    return self._send(400, {"errors": "status=any expected on the first page"})
                start = 0
            limit = int(q["limit"][0])
            chunk = ORDERS[start : start + limit]
            headers = {}
            if start + limit < len(ORDERS):
                nxt = f"http://{self.headers['Host']}{path}?limit={limit}&page_info=tok{start + limit}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return self._send(200, {"orders": chunk}, headers)
        if path == "/crm/v3/properties/contacts":  # HubSpot's property list: the metadata of contacts
            fields = [
                {"name": "email", "type": "string", "label": "Email"},
                {"name": "age", "type": "number"},
            ]
            return self._send(200, {"results": fields})
        if path == "/crm/v3/objects/contacts":
            limit = int(q.get("limit", ["10"])[0])
            start = int(q["after"][0]) - 500 if "after" in q else 0
            chunk = CONTACTS[start : start + limit]
            body: dict[str, Any] = {"results": chunk}
            if start + limit < len(CONTACTS):
                after = str(500 + start + limit)
                body["paging"] = {"next": {"after": after, "link": f"{self.fake.url}{path}?after={after}"}}
            return self._send(200, body)
        self._send(404, {"message": "Not Found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"null")
        path, q = self._log(body)
        if q:
            return self._send(400, {"error": "no query string expected"})
        if path == "/idx/_search":
            start, size = body["from"], body["size"]
            if self.fake.grow and start == 0 and any(p == path for _, p, *_ in self.fake.requests[:-1]):
                n = len(self.fake.docs)
                self.fake.docs.append(
                    {"_id": f"d{n}", "_source": {"n": n, "ts": f"2024-02-{n:02d}T00:00:00Z"}}
                )
            window = ((body.get("query") or {}).get("range") or {}).get("ts") or {}
            docs = [
                d
                for d in self.fake.docs
                if (window.get("gte") is None or d["_source"]["ts"] >= window["gte"])
                and (window.get("gt") is None or d["_source"]["ts"] > window["gt"])
                and (window.get("lt") is None or d["_source"]["ts"] < window["lt"])
            ]
            hits = docs[start : start + size]
            return self._send(200, {"took": 1, "hits": {"total": {"value": len(DOCS)}, "hits": hits}})
        if path == "/crm/v3/objects/contacts/search":  # HubSpot search: the cursor goes in the body
            limit = body["limit"]
            start = int(body["after"]) - 500 if body.get("after") else 0
            chunk = CONTACTS[start : start + limit]
            out: dict[str, Any] = {"total": len(CONTACTS), "results": chunk}
            if start + limit < len(CONTACTS):
                out["paging"] = {"next": {"after": str(500 + start + limit)}}
            return self._send(200, out)
        if path == "/1/indexes/i/query":
            page, per = body["page"], body["hitsPerPage"]
            hits = [{"objectID": d["_id"]} for d in DOCS[page * per : (page + 1) * per]]
            return self._send(200, {"hits": hits, "page": page, "nbPages": -(-len(DOCS) // per)})
        self._send(404, {"message": "Not Found"})


RealAPIs.handler = _Handler  # defined below the class it serves
