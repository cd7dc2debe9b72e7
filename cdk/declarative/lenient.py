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


def load_spec_text(text: str, shown: str, *, line_offset: int = 0) -> tuple[Any, Finding | None]:
    """(data, warning or None). ``line_offset`` is subtracted from reported lines (text wrapped by the caller)."""

    def located(line: int, col: int, message: str) -> Finding:
        return Finding(file=shown, line=max(1, line - line_offset), column=max(0, col), message=message)

    try:
        return json.loads(text), None
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
        data = json5.loads(text)
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
