"""Evaluation of parsed pipeline expressions: the tree, the context and the functions cdk implements.

:mod:`cdk.declarative.expressions` parses ``@{...}`` into the nodes defined here; :func:`evaluate` walks
them. Functions get their argument *nodes*, so ``if``, ``coalesce``, ``and`` and ``or`` evaluate only what
they need. Every failure is an :class:`~cdk.errors.ExpressionError` at the offset of the node at fault;
errors Python raises for extreme values (overflowing dates, ...) are turned into one as well.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cdk.errors import ExpressionError

#: a string an expression builds may not grow past this (replace/concat could otherwise blow up memory)
MAX_TEXT = 1_000_000


def fail(message: str, pos: int) -> ExpressionError:
    """An ExpressionError at ``pos`` of the expression text; the template adds the whole text and origin."""
    return ExpressionError(message, text="", offset=pos)


# ---------------------------------------------------------------------------------------------
# the tree


@dataclass(frozen=True)
class Literal:
    value: Any
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Member:
    target: Node
    name: str
    safe: bool
    pos: int


@dataclass(frozen=True)
class Index:
    target: Node
    index: Node
    safe: bool
    pos: int


Node = Literal | Call | Member | Index


# ---------------------------------------------------------------------------------------------
# evaluation


@dataclass
class Context:
    """What an expression can see: ``pipeline().parameters`` and the evaluation time (``utcnow()``)."""

    parameters: dict[str, Any] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def to_text(value: Any) -> str:
    """A value as interpolated text: null is empty, booleans are ``true``/``false``, lists/objects JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        str: "string",
        int: "integer",
        float: "number",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def evaluate(node: Node, ctx: Context) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Member):
        target = evaluate(node.target, ctx)
        if target is None:
            if node.safe:
                return None
            raise fail(
                f"cannot read '{node.name}' of null (write ?.{node.name} to get null instead)", node.pos
            )
        if not isinstance(target, dict):
            raise fail(f"cannot read '{node.name}' of a {_kind(target)}", node.pos)
        if node.name in target:
            return target[node.name]
        if node.safe:
            return None
        known = ", ".join(sorted(map(str, target))) or "none"
        raise fail(f"no property '{node.name}' (known: {known}; ?.{node.name} gives null)", node.pos)
    if isinstance(node, Index):
        target = evaluate(node.target, ctx)
        index = evaluate(node.index, ctx)
        if target is None and node.safe:
            return None
        if isinstance(target, dict) and isinstance(index, str):
            if index in target:
                return target[index]
            if node.safe:
                return None
            raise fail(f"no property {index!r}", node.pos)
        if isinstance(target, list) and isinstance(index, int) and not isinstance(index, bool):
            if -len(target) <= index < len(target):
                return target[index]
            if node.safe:
                return None
            raise fail(f"index {index} is outside the array of {len(target)}", node.pos)
        raise fail(f"cannot index a {_kind(target)} with a {_kind(index)}", node.pos)
    # a call
    _, _, impl = FUNCTIONS[node.name]
    try:
        return impl(node, ctx)
    except ExpressionError:
        raise
    except (OverflowError, ValueError, ArithmeticError) as exc:
        raise fail(f"{FUNCTION_NAMES[node.name]}(): {exc}", node.pos) from None


def _args(node: Call, ctx: Context) -> list[Any]:
    return [evaluate(a, ctx) for a in node.args]


