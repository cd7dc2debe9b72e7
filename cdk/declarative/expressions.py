"""Pipeline expressions (``@{...}``) of the sourceSpec, parsed and evaluated without ``eval``.

The specification's Zendesk example puts an Azure Data Factory expression in ``urlParams.path``::

    /api/v2/search/export@{if(empty(coalesce(pipeline()?.parameters?.ingestionStart,'')),'?query=type:user&filter[type]=user&','')}

This module is the subset of that language cdk runs (docs/declarative.md lists it): a tokenizer and a
recursive-descent parser build a small tree (:mod:`cdk.declarative.expr_eval` evaluates it, calling only
the functions of its ``FUNCTIONS`` table).
Every failure — bad syntax, unknown function, wrong argument, a value too large — is an
:class:`~cdk.errors.ExpressionError` that names the place in the text (and in connector.yaml when the
caller gives the string's origin); nothing else escapes, whatever the input.

Templates: ``@{expr}`` is replaced by the value of ``expr``; a string that is exactly one ``@{expr}``
yields the value itself (a number stays a number); ``@@`` is a literal ``@``; any other ``@`` is text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cdk.declarative.expr_eval import (
    FUNCTION_NAMES,
    FUNCTIONS,
    MAX_TEXT,
    Call,
    Context,
    Index,
    Literal,
    Member,
    Node,
    evaluate,
    fail,
    to_text,
)
from cdk.errors import ExpressionError

#: nesting of calls/members deeper than this is refused (the parser is recursive)
MAX_DEPTH = 40
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


def _tokens(src: str, base: int) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(src):
        m = _TOKEN.match(src, i)
        if m is None:
            if src[i] == "'":
                raise fail("string literal is not closed (write '' for a quote inside it)", base + i)
            raise fail(f"unexpected character {src[i]!r}", base + i)
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
            raise fail(f"expected {what}, found {found}", tok.pos)
        return tok

    def parse(self) -> Node:
        node = self.expr()
        tok = self.peek()
        if tok.kind != "eof":
            raise fail(f"unexpected {tok.text!r} after the expression", tok.pos)
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise fail(f"expression nested more than {MAX_DEPTH} levels deep", self.peek().pos)
        node = self.primary()
        while True:
            tok = self.peek()
            if tok.kind in ("qdot", "punct") and tok.text in (".", "?."):
                self.take()
                name = self.take()
                if name.kind != "ident":
                    raise fail(f"expected a property name after {tok.text!r}", name.pos)
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
                raise fail(f"number longer than {MAX_NUMBER_DIGITS} characters", tok.pos)
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
                raise fail(
                    f"'{tok.text}' is not a value: write a function call such as {tok.text}(...), "
                    "a 'quoted string', a number, true, false or null",
                    tok.pos,
                )
            self.take()
            if lowered not in FUNCTIONS:
                raise fail(
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
                raise fail(
                    f"{FUNCTION_NAMES[lowered]}() takes {want} argument{'s' if want != '1' else ''}, "
                    f"{len(args)} given",
                    tok.pos,
                )
            return Call(lowered, tuple(args), tok.pos)
        found = "the end of the expression" if tok.kind == "eof" else repr(tok.text)
        raise fail(f"expected a value, found {found}", tok.pos)


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
                return evaluate(self.parts[0].node, ctx)
            out = []
            for part in self.parts:
                out.append(part if isinstance(part, str) else to_text(evaluate(part.node, ctx)))
            text = "".join(out)
        except ExpressionError as failure:
            raise _error(self.text, failure, self.origin) from None
        except RecursionError:
            raise _error(self.text, fail("expression too deeply nested", 0), self.origin) from None
        if len(text) > MAX_TEXT:
            raise _error(self.text, fail(f"the result is over {MAX_TEXT} characters", 0), self.origin)
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
        raise fail("string literal is not closed (write '' for a quote inside it)", start)
    raise fail("'@{' is not closed by '}'", start - 2)


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
                    raise fail("empty expression '@{}'", i)
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
        raise _error(text, fail("expression too deeply nested", 0), origin) from None
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
