"""Pipeline expressions (``@{...}``) of the sourceSpec, parsed and evaluated without ``eval``.

The specification's Zendesk example puts an Azure Data Factory expression in ``urlParams.path``::

    /api/v2/search/export@{if(empty(coalesce(pipeline()?.parameters?.ingestionStart,'')),'?query=type:user&filter[type]=user&','')}

This module is the subset of that language cdk runs (docs/declarative.md lists it): a tokenizer and a
recursive-descent parser build a small tree; evaluating it only calls the functions of :data:`FUNCTIONS`.
Every failure — bad syntax, unknown function, wrong argument, a value too large — is an
:class:`~cdk.errors.ExpressionError` that names the place in the text (and in connector.yaml when the
caller gives the string's origin); nothing else escapes, whatever the input.

Templates: ``@{expr}`` is replaced by the value of ``expr``; a string that is exactly one ``@{expr}``
yields the value itself (a number stays a number); ``@@`` is a literal ``@``; any other ``@`` is text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cdk.errors import ExpressionError

#: nesting of calls/members deeper than this is refused (the parser is recursive)
MAX_DEPTH = 40
#: a string an expression builds may not grow past this (replace/concat could otherwise blow up memory)
MAX_TEXT = 1_000_000
MAX_NUMBER_DIGITS = 40


@dataclass(frozen=True)
class Origin:
    """Where a template string sits in a file: its first character's line (1-based) and column (0-based).

    ``quote`` is 1 when the value is written quoted in the file (the text starts one column later);
    ``single_line`` is False when the source spans lines, so columns past the start are not known.
    """

    file: str
    line: int
    column: int
    quote: int = 0
    single_line: bool = True

    def at(self, offset: int) -> tuple[int, int]:
        if not self.single_line:
            return self.line, self.column
        return self.line, self.column + self.quote + offset


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
# tokens

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<qdot>\?\.)
      | (?P<qbracket>\?\[)
      | (?P<punct>[().,\[\]\-])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _Failure(message: str, pos: int) -> ExpressionError:  # noqa: N802 - reads like the raise it is
    """An ExpressionError at ``pos`` of the expression text; the template adds the whole text and origin."""
    return ExpressionError(message, text="", offset=pos)


def _tokens(src: str, base: int) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(src):
        m = _TOKEN.match(src, i)
        if m is None:
            if src[i] == "'":
                raise _Failure("string literal is not closed (write '' for a quote inside it)", base + i)
            raise _Failure(f"unexpected character {src[i]!r}", base + i)
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(_Tok(kind, m.group(), base + i))
        i = m.end()
    out.append(_Tok("eof", "", base + len(src)))
    return out


class _Parser:
    """Recursive descent over the tokens: ``expr := primary ( '.' name | '?.' name | '[' expr ']' | '?[' expr ']' )*``."""

    def __init__(self, tokens: list[_Tok]) -> None:
        self.toks = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str, what: str) -> _Tok:
        tok = self.take()
        if tok.text != text or tok.kind == "string":
            found = "the end of the expression" if tok.kind == "eof" else repr(tok.text)
            raise _Failure(f"expected {what}, found {found}", tok.pos)
        return tok

    def parse(self) -> Node:
        node = self.expr()
        tok = self.peek()
        if tok.kind != "eof":
            raise _Failure(f"unexpected {tok.text!r} after the expression", tok.pos)
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Failure(f"expression nested more than {MAX_DEPTH} levels deep", self.peek().pos)
        node = self.primary()
        while True:
            tok = self.peek()
            if tok.kind in ("qdot", "punct") and tok.text in (".", "?."):
                self.take()
                name = self.take()
                if name.kind != "ident":
                    raise _Failure(f"expected a property name after {tok.text!r}", name.pos)
                node = Member(node, name.text, tok.kind == "qdot", tok.pos)
            elif tok.kind == "qbracket" or tok.text == "[":
                self.take()
                index = self.expr()
                self.expect("]", "']'")
                node = Index(node, index, tok.kind == "qbracket", tok.pos)
            else:
                break
        self.depth -= 1
        return node

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "string":
            return Literal(tok.text[1:-1].replace("''", "'"), tok.pos)
        if tok.kind == "number" or (tok.text == "-" and self.peek().kind == "number"):
            sign = 1
            if tok.text == "-":
                sign, tok = -1, self.take()
            if len(tok.text) > MAX_NUMBER_DIGITS:
                raise _Failure(f"number longer than {MAX_NUMBER_DIGITS} characters", tok.pos)
            if any(c in tok.text for c in ".eE"):
                value: Any = sign * float(tok.text)
            else:
                value = sign * int(tok.text)
            return Literal(value, tok.pos)
        if tok.kind == "ident":
            lowered = tok.text.lower()
            if self.peek().text != "(" or self.peek().kind != "punct":
                if tok.text in ("true", "false", "null"):
                    return Literal({"true": True, "false": False, "null": None}[tok.text], tok.pos)
                raise _Failure(
                    f"'{tok.text}' is not a value: write a function call such as {tok.text}(...), "
                    "a 'quoted string', a number, true, false or null",
                    tok.pos,
                )
            self.take()
            if lowered not in FUNCTIONS:
                raise _Failure(
                    f"unknown function '{tok.text}' (known: {', '.join(sorted(FUNCTION_NAMES.values(), key=str.lower))})",
                    tok.pos,
                )
            args: list[Node] = []
            if self.peek().text != ")" or self.peek().kind != "punct":
                args.append(self.expr())
                while self.peek().text == "," and self.peek().kind == "punct":
                    self.take()
                    args.append(self.expr())
            self.expect(")", "',' or ')'")
            low, high, _ = FUNCTIONS[lowered]
            if not low <= len(args) <= (high if high is not None else len(args)):
                want = (
                    f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
                )
                raise _Failure(
                    f"{FUNCTION_NAMES[lowered]}() takes {want} argument{'s' if want != '1' else ''}, "
                    f"{len(args)} given",
                    tok.pos,
                )
            return Call(lowered, tuple(args), tok.pos)
        found = "the end of the expression" if tok.kind == "eof" else repr(tok.text)
        raise _Failure(f"expected a value, found {found}", tok.pos)


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


def _evaluate(node: Node, ctx: Context) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Member):
        target = _evaluate(node.target, ctx)
        if target is None:
            if node.safe:
                return None
            raise _Failure(
                f"cannot read '{node.name}' of null (write ?.{node.name} to get null instead)", node.pos
            )
        if not isinstance(target, dict):
            raise _Failure(f"cannot read '{node.name}' of a {_kind(target)}", node.pos)
        if node.name in target:
            return target[node.name]
        if node.safe:
            return None
        known = ", ".join(sorted(map(str, target))) or "none"
        raise _Failure(f"no property '{node.name}' (known: {known}; ?.{node.name} gives null)", node.pos)
    if isinstance(node, Index):
        target = _evaluate(node.target, ctx)
        index = _evaluate(node.index, ctx)
        if target is None and node.safe:
            return None
        if isinstance(target, dict) and isinstance(index, str):
            if index in target:
                return target[index]
            if node.safe:
                return None
            raise _Failure(f"no property {index!r}", node.pos)
        if isinstance(target, list) and isinstance(index, int) and not isinstance(index, bool):
            if -len(target) <= index < len(target):
                return target[index]
            if node.safe:
                return None
            raise _Failure(f"index {index} is outside the array of {len(target)}", node.pos)
        raise _Failure(f"cannot index a {_kind(target)} with a {_kind(index)}", node.pos)
    # a call
    _, _, impl = FUNCTIONS[node.name]
    try:
        return impl(node, ctx)
    except ExpressionError:
        raise
    except (OverflowError, ValueError, ArithmeticError) as exc:
        raise _Failure(f"{FUNCTION_NAMES[node.name]}(): {exc}", node.pos) from None


def _args(node: Call, ctx: Context) -> list[Any]:
    return [_evaluate(a, ctx) for a in node.args]


def _bool(node: Call, value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise _Failure(
            f"{FUNCTION_NAMES[node.name]}() needs a boolean {what}, got {_kind(value)} {to_text(value)!r}",
            node.pos,
        )
    return value


def _text(node: Call, value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Failure(f"{FUNCTION_NAMES[node.name]}() needs a string {what}, got {_kind(value)}", node.pos)
    return value


def _bounded(node: Call, text: str) -> str:
    if len(text) > MAX_TEXT:
        raise _Failure(
            f"{FUNCTION_NAMES[node.name]}() would build a string over {MAX_TEXT} characters", node.pos
        )
    return text


def _fn_if(node: Call, ctx: Context) -> Any:
    cond = _bool(node, _evaluate(node.args[0], ctx), "condition")
    return _evaluate(node.args[1] if cond else node.args[2], ctx)


def _fn_empty(node: Call, ctx: Context) -> Any:
    (value,) = _args(node, ctx)
    if value is None:
        return True
    if isinstance(value, (str, list, dict)):
        return len(value) == 0
    return False


def _fn_coalesce(node: Call, ctx: Context) -> Any:
    for arg in node.args:
        value = _evaluate(arg, ctx)
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
    return not _bool(node, _evaluate(node.args[0], ctx), "argument")


def _fn_and(node: Call, ctx: Context) -> Any:
    return all(_bool(node, _evaluate(a, ctx), "argument") for a in node.args)


def _fn_or(node: Call, ctx: Context) -> Any:
    return any(_bool(node, _evaluate(a, ctx), "argument") for a in node.args)


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
        raise _Failure("replace() needs a non-empty text to find", node.pos)
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
        raise _Failure(
            f"{FUNCTION_NAMES[node.name]}() needs a timestamp string, got {_kind(value)}", node.pos
        )
    m = _INSTANT.match(value.strip())
    if m is None:
        raise _Failure(
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
        raise _Failure(f"{FUNCTION_NAMES[node.name]}(): {value[:60]!r}: {exc}", node.pos) from None
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
        raise _Failure("a date format longer than 200 characters", node.pos)
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
            raise _Failure(
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


# ---------------------------------------------------------------------------------------------
# templates


@dataclass(frozen=True)
class Expression:
    """One ``@{...}``: its tree and where it starts in the template (the ``@``)."""

    node: Node
    start: int
    source: str


@dataclass(frozen=True)
class Template:
    """A string split into literal text and expressions; :meth:`render` evaluates it."""

    text: str
    parts: tuple[str | Expression, ...]
    origin: Origin | None = None

    @property
    def dynamic(self) -> bool:
        return any(isinstance(p, Expression) for p in self.parts)

    @property
    def expressions(self) -> list[Expression]:
        return [p for p in self.parts if isinstance(p, Expression)]

    def render(self, ctx: Context) -> Any:
        """The value: the expression's own value for a lone ``@{expr}``, else the text with values interpolated."""
        try:
            if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
                return _evaluate(self.parts[0].node, ctx)
            out = []
            for part in self.parts:
                out.append(part if isinstance(part, str) else to_text(_evaluate(part.node, ctx)))
            text = "".join(out)
        except ExpressionError as failure:
            raise _error(self.text, failure, self.origin) from None
        except RecursionError:
            raise _error(self.text, _Failure("expression too deeply nested", 0), self.origin) from None
        if len(text) > MAX_TEXT:
            raise _error(self.text, _Failure(f"the result is over {MAX_TEXT} characters", 0), self.origin)
        return text


