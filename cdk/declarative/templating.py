"""Pipeline expressions applied to a stream's request: where they are written, what they see, their findings.

The engine evaluates the ``@{...}`` templates of ``urlParams`` (host, path, queryParams), ``headerParams``
and ``bodyParams`` on every page, before it fills ``${}`` placeholders, with the parameters of the run
(:func:`run_parameters`). The validator parses the same strings without running them (:func:`check_stream`).
Both place an expression at its line and column in connector.yaml through :func:`stream_origins`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from cdk.declarative.expressions import Origin, has_expression, parameter_names, parse_template
from cdk.errors import ExpressionError

if TYPE_CHECKING:
    from cdk.declarative.spec import DeclarativeSpec, StreamSpec
    from cdk.project import Project

#: the run's own parameters; they win over config fields of the same name
RUN_PARAMETERS = ("ingestionStart", "ingestionEnd")
#: the request parts that may hold expressions, by their path in a stream's params
PARTS: dict[str, tuple[str, ...]] = {
    "host": ("urlParams", "host"),
    "path": ("urlParams", "path"),
    "queryParams": ("urlParams", "queryParams"),
    "headerParams": ("headerParams",),
    "bodyParams": ("bodyParams",),
}

OriginMap = dict[tuple[Any, ...], Origin]


def request_parts(spec: StreamSpec) -> dict[str, Any]:
    """The request parts of a stream as written (before expressions and placeholders)."""
    url = spec.urlParams
    return {
        "host": url.host,
        "path": url.path,
        "queryParams": url.queryParams,
        "headerParams": spec.headerParams,
        "bodyParams": spec.bodyParams,
    }


def template_strings(spec: StreamSpec) -> list[tuple[tuple[Any, ...], str, bool]]:
    """(params path, text, is a key) of every string (and mapping key) of the request holding ``@{`` or ``@@``."""
    out: list[tuple[tuple[Any, ...], str, bool]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, str):
            if has_expression(value):
                out.append((path, value, False))
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and has_expression(k):
                    out.append(((*path, k), k, True))
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    for part, where in PARTS.items():
        walk(request_parts(spec)[part], where)
    return out


def _instant(t: datetime | None) -> str | None:
    if t is None:
        return None
    t = t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
    return t.isoformat().replace("+00:00", "Z")


def run_parameters(
    config_values: dict[str, Any], start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """``pipeline().parameters``: the config's values, then ``ingestionStart``/``ingestionEnd`` (ISO 8601, UTC).

    ``ingestionStart`` is null for a full refresh (no window start); on an incremental read it is the
    cursor reached by the previous run, the same instant the schedule's start parameter sends.
    """
    params = {k: v for k, v in config_values.items() if k not in ("authentication",)}
    params["ingestionStart"] = _instant(start)
    params["ingestionEnd"] = _instant(end)
    return params


# ---------------------------------------------------------------------------------------------
# where each string is written


def stream_origins(project: Project, spec: DeclarativeSpec) -> dict[str, OriginMap]:
    """For each stream, the origin in connector.yaml of every request string that holds an expression."""
    from cdk.declarative.checks import _Locator

    loc = _Locator(project)
    try:
        lines = project.manifest_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    out: dict[str, OriginMap] = {}
    for name, stream in spec.streams.items():
        origins: OriginMap = {}
        for path, text, is_key in template_strings(stream):
            origins[path] = _origin(loc, lines, name, path, text, is_key)
        out[name] = origins
    return out


def _origin(
    loc: Any, lines: list[str], stream: str, path: tuple[Any, ...], text: str, is_key: bool
) -> Origin:
    candidates = [("declarative", "streams", stream, *path)]
    candidates += [(*b, *path) for b in loc.bases] + [("declarative", "defaults", *path)]
    table = loc.positions.keys if is_key else loc.positions.values
    found = next((table[c] for c in candidates if c in table), None)
    if found is None:
        line, col = loc.at(stream, path)
        return Origin(loc.file, line, col, single_line=False)
    line, col = found
    raw = lines[line - 1] if 0 < line <= len(lines) else ""
    quote = 1 if raw[col : col + 1] in ("'", '"') else 0
    exact = raw[col + quote : col + quote + len(text)] == text
    return Origin(loc.file, line, col, quote=quote, single_line=exact)


def origin_lookup(origins: OriginMap | None) -> Callable[[Sequence[Any]], Origin | None]:
    """A function params-path -> origin for :func:`cdk.declarative.expressions.evaluate_all`."""
    table = origins or {}
    return lambda path: table.get(tuple(path))


# ---------------------------------------------------------------------------------------------
# validation


def check_stream(
    stream_name: str,
    stream: StreamSpec,
    origins: OriginMap,
    config_names: set[str] | None,
    add_at: Callable[[str, int, int, str, str], None],
) -> None:
    """Parse every expression of the stream; report syntax errors and unknown functions (R007) and
    ``pipeline().parameters.X`` that no config property or run parameter provides (R004), each at its
    line and column. ``add_at(rule, line, column, message, hint)`` records one finding."""
    for path, text, _ in template_strings(stream):
        origin = origins.get(path)
        where = ".".join(map(str, path))
        try:
            template = parse_template(text, origin)
        except ExpressionError as exc:
            line, col = (exc.line, exc.column) if exc.line is not None and exc.column is not None else (1, 0)
            add_at(
                "R007",
                line,
                col,
                f"{where}: {exc.reason}",
                "docs/declarative.md lists the functions and syntax of pipeline expressions",
            )
            continue
        if config_names is None:
            continue
        for name, safe, offset in parameter_names(template):
            if name in RUN_PARAMETERS or name in config_names or safe:
                continue
            line, col = origin.at(offset) if origin is not None else (1, 0)
            add_at(
                "R004",
                line,
                col,
                f"{where}: pipeline().parameters.{name} is not a property of the config schema "
                f"nor one of {', '.join(RUN_PARAMETERS)}",
                f"add '{name}' to declarative.spec.properties (or write ?.{name} to get null when it is absent)",
            )


__all__ = [
    "PARTS",
    "RUN_PARAMETERS",
    "check_stream",
    "origin_lookup",
    "request_parts",
    "run_parameters",
    "stream_origins",
    "template_strings",
]