def _bool(node: Call, value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise fail(
            f"{FUNCTION_NAMES[node.name]}() needs a boolean {what}, got {_kind(value)} {to_text(value)!r}",
            node.pos,
        )
    return value


def _text(node: Call, value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise fail(f"{FUNCTION_NAMES[node.name]}() needs a string {what}, got {_kind(value)}", node.pos)
    return value


def _bounded(node: Call, text: str) -> str:
    if len(text) > MAX_TEXT:
        raise fail(f"{FUNCTION_NAMES[node.name]}() would build a string over {MAX_TEXT} characters", node.pos)
    return text


def _fn_if(node: Call, ctx: Context) -> Any:
    cond = _bool(node, evaluate(node.args[0], ctx), "condition")
    return evaluate(node.args[1] if cond else node.args[2], ctx)


def _fn_empty(node: Call, ctx: Context) -> Any:
    (value,) = _args(node, ctx)
    if value is None:
        return True
    if isinstance(value, (str, list, dict)):
        return len(value) == 0
    return False


def _fn_coalesce(node: Call, ctx: Context) -> Any:
    for arg in node.args:
        value = evaluate(arg, ctx)
        if value is not None:
            return value
    return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _fn_equals(node: Call, ctx: Context) -> Any:
    a, b = _args(node, ctx)
    return _same(a, b)


def _fn_not(node: Call, ctx: Context) -> Any:
    return not _bool(node, evaluate(node.args[0], ctx), "argument")


def _fn_and(node: Call, ctx: Context) -> Any:
    return all(_bool(node, evaluate(a, ctx), "argument") for a in node.args)


def _fn_or(node: Call, ctx: Context) -> Any:
    return any(_bool(node, evaluate(a, ctx), "argument") for a in node.args)


def _fn_concat(node: Call, ctx: Context) -> Any:
    total = 0
    parts = []
    for value in _args(node, ctx):
        part = to_text(value)
        total += len(part)
        if total > MAX_TEXT:
            _bounded(node, "x" * (MAX_TEXT + 1))
        parts.append(part)
    return "".join(parts)


def _fn_replace(node: Call, ctx: Context) -> Any:
    text, old, new = _args(node, ctx)
    text, old, new = _text(node, text, "text"), _text(node, old, "old text"), _text(node, new, "new text")
    if not old:
        raise fail("replace() needs a non-empty text to find", node.pos)
    if new and len(text) // len(old) * len(new) > MAX_TEXT:
        _bounded(node, "x" * (MAX_TEXT + 1))
    return _bounded(node, text.replace(old, new))


def _fn_lower(node: Call, ctx: Context) -> Any:
    return _text(node, _args(node, ctx)[0], "argument").lower()


def _fn_upper(node: Call, ctx: Context) -> Any:
    return _text(node, _args(node, ctx)[0], "argument").upper()


# -- dates


_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.:](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)
#: .NET standard formats (one letter); every other format string is custom (docs/declarative.md)
STANDARD_FORMATS = {
    "o": "yyyy-MM-ddTHH:mm:ss.fffffffK",
    "O": "yyyy-MM-ddTHH:mm:ss.fffffffK",
    "s": "yyyy-MM-ddTHH:mm:ss",
    "u": "yyyy-MM-dd HH:mm:ssZ",
}


def parse_instant(node: Call, value: Any) -> datetime:
    """An ISO 8601 timestamp (``2024-01-05T10:00:00Z``, 7-digit fractions, offsets, a bare date) as UTC."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise fail(f"{FUNCTION_NAMES[node.name]}() needs a timestamp string, got {_kind(value)}", node.pos)
    m = _INSTANT.match(value.strip())
    if m is None:
        raise fail(
            f"{FUNCTION_NAMES[node.name]}(): {value[:60]!r} is not an ISO 8601 timestamp such as 2024-01-05T10:00:00Z",
            node.pos,
        )
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        t = datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, tzinfo=timezone.utc
        )
    except ValueError as exc:
        raise fail(f"{FUNCTION_NAMES[node.name]}(): {value[:60]!r}: {exc}", node.pos) from None
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        t -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return t


def format_instant(node: Call, t: datetime, fmt: Any) -> str:
    from cdk.declarative.timefmt import compile_format

    if fmt is None:
        fmt = "o"
    fmt = _text(node, fmt, "format")
    if len(fmt) > 200:
        raise fail("a date format longer than 200 characters", node.pos)
    return compile_format(STANDARD_FORMATS.get(fmt, fmt))(t)


def _fn_utcnow(node: Call, ctx: Context) -> Any:
    args = _args(node, ctx)
    return format_instant(node, ctx.now, args[0] if args else None)


def _fn_format(node: Call, ctx: Context) -> Any:
    args = _args(node, ctx)
    return format_instant(node, parse_instant(node, args[0]), args[1] if len(args) > 1 else None)


def _adder(unit: str) -> Callable[[Call, Context], Any]:
    def add(node: Call, ctx: Context) -> Any:
        args = _args(node, ctx)
        t = parse_instant(node, args[0])
        amount = args[1]
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise fail(
                f"{FUNCTION_NAMES[node.name]}() needs a number of {unit}, got {_kind(amount)}", node.pos
            )
        return format_instant(node, t + timedelta(**{unit: amount}), args[2] if len(args) > 2 else None)

    return add


def _fn_pipeline(node: Call, ctx: Context) -> Any:
    return {"parameters": dict(ctx.parameters)}


#: lower-case name -> (least arguments, most arguments or None, implementation)
FUNCTIONS: dict[str, tuple[int, int | None, Callable[[Call, Context], Any]]] = {
    "if": (3, 3, _fn_if),
    "empty": (1, 1, _fn_empty),
    "coalesce": (1, None, _fn_coalesce),
    "equals": (2, 2, _fn_equals),
    "not": (1, 1, _fn_not),
    "and": (2, None, _fn_and),
    "or": (2, None, _fn_or),
    "concat": (1, None, _fn_concat),
    "replace": (3, 3, _fn_replace),
    "tolower": (1, 1, _fn_lower),
    "toupper": (1, 1, _fn_upper),
    "utcnow": (0, 1, _fn_utcnow),
    "formatdatetime": (1, 2, _fn_format),
    "adddays": (2, 3, _adder("days")),
    "addhours": (2, 3, _adder("hours")),
    "pipeline": (0, 0, _fn_pipeline),
}
#: lower-case name -> the documented spelling (names are matched case-insensitively, as ADF does)
FUNCTION_NAMES = {
    "if": "if",
    "empty": "empty",
    "coalesce": "coalesce",
    "equals": "equals",
    "not": "not",
    "and": "and",
    "or": "or",
    "concat": "concat",
    "replace": "replace",
    "tolower": "toLower",
    "toupper": "toUpper",
    "utcnow": "utcnow",
    "formatdatetime": "formatDateTime",
    "adddays": "addDays",
    "addhours": "addHours",
    "pipeline": "pipeline",
}


__all__ = [
    "FUNCTIONS",
    "FUNCTION_NAMES",
    "MAX_TEXT",
    "Call",
    "Context",
    "Index",
    "Literal",
    "Member",
    "Node",
    "evaluate",
    "fail",
    "to_text",
]