def _error(text: str, failure: ExpressionError, origin: Origin | None) -> ExpressionError:
    line = column = None
    file = None
    if origin is not None:
        file = origin.file
        line, column = origin.at(failure.offset)
    return ExpressionError(
        failure.reason, text=text, offset=failure.offset, file=file, line=line, column=column
    )


def has_expression(text: str) -> bool:
    """True when ``text`` holds ``@{`` or ``@@`` (so it must go through :func:`parse_template`)."""
    return "@{" in text or "@@" in text


def _closing(text: str, start: int) -> int:
    """Index of the ``}`` that ends the expression opened at ``start`` (braces inside 'strings' do not count)."""
    i = start
    quoted = False
    while i < len(text):
        c = text[i]
        if c == "'":
            quoted = not quoted  # '' inside a string toggles twice: still inside
        elif c == "}" and not quoted:
            return i
        i += 1
    if quoted:
        raise _Failure("string literal is not closed (write '' for a quote inside it)", start)
    raise _Failure("'@{' is not closed by '}'", start - 2)


def parse_template(text: str, origin: Origin | None = None) -> Template:
    """Split ``text`` into literals and parsed expressions; raises ExpressionError at the offending place."""
    parts: list[str | Expression] = []
    buf: list[str] = []
    i = 0
    try:
        while i < len(text):
            if text.startswith("@@", i):
                buf.append("@")
                i += 2
            elif text.startswith("@{", i):
                end = _closing(text, i + 2)
                source = text[i + 2 : end]
                if not source.strip():
                    raise _Failure("empty expression '@{}'", i)
                node = _Parser(_tokens(source, i + 2)).parse()
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(Expression(node, i, source))
                i = end + 1
            else:
                buf.append(text[i])
                i += 1
    except ExpressionError as failure:
        raise _error(text, failure, origin) from None
    except RecursionError:
        raise _error(text, _Failure("expression too deeply nested", 0), origin) from None
    if buf or not parts:
        parts.append("".join(buf))
    return Template(text, tuple(parts), origin)


