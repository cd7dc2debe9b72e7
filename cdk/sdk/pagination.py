"""Reusable paginators for ``AbstractSource.get``.

Each paginator answers two questions: which request parameters fetch the page described by
``pagination`` (:meth:`request`), and what ``next_pagination`` follows a response (:meth:`next`; ``{}``
ends the read). A source's ``get`` then stays a few lines::

    pager = OffsetPaginator(limit=100)

    def get(self, pagination=None):
        url, params = pager.request(f"{self.config.api_url}/users", pagination)
        response = self.session.get(url, params=params)
        items = response.json()["items"]
        records = [SourceRecord(id=str(i["id"]), data=i) for i in items]
        return SourceIteration(records, pager.next(pagination, response, items))
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import requests

_TOKEN_END = frozenset(' \t;,="')


def dig(body: Any, path: str | None) -> Any:
    """Value at a dotted path (``pagination.next_cursor``) in a JSON body; None when absent."""
    if not path:
        return None
    node = body
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """The links of an RFC 8288 ``Link`` header value as (URI reference, params), in order.

    Follows the parsing algorithm of RFC 8288 appendix B.2: quoted-string values may hold ``;``, ``,``
    and ``=`` (``requests.utils.parse_header_links`` splits inside them and then drops the ``rel``), a
    parameter given twice keeps its first value, names are lowercased. Several ``Link`` headers arrive
    joined with ``,`` and parse as one list. A value with no ``<`` gives no link.
    """
    links: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(value)
    while i < n:
        start = value.find("<", i)
        if start < 0:
            break
        end = value.find(">", start + 1)
        if end < 0:
            break
        target = value[start + 1 : end].strip()
        params: dict[str, str] = {}
        i = end + 1
        while i < n:
            while i < n and value[i] in " \t":
                i += 1
            if i >= n or value[i] == ",":
                i += 1
                break
            if value[i] != ";":  # junk between params: skip to the next separator
                i += 1
                continue
            i += 1
            while i < n and value[i] in " \t":
                i += 1
            j = i
            while j < n and value[j] not in _TOKEN_END:
                j += 1
            name = value[i:j].lower()
            i = j
            while i < n and value[i] in " \t":
                i += 1
            param = ""
            if i < n and value[i] == "=":
                i += 1
                while i < n and value[i] in " \t":
                    i += 1
                if i < n and value[i] == '"':
                    i += 1
                    chars = []
                    while i < n and value[i] != '"':
                        if value[i] == "\\" and i + 1 < n:
                            i += 1
                        chars.append(value[i])
                        i += 1
                    i += 1  # the closing quote
                    param = "".join(chars)
                else:
                    j = i
                    while j < n and value[j] not in " \t;,":
                        j += 1
                    param, i = value[i:j], j
            if name and name not in params:
                params[name] = param
        links.append((target, params))
    return links


def link_with_rel(value: str | None, rel: str = "next", *, base: str | None = None) -> str | None:
    """The target of the first link whose ``rel`` (a space-separated list, case-insensitive) holds ``rel``.

    A relative reference is resolved against ``base`` (the URL of the response, RFC 8288 section 3.2).
    """
    if not value:
        return None
    wanted = rel.lower()
    for target, params in parse_link_header(value):
        if wanted in params.get("rel", "").lower().split():
            return urljoin(base, target) if base else target
    return None


class Paginator:
    """Base: subclasses define :meth:`request` and :meth:`next`."""

    def request(self, url: str, pagination: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def next(
        self, pagination: dict[str, Any] | None, response: requests.Response, items: list[Any]
    ) -> dict[str, Any]:
        raise NotImplementedError


class OffsetPaginator(Paginator):
    """``?offset=N&limit=L``; stops on a short page (or at ``total_path`` when the body gives a total)."""

    def __init__(
        self,
        limit: int = 100,
        *,
        offset_param: str = "offset",
        limit_param: str = "limit",
        total_path: str | None = None,
    ) -> None:
        self.limit, self.offset_param, self.limit_param, self.total_path = (
            limit,
            offset_param,
            limit_param,
            total_path,
        )

    def request(self, url: str, pagination: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        offset = int((pagination or {}).get("offset", 0))
        return url, {self.offset_param: offset, self.limit_param: self.limit}

    def next(
        self, pagination: dict[str, Any] | None, response: requests.Response, items: list[Any]
    ) -> dict[str, Any]:
        offset = int((pagination or {}).get("offset", 0)) + len(items)
        if len(items) < self.limit or not items:
            return {}
        if self.total_path:
            total = dig(response.json(), self.total_path)
            if total is not None and offset >= int(total):
                return {}
        return {"offset": offset}


class PagePaginator(Paginator):
    """``?page=N&per_page=L`` from ``start``; stops on a short page or past ``total_pages_path``."""

    def __init__(
        self,
        per_page: int = 100,
        *,
        page_param: str = "page",
        size_param: str = "per_page",
        start: int = 1,
        total_pages_path: str | None = None,
    ) -> None:
        self.per_page, self.page_param, self.size_param = per_page, page_param, size_param
        self.start, self.total_pages_path = start, total_pages_path

    def request(self, url: str, pagination: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        page = int((pagination or {}).get("page", self.start))
        return url, {self.page_param: page, self.size_param: self.per_page}

    def next(
        self, pagination: dict[str, Any] | None, response: requests.Response, items: list[Any]
    ) -> dict[str, Any]:
        page = int((pagination or {}).get("page", self.start))
        if not items:
            return {}
        if self.total_pages_path:
            total = dig(response.json(), self.total_pages_path)
            if total is not None and page - self.start + 1 >= int(total):
                return {}
        elif len(items) < self.per_page:
            return {}
        return {"page": page + 1}


class CursorPaginator(Paginator):
    """A next-page token in the body (``cursor_path``) sent back as ``cursor_param``; absent or empty ends."""

    def __init__(
        self,
        cursor_path: str = "next_cursor",
        *,
        cursor_param: str = "cursor",
        limit: int | None = None,
        limit_param: str = "limit",
    ) -> None:
        self.cursor_path, self.cursor_param, self.limit, self.limit_param = (
            cursor_path,
            cursor_param,
            limit,
            limit_param,
        )

    def request(self, url: str, pagination: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {}
        if self.limit:
            params[self.limit_param] = self.limit
        cursor = (pagination or {}).get("cursor")
        if cursor:
            params[self.cursor_param] = cursor
        return url, params

    def next(
        self, pagination: dict[str, Any] | None, response: requests.Response, items: list[Any]
    ) -> dict[str, Any]:
        cursor = dig(response.json(), self.cursor_path)
        return {"cursor": cursor} if cursor and items else {}


class NextUrlPaginator(Paginator):
    """The body holds the full URL of the next page (``next_path``); it is requested as is."""

    def __init__(self, next_path: str = "next", *, first_params: dict[str, Any] | None = None) -> None:
        self.next_path, self.first_params = next_path, dict(first_params or {})

    def request(self, url: str, pagination: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        nxt = (pagination or {}).get("url")
        return (nxt, {}) if nxt else (url, dict(self.first_params))

    def next(
        self, pagination: dict[str, Any] | None, response: requests.Response, items: list[Any]
    ) -> dict[str, Any]:
        nxt = dig(response.json(), self.next_path)
        return {"url": nxt} if nxt and items else {}


class LinkHeaderPaginator(NextUrlPaginator):
    """RFC 8288 ``Link: <...>; rel="next"`` (GitHub style)."""

    def __init__(self, *, first_params: dict[str, Any] | None = None, rel: str = "next") -> None:
        super().__init__(first_params=first_params)
        self.rel = rel

    def next(
        self, pagination: dict[str, Any] | None, response: requests.Response, items: list[Any]
    ) -> dict[str, Any]:
        nxt = link_with_rel(response.headers.get("Link"), self.rel, base=response.url)
        return {"url": nxt} if nxt and items else {}
