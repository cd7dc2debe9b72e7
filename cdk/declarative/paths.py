"""JSONPaths of a sourceSpec, compiled once (RFC 9535 via python-jsonpath), with a fast path for plain names.

Most sourceSpec paths are chains of member names (``$.members``, ``$.meta.after_cursor``,
``$['page-info'].next``). Those are resolved by plain dict lookups — the per-record explode path runs
once per record, and a general JSONPath evaluation costs ~15 µs — and need no import of the library
(whose import costs ~0.1 s of every run's start). Any other query is compiled by the library, in strict
RFC 9535 mode. ``cdk validate`` compiles every path with the library.
"""

from __future__ import annotations

import re
from typing import Any

_MISSING = object()
_NAME = r"(?:\.([A-Za-z_][A-Za-z0-9_]*)|\['([^'\\]*)'\]|\[\"([^\"\\]*)\"\])"
_SIMPLE_RE = re.compile(rf"^\$(?:{_NAME})*$")
_NAME_RE = re.compile(_NAME)


def normalise(path: str) -> str:
    """The specification writes some paths without the root (``paging.next``); RFC 9535 wants ``$``."""
    path = path.strip()
    if path.startswith("$"):
        return path
    return "$." + path if not path.startswith("[") else "$" + path


class CompiledPath:
    """One compiled JSONPath: ``first(doc)``, ``all(doc)``, and ``names`` when it is a plain name chain."""

    __slots__ = ("text", "query", "names")

    def __init__(self, text: str, *, library: bool = False) -> None:
        self.text = text
        path = normalise(text)
        self.query: Any = None
        self.names: tuple[str, ...] | None = None
        if not library and _SIMPLE_RE.match(path):
            self.names = tuple(a or b or c for a, b, c in _NAME_RE.findall(path))
        else:
            import jsonpath

            self.query = jsonpath.compile(path, strict=True)
            self.names = _name_chain(self.query)

    def all(self, doc: Any) -> list[Any]:
        if self.names is not None:
            value = self._walk(doc)
            return [] if value is _MISSING else [value]
        found: list[Any] = self.query.findall(doc)
        return found

    def first(self, doc: Any, default: Any = None) -> Any:
        if self.names is not None:
            value = self._walk(doc)
            return default if value is _MISSING else value
        found = self.query.findall(doc)
        return found[0] if found else default

    def _walk(self, doc: Any) -> Any:
        for name in self.names or ():
            if not isinstance(doc, dict):
                return _MISSING
            doc = doc.get(name, _MISSING)
            if doc is _MISSING:
                return _MISSING
        return doc

    @property
    def last_name(self) -> str | None:
        return self.names[-1] if self.names else None


def _name_chain(query: Any) -> tuple[str, ...] | None:
    segments = getattr(query, "segments", None)
    if segments is None:
        return None
    names = []
    for segment in segments:
        if type(segment).__name__ != "JSONPathChildSegment" or len(segment.selectors) != 1:
            return None
        selector = segment.selectors[0]
        if type(selector).__name__ != "NameSelector":
            return None
        names.append(selector.name)
    return tuple(names)


def compile_path(text: str, *, library: bool = False) -> CompiledPath:
    """Compile ``text``; raises ValueError with the library's message (position included) when it does not parse.

    ``library=True`` always parses with python-jsonpath (validation does, so every path is checked by it).
    """
    if not library and _SIMPLE_RE.match(normalise(text)):
        return CompiledPath(text)
    from jsonpath.exceptions import JSONPathError

    try:
        return CompiledPath(text, library=True)
    except JSONPathError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"JSONPath {text!r} does not parse: {first}") from None


__all__ = ["CompiledPath", "compile_path", "normalise"]