def render_template(text: str, ctx: Context, origin: Origin | None = None) -> Any:
    """Parse and render in one step (strings without ``@`` come back unchanged)."""
    if not has_expression(text):
        return text
    return parse_template(text, origin).render(ctx)


def parameter_names(template: Template) -> list[tuple[str, bool, int]]:
    """``pipeline().parameters.NAME`` uses: (name, accessed null-safely, offset) for the validator."""
    out: list[tuple[str, bool, int]] = []

    def walk(node: Node) -> None:
        if isinstance(node, Member):
            inner = node.target
            if (
                isinstance(inner, Member)
                and inner.name == "parameters"
                and isinstance(inner.target, Call)
                and inner.target.name == "pipeline"
            ):
                out.append((node.name, node.safe, node.pos))
            walk(node.target)
        elif isinstance(node, Index):
            walk(node.target)
            walk(node.index)
        elif isinstance(node, Call):
            for a in node.args:
                walk(a)

    for expr in template.expressions:
        walk(expr.node)
    return out


def evaluate_all(
    value: Any, ctx: Context, origins: Callable[[Sequence[Any]], Origin | None], path: tuple[Any, ...] = ()
) -> Any:
    """``value`` (a JSON-like request part) with every template string rendered; keys are rendered too."""
    if isinstance(value, str):
        if not has_expression(value):
            return value
        return parse_template(value, origins(path)).render(ctx)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = to_text(render_template(k, ctx, origins(path + (k,)))) if isinstance(k, str) else k
            out[key] = evaluate_all(v, ctx, origins, path + (k,))
        return out
    if isinstance(value, list):
        return [evaluate_all(v, ctx, origins, path + (i,)) for i, v in enumerate(value)]
    return value


__all__ = [
    "FUNCTIONS",
    "FUNCTION_NAMES",
    "Context",
    "Expression",
    "Origin",
    "Template",
    "evaluate_all",
    "has_expression",
    "parameter_names",
    "parse_template",
    "render_template",
    "to_text",
]
