"""Local HTTP servers shaped like the APIs of seed 003's examples (Mailchimp, Zendesk), on 127.0.0.1.

* ``GET /3.0/lists/<list>/members?count&offset[&since_last_changed&before_last_changed]`` — Mailchimp
  members: ``{"members": [...], "list_id", "total_items", "_links"}``; the schedule parameters must be in
  seed 003's format ``yyyy-MM-ddTHH:mm:ss:fffffffK`` or the server answers 400.
  With ``mailchimp_key`` set, Mailchimp's HTTP Basic auth is required (any user name, the key as password).
* ``GET /3.0/lists/<list>/merge-fields?count`` — Mailchimp's field metadata: ``{"merge_fields": [{"tag",
  "name", "type", "required"}, ...]}`` (``merge_fields`` below; members carry them under ``merge_fields``).
* ``GET /3.0/reports/<campaign>/email-activity?count&offset[&since_last_changed&before_last_changed]`` —
  ``{"emails": [{...[, "last_changed"], "activity": [...]}], "campaign_id", ...}``; the campaign id is the
  URL-unescaped path segment; with ``email_times`` emails carry ``last_changed`` (email i: BASE + i h).
* ``GET /3.0/campaigns?count&offset`` — ``{"campaigns": [{"id", "title", "create_time"}], "total_items"}`` (``since_create_time`` filters): the parent of
  the email-activity child stream. ``campaign_ids`` lists the ids (one holds a space and a slash, so a
  path that did not escape it would miss); ``hold`` blocks one request path until released.
* ``GET /api/v2/search/export.json?query&page[size]&page[after]`` — Zendesk export: continuation token at
  ``meta.after_cursor``, ``meta.has_more``; the token may come as the ``X-After`` header instead.
* ``POST /search`` — JSON body ``{"filter": ..., "offset": N}``; records in ``data.rows``.
* ``GET /api/v2/search/export`` — the Zendesk search export as seed 003 writes the path (no ``.json``): every
  ``query`` parameter's ``updated > T`` / ``updated < T`` filters the users, records are copies of
  ``zendesk_item`` (seed 003's response example, when the test sets it), ``meta.after_cursor`` paginates.
* ``GET /catalog`` — one endpoint for seed 003's pagination examples: ``pageSize``+``pageNumber`` (PAGE,
  from 1, ``x-pagecount`` header), ``limit``+``offset`` (OFFSET, ``hasMore``), ``limit`` alone or
  ``cursor`` (POINTER: ``paging.next`` is an absolute URL), nothing (NONE: every item).
* ``GET /loop`` — a broken API whose pointer always names the same next page.
* ``GET /stuck`` — a broken API that ignores pagination parameters and serves the same page forever.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.local_http import LocalAPI

BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
MC_FORMAT = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d):(\d{7})Z$")


#: Mailchimp's merge fields of a list (its types: text, number, address, phone, date, url, imageurl,
#: radio, dropdown, birthday, zip); ``members`` carry their values under ``merge_fields``
MERGE_FIELDS: list[dict[str, Any]] = [
    {"tag": "FNAME", "name": "First Name", "type": "text", "required": False},
    {"tag": "AGE", "name": "Age", "type": "number", "required": False},
    {"tag": "ADDRESS", "name": "Address", "type": "address", "required": False},
    {"tag": "SIGNUP", "name": "Signed up", "type": "date", "required": True},
]


def member(list_id: str, i: int) -> dict[str, Any]:
    changed = BASE + timedelta(hours=i)
    return {
        "id": f"m{i:05d}",
        "email_address": f"m{i}@example.com",
        "status": "subscribed",
        "list_id": list_id,
        "merge_fields": {
            "FNAME": f"Name{i}",
            "AGE": 20 + i % 50,
            "ADDRESS": {"addr1": f"{i} Main St", "city": "Springfield", "zip": "12345"} if i % 3 else "",
            "SIGNUP": changed.strftime("%Y-%m-%d"),
        },
        "last_changed": changed.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "_links": [{"rel": "self", "href": f"/lists/{list_id}/members/m{i:05d}"}],
    }


def parse_mc(value: str) -> datetime:
    m = MC_FORMAT.match(value)
    if not m:
        raise ValueError(value)
    y, mo, d, h, mi, s, frac = m.groups()
    return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), int(frac[:6]), tzinfo=timezone.utc)


class FakeAPIs(LocalAPI):
    """The server; ``members``/``emails``/``users`` are record counts. ``requests`` logs every request."""

    def __init__(
        self,
        members: int = 250,
        emails: int = 7,
        users: int = 23,
        rows: int = 12,
        catalog: int = 10,
        campaigns: int = 5,
    ) -> None:
        self.members = members
        self.emails = emails
        self.campaign_ids = [f"c{i}" for i in range(1, campaigns)] + [f"c {campaigns}/x"][:campaigns]
        #: (path, query substring, event): that request waits for the event (a crash test kills meanwhile)
        self.hold: tuple[str, str, threading.Event] | None = None
        self.email_times = False  #: emails carry last_changed (and the schedule filters apply)
        self.delay = 0.0  #: seconds every GET waits before answering (a crash test kills meanwhile)
        self.users = users
        self.rows = rows
        self.mailchimp_key: str | None = None  # set: Mailchimp's Basic auth is required
        self.merge_fields = list(MERGE_FIELDS)
        self.catalog = catalog
        self.zendesk_item: dict[str, Any] = {"id": 0, "name": "", "email": ""}
        self.requests: list[dict[str, Any]] = []

    def queries(self, path_prefix: str) -> list[dict[str, list[str]]]:
        return [parse_qs(r["query"]) for r in self.requests if r["path"].startswith(path_prefix)]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAPIs
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

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        q = parse_qs(parts.query)
        self.fake.requests.append(
            {"method": "GET", "path": parts.path, "query": parts.query, "headers": dict(self.headers)}
        )
        if parts.path.startswith("/3.0/") and not self._mailchimp_auth():
            return self._send(401, {"title": "API Key Missing", "status": 401})
        m = re.fullmatch(r"/3\.0/lists/([^/]+)/members", parts.path)
        if m:
            return self._members(m.group(1), q)
        if re.fullmatch(r"/3\.0/lists/([^/]+)/merge-fields", parts.path):
            count = int(q.get("count", ["10"])[0])  # Mailchimp's default page of 10
            fields = self.fake.merge_fields
            return self._send(200, {"merge_fields": fields[:count], "total_items": len(fields)})
        if self.fake.delay:
            time.sleep(self.fake.delay)
        hold = self.fake.hold
        if hold is not None and parts.path == hold[0] and hold[1] in parts.query:
            hold[2].wait(60)
        m = re.fullmatch(r"/3\.0/reports/([^/]+)/email-activity", parts.path)
        if m:
            return self._emails(unquote(m.group(1)), q)
        if parts.path == "/3.0/campaigns":
            return self._campaigns(q)
        if parts.path == "/api/v2/search/export.json":
            return self._export(q)
        if parts.path == "/api/v2/search/export":
            return self._search_export(q)
        if parts.path == "/catalog":
            return self._catalog(q)
        if parts.path == "/stuck":  # ignores every pagination parameter
            return self._send(200, {"items": [{"id": 1}, {"id": 2}], "more": True})
        if parts.path == "/loop":
            return self._send(200, {"items": [{"id": 1}], "paging": {"next": "/loop?again=1"}})
        self._send(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.fake.requests.append(
            {
                "method": "POST",
                "path": parts.path,
                "query": parts.query,
                "headers": dict(self.headers),
                "body": body,
            }
        )
        if parts.path != "/search":
            return self._send(404, {"error": "not found"})
        q = parse_qs(parts.query)
        offset, limit = int(q.get("offset", ["0"])[0]), int(q.get("limit", ["5"])[0])
        rows = [{"id": i, "kind": body.get("filter")} for i in range(1, self.fake.rows + 1)][
            offset : offset + limit
        ]
        self._send(200, {"data": {"rows": rows}, "more": offset + limit < self.fake.rows})

    # -- Mailchimp ----------------------------------------------------------------------------------
    def _mailchimp_auth(self) -> bool:
        if self.fake.mailchimp_key is None:
            return True
        import base64

        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return False
        _, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return password == self.fake.mailchimp_key

    def _members(self, list_id: str, q: dict[str, list[str]]) -> None:
        count, offset = int(q.get("count", ["10"])[0]), int(q.get("offset", ["0"])[0])
        items = [member(list_id, i) for i in range(1, self.fake.members + 1)]
        try:
            if "since_last_changed" in q:
                since = parse_mc(q["since_last_changed"][0])
                items = [x for x in items if datetime.fromisoformat(x["last_changed"]) > since]
            if "before_last_changed" in q:
                before = parse_mc(q["before_last_changed"][0])
                items = [x for x in items if datetime.fromisoformat(x["last_changed"]) < before]
        except ValueError as exc:
            return self._send(400, {"title": "Invalid Resource", "detail": f"bad date format {exc}"})
        page = items[offset : offset + count]
        self._send(
            200, {"members": page, "list_id": list_id, "total_items": len(items), "_links": [{"rel": "self"}]}
        )

    def _campaigns(self, q: dict[str, list[str]]) -> None:
        count, offset = int(q.get("count", ["10"])[0]), int(q.get("offset", ["0"])[0])
        campaigns = [
            {"id": c, "title": f"campaign {c}", "create_time": (BASE + timedelta(days=n)).isoformat()}
            for n, c in enumerate(self.fake.campaign_ids)
        ]
        if "since_create_time" in q:  # yyyy-MM-ddTHH:mm:ssZ
            since = datetime.fromisoformat(q["since_create_time"][0].replace("Z", "+00:00"))
            campaigns = [c for c in campaigns if datetime.fromisoformat(c["create_time"]) > since]
        self._send(200, {"campaigns": campaigns[offset : offset + count], "total_items": len(campaigns)})

    def _emails(self, campaign: str, q: dict[str, list[str]]) -> None:
        count, offset = int(q.get("count", ["10"])[0]), int(q.get("offset", ["0"])[0])
        emails = [
            {
                "campaign_id": campaign,
                "list_id": "L1",
                "email_id": f"e{i}",
                "email_address": f"e{i}@example.com",
                **(
                    {"last_changed": (BASE + timedelta(hours=i)).isoformat()} if self.fake.email_times else {}
                ),
                "activity": [
                    {"action": a, "timestamp": f"2024-01-0{1 + i % 9}T00:00:0{j}Z"}
                    for j, a in enumerate(("open", "click")[: 1 + i % 2])
                ],
            }
            for i in range(1, self.fake.emails + 1)
        ]
        try:
            if "since_last_changed" in q and self.fake.email_times:
                since = parse_mc(q["since_last_changed"][0])
                emails = [x for x in emails if datetime.fromisoformat(str(x["last_changed"])) > since]
            if "before_last_changed" in q and self.fake.email_times:
                before = parse_mc(q["before_last_changed"][0])
                emails = [x for x in emails if datetime.fromisoformat(str(x["last_changed"])) < before]
        except ValueError as exc:
            return self._send(400, {"title": "Invalid Resource", "detail": f"bad date format {exc}"})
        self._send(
            200,
            {
                "emails": emails[offset : offset + count],
                "campaign_id": campaign,
                "total_items": len(emails),
                "_links": [],
            },
        )

    # -- Zendesk ------------------------------------------------------------------------------------
    def _export(self, q: dict[str, list[str]]) -> None:
        size = int(q.get("page[size]", ["5"])[0])
        after = q.get("page[after]", [None])[0] or self.headers.get("X-After")
        start = int(after[1:]) if after else 0
        users = [
            {
                "id": i,
                "name": f"user{i}",
                "updated_at": (BASE + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for i in range(1, self.fake.users + 1)
        ]
        page = users[start : start + size]
        more = start + size < len(users)
        # like the seed's example: the last page still carries an after_cursor, with has_more false
        self._send(
            200,
            {
                "results": page,
                "facets": None,
                "meta": {"has_more": more, "after_cursor": f"c{start + size}", "before_cursor": None},
            },
        )

    def _search_export(self, q: dict[str, list[str]]) -> None:
        """Zendesk's export: each ``query`` value may bound ``updated``; 10 users a page."""
        users = []
        for i in range(1, self.fake.users + 1):
            uid = int(self.fake.zendesk_item.get("id") or 0) + i
            users.append(
                {
                    **self.fake.zendesk_item,
                    "id": uid,
                    "url": f"https://dev.zendesk.com/api/v2/users/{uid}.json",
                    "name": f"user{i}@zenaep.com",
                    "email": f"user{i}@zenaep.com",
                    "updated_at": (BASE + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
        for query in q.get("query", []):
            for op, stamp in re.findall(r"updated ([<>]) (\S+)", query):
                try:
                    bound = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                except ValueError:
                    return self._send(400, {"error": f"bad time {stamp!r} in query {query!r}"})
                users = [
                    u
                    for u in users
                    if (datetime.fromisoformat(u["updated_at"].replace("Z", "+00:00")) > bound) == (op == ">")
                ]
        after = q.get("page[after]", [None])[0]
        start = int(after[1:]) if after else 0
        page = users[start : start + 10]
        self._send(
            200,
            {
                "results": page,
                "facets": None,
                "meta": {
                    "has_more": start + 10 < len(users),
                    "after_cursor": f"c{start + 10}" if page else None,
                    "before_cursor": None,
                },
                "links": {"prev": None, "next": None},
            },
        )

    def _catalog(self, q: dict[str, list[str]]) -> None:
        items = [{"id": i, "name": f"item{i}"} for i in range(1, self.fake.catalog + 1)]
        n = len(items)
        if "pageNumber" in q:
            size, page = int(q["pageSize"][0]), int(q["pageNumber"][0])
            start = (page - 1) * size  # pages count from 1
            pages = -(-n // size)
            return self._send(200, {"items": items[start : start + size]}, {"x-pagecount": str(pages)})
        if "offset" in q:
            limit, offset = int(q["limit"][0]), int(q["offset"][0])
            return self._send(200, {"items": items[offset : offset + limit], "hasMore": offset + limit < n})
        if "limit" in q or "cursor" in q:
            limit, cursor = int(q.get("limit", ["1"])[0]), int(q.get("cursor", ["0"])[0])
            more = cursor + limit < n
            host = self.headers.get("Host")
            nxt = f"http://{host}/catalog?cursor={cursor + limit}&limit={limit}" if more else None
            return self._send(200, {"items": items[cursor : cursor + limit], "paging": {"next": nxt}})
        self._send(200, {"items": items})


FakeAPIs.handler = _Handler  # defined below the class it serves
