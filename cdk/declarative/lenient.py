"""Specification JSON as users paste it: strict JSON first, then JSON5 (trailing commas, comments) with a warning.

The examples of the declarative REST source specification are printed with trailing commas; a user who
copies one gets a file ``json.loads`` refuses. :func:`load_spec_text` reads such a file with the
maintained ``json5`` reader, but never silently: the returned warning names the line and column of the
first construct strict JSON refuses (found from ``json.JSONDecodeError``'s position). Input that even
JSON5 refuses — or that is hostile: nesting that exhausts the parser, integers past Python's digit
limit — is a located :class:`~cdk.errors.InputError`, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from cdk.errors import InputError
from cdk.findings import Finding

MAX_DEPTH = 200


def _construct(text: str, pos: int) -> tuple[int, str]:
    """(position, name) of the non-strict construct near the strict parser's error position."""
    if text.startswith(("//", "/*"), pos):
        return pos, "a comment"
    if text[pos : pos + 1] == "'":
        return pos, "a single-quoted string"
    if text[pos : pos + 1] in ("}", "]", '"') or pos >= len(text):
        back = pos - 1
        while back >= 0 and text[back] in " \t\r\n":
            back -= 1
        if back >= 0 and text[back] == ",":
            return back, "a trailing comma"
    return pos, "syntax JSON does not allow (JSON5)"


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1)


def _depth(text: str) -> int:
    """Deepest bracket nesting outside strings (a cheap guard before the recursive JSON5 parser)."""
    depth = deepest = 0
    quote = ""
    escaped = False
    for c in text:
        if quote:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


class _Refusals:
    """The parsers' hooks: a duplicate key or NaN/Infinity is noted (kind, name) and stops the parse."""

    def __init__(self) -> None:
        self.kind = self.name = ""

    def _stop(self, kind: str, name: str) -> InputError:
        self.kind, self.name = kind, name
        return InputError(f"{kind}: {name}")

    def pairs(self, pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise self._stop("duplicate", key)
            out[key] = value
        return out

    def constant(self, name: str) -> Any:
        raise self._stop("constant", name)


_WORD_RE = re.compile(r"[A-Za-z_$][\w$]*")
_SPACE = " \t\r\n"


def _key_name(token: str) -> str:
    try:
        import json5

        return str(json5.loads(token))
    except ValueError:
        return token[1:-1]


def _locate(text: str, refused: _Refusals) -> int:
    """Where the refused duplicate key (its second occurrence in one object) or constant is in ``text``."""
    stack: list[set[str] | None] = []  # per open container: the keys seen (None for an array)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        word = _WORD_RE.match(text, i) if not (c.isdigit() or c in "\"'") else None
        if c in "\"'" or word is not None:
            start = i
            if word is not None:
                name, i = word.group(), word.end()
            else:
                j = i + 1
                while j < n and text[j] != c:
                    j += 2 if text[j] == "\\" else 1
                name, i = _key_name(text[start : j + 1]), j + 1
            k = i
            while k < n and text[k] in _SPACE:
                k += 1
            keys = stack[-1] if stack else None
            if k < n and text[k] == ":" and keys is not None:
                if refused.kind == "duplicate" and name in keys:
                    return start
                keys.add(name)
            elif refused.kind == "constant" and word is not None and name in ("NaN", "Infinity"):
                return start - 1 if start and text[start - 1] in "+-" else start
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            if c in "{[":
                stack.append(set() if c == "{" else None)
            elif c in "}]" and stack:
                stack.pop()
            i += 1
            while i < n and (text[i].isalnum() and c.isalnum()):  # the rest of a number (1e5, 0x1F)
                i += 1
    return 0


def load_spec_text(text: str, shown: str, *, line_offset: int = 0) -> tuple[Any, Finding | None]:
    """(data, warning or None). ``line_offset`` is subtracted from reported lines (text wrapped by the caller).

    A key twice in one object (JSON keeps the last silently; cdk's YAML refuses it) and NaN or Infinity
    (no JSON value: written to connector.yaml or a schema it would be ``.nan`` or invalid JSON) are refused.
    """

    def located(line: int, col: int, message: str) -> Finding:
        return Finding(file=shown, line=max(1, line - line_offset), column=max(0, col), message=message)

    hooks = _Refusals()

    def refused(exc: _Refusals) -> InputError:
        line, col = _line_col(text, _locate(text, exc))
        if exc.kind == "duplicate":
            message = f"the key {exc.name!r} appears twice in one object (which one is meant?)"
            hint = "keep one of them"
        else:
            message = f"{exc.name} is not a number a connector can hold (JSON has no NaN or Infinity)"
            hint = "write a number or a string instead"
        problem = located(line, col, message)
        return InputError(str(problem), problem=problem, hint=hint)

    try:
        return json.loads(text, object_pairs_hook=hooks.pairs, parse_constant=hooks.constant), None
    except InputError:
        raise refused(hooks) from None
    except json.JSONDecodeError as exc:
        strict = exc
    except RecursionError:
        problem = located(1, 0, f"not readable JSON: nested more than {MAX_DEPTH} levels deep")
        raise InputError(str(problem), problem=problem) from None
    except ValueError as exc:
        problem = located(1, 0, f"not readable JSON: {exc}")
        raise InputError(str(problem), problem=problem) from None

    def refuse(message: str) -> InputError:
        problem = located(strict.lineno, strict.colno - 1, message)
        return InputError(
            str(problem),
            problem=problem,
            hint="trailing commas and comments are accepted (JSON5); this is not: fix the JSON",
        )

    if _depth(text) > MAX_DEPTH:
        raise refuse(f"not readable JSON: nested more than {MAX_DEPTH} levels deep")
    import json5

    try:
        data = json5.loads(text, object_pairs_hook=hooks.pairs, parse_constant=hooks.constant)
    except InputError:
        raise refused(hooks) from None
    except (ValueError, RecursionError, OverflowError, TypeError, IndexError):
        raise refuse(f"not valid JSON: {strict.msg}") from None
    pos, what = _construct(text, strict.pos)
    line, col = _line_col(text, pos)
    return data, located(
        line,
        col,
        f"not strict JSON: {what} (read as JSON5; the first such construct is here, there may be more)",
    )


__all__ = ["load_spec_text"]
