"""Small AST helpers shared by the suites (the connector's code is only parsed, never imported)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def docstring_ids(tree: ast.AST) -> set[int]:
    """ids of the Constant nodes that are docstrings (module, class, function)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                out.add(id(body[0].value))
    return out


def iter_strings(tree: ast.AST) -> Iterator[ast.Constant]:
    """Every str constant that is not a docstring."""
    skip = docstring_ids(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> what it stands for: ``import a.b as x`` gives x -> a.b, ``from g import open`` gives open -> g.open."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    out[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def resolve(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted name an expression refers to, following import aliases (``gz.open`` -> ``gzip.open``)."""
    name = dotted(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head in aliases:
        return aliases[head] + ("." + rest if rest else "")
    return name


def attr_position(node: ast.Attribute) -> tuple[int, int]:
    """Line and column of the attribute name itself (``x.__globals__`` points at ``__globals__``)."""
    line = node.end_lineno or node.lineno
    col = (node.end_col_offset or 0) - len(node.attr)
    return line, max(col, 0)


def literal_value(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def module_of(root: Path, path: Path) -> str:
    """Dotted module name of ``path`` inside ``root`` (``src/`` layouts understood)."""
    rel = Path(path).resolve().relative_to(root)
    parts = list(rel.with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def find_key_line(text: str, key: str) -> tuple[int, int]:
    """First line (1-based) and column where ``key`` appears in ``text``; (1, 0) if absent."""
    for i, line in enumerate(text.splitlines(), 1):
        col = line.find(key)
        if col >= 0:
            return i, col
    return 1, 0
