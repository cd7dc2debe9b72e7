"""The engine: runs a sourceSpec stream as an :class:`AbstractSource`, one HTTP request per ``get()``.

Everything that can be prepared once is prepared when the source is built — placeholders filled from the
config, JSONPaths compiled, date formats compiled, record shaping chosen — so a page costs one request,
one JSON parse and one tight loop over its items.

All state of a read lives in ``next_pagination`` (offset, page, pointer URL, next link, token, request
count, the schedule window), so the runner's checkpoints resume a read exactly where it stopped. Only the
``maximumRequest`` budget is the run's own (counted on the source object): a run that reaches it raises
:class:`MaximumRequestReached` before the next request, and the run that resumes gets a full budget.

Shapes (docs/declarative.md): with ``contentPath.path = $.members`` each item becomes the record
``{<wrapper>: item, <other attributes of the object holding the array>...}``; the wrapper is
``overrideWrapperAttribute`` or the array's own name. ``skipAttributes`` removes names from the item and
from those carried attributes; ``keepAttributes`` keeps only the names listed (at both levels).
``explodeEntityPath`` (evaluated on that record) turns one record into one per sub-array element: the
element under its wrapper at the top level, the object that held the sub-array without it (its other
attributes filtered by the explode's skip/keep), and everything else of the parent record.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from cdk.declarative.expressions import Context, Origin, evaluate_all, parse_template, to_text
from cdk.declarative.paths import CompiledPath, compile_path
from cdk.declarative.spec import ContentPath, DeclarativeSpec, PaginationParams, StreamSpec
from cdk.declarative.templating import PARTS, origin_lookup, request_parts, run_parameters, template_strings
from cdk.declarative.timefmt import compile_format
from cdk.errors import (
    ConfigError,
    ConnectorError,
    EgressDeniedError,
    InvalidResponseError,
    MaximumRequestReached,
    PaginationLoopError,
)
from cdk.sdk.config import SourceConfig
from cdk.sdk.http import (
    _safe_url,  # the query string may hold an API key: never print it
    host_allowed,
    url_port,
)
from cdk.sdk.pagination import link_with_rel
from cdk.sdk.records import SourceIncrementalState, SourceIteration, SourceRecord
from cdk.sdk.source import AbstractSource

if TYPE_CHECKING:
    from cdk.declarative.children import ChildReader

PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z_][\w.-]*)\}|(?<![$@])\{([A-Za-z_][\w.-]*)\}")
EXPRESSION_RE = re.compile(r"@\{")
SCHEDULE_QUERY = "SCHEDULE_QUERY"
RESERVED = frozenset({SCHEDULE_QUERY, "START_TIME", "END_TIME"})


def placeholders(text: str) -> list[str]:
    """Names of the ``${name}`` / ``{name}`` placeholders in ``text`` (reserved ones included)."""
    return [a or b for a, b in PLACEHOLDER_RE.findall(text)]


PARENT_PREFIX = "parent."


def request_strings(spec: StreamSpec) -> list[tuple[tuple[Any, ...], str]]:
    """Every string of a stream's request (host, path, query, headers, body; keys too) with its path."""
    out: list[tuple[tuple[Any, ...], str]] = []
    sections: list[tuple[tuple[Any, ...], Any]] = [
        (("urlParams", "host"), spec.urlParams.host),
        (("urlParams", "path"), spec.urlParams.path),
        (("urlParams", "queryParams"), spec.urlParams.queryParams),
        (("headerParams",), spec.headerParams),
        (("bodyParams",), spec.bodyParams),
    ]
    for where, value in sections:
        out += walk_strings(value, where)
        if isinstance(value, dict):
            out += [((*where, k), k) for k in value if isinstance(k, str)]
    return out


def parent_references(spec: StreamSpec) -> list[str]:
    """The parent fields a stream's requests name as ``${parent.<field>}`` (dotted), in order, once each."""
    seen: dict[str, None] = {}
    for _, text in request_strings(spec):
        for name in placeholders(text):
            if name.startswith(PARENT_PREFIX) and len(name) > len(PARENT_PREFIX):
                seen.setdefault(name[len(PARENT_PREFIX) :], None)
    return list(seen)


def walk_strings(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Every string inside a JSON-like value with its path (keys too: header names may hold placeholders)."""
    if isinstance(value, str):
        return [(path, value)]
    out: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(walk_strings(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(walk_strings(v, path + (i,)))
    return out


class Renderer:
    """Fills placeholders from the config; ``{SCHEDULE_QUERY}`` is left for each request."""

    def __init__(self, values: dict[str, Any], stream: str) -> None:
        self.values = values
        self.stream = stream

    def text(self, template: str, *, escape: bool = False, where: str = "") -> str:
        def sub(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name in RESERVED:
                return match.group(0)
            value = self._lookup(name)
            if value is None:
                raise ConfigError(
                    f"stream '{self.stream}' {where}: placeholder '{match.group(0)}' has no value in the config",
                    fields=[name],
                    hint=f"add '{name}' to the config (and to the spec's user-input properties)",
                )
            text = str(value).lower() if isinstance(value, bool) else str(value)
            return quote(text, safe="") if escape else text

        return PLACEHOLDER_RE.sub(sub, template)

    def _lookup(self, name: str) -> Any:
        if name in self.values:  # a partition's values are flat: "parent.id", "campaignId"
            return self.values[name]
        value: Any = self.values
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    def deep(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            return self.text(value, where=where)
        if isinstance(value, dict):
            return {self.text(k, where=where): self.deep(v, where) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v, where) for v in value]
        return value


def _query_value(value: Any) -> Any:
    """A query parameter's value for the URL: booleans as ``true``/``false`` (YAML ``archived: false``
    must not reach the API as Python's ``False``), each element of a list (a repeated parameter) too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_query_value(v) for v in value]
    return value


def query_values(query: dict[str, Any]) -> dict[str, Any]:
    """The query parameters as sent (a null one is left out by the HTTP client)."""
    return {k: _query_value(v) for k, v in query.items()}


def header_values(headers: dict[Any, Any]) -> dict[str, str]:
    """The headers as sent: a null value (``@{pipeline().parameters.ingestionStart}`` on a full refresh)
    leaves the header out, as a null query parameter is left out; other values as ``concat()`` writes them
    (``true``, not Python's ``True``)."""
    return {str(k): to_text(v) for k, v in headers.items() if v is not None}


def _place_schedule(value: Any, query: str) -> Any:
    token = "{" + SCHEDULE_QUERY + "}"
    if isinstance(value, str):
        return value.replace(token, query) if token in value else value
    if isinstance(value, dict):
        return {k: _place_schedule(v, query) for k, v in value.items()}
    if isinstance(value, list):
        return [_place_schedule(v, query) for v in value]
    return value


def _has_schedule(value: Any) -> bool:
    return any("{" + SCHEDULE_QUERY + "}" in s for _, s in walk_strings(value))


def with_body_params(body: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``body`` (a JSON object, or None) with each pagination value set at its dotted name.

    ``{"page.size": 100}`` gives ``{"page": {"size": 100}}`` beside the body's other keys; the objects on
    the way are copied, so the prepared ``bodyParams`` of the stream are never changed.
    """
    out: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
    for name, value in values.items():
        parts = name.split(".")
        target = out
        for i, part in enumerate(parts[:-1]):
            inner = target.get(part)
            if inner is None:
                inner = {}
            elif not isinstance(inner, dict):
                raise ConfigError(
                    f"pagination parameter '{name}' goes into the JSON body at {'.'.join(parts[: i + 1])}, "
                    f"which bodyParams already holds as {type(inner).__name__} {inner!r}",
                    hint="rename the pagination parameter or the bodyParams entry",
                )
            else:
                inner = dict(inner)
            target[part] = inner
            target = inner
        target[parts[-1]] = value
    return out


def parse_end_value(value: Any) -> Any:
    """``Const:false`` -> False, ``Const:10`` -> 10, ``Const:abc`` -> 'abc'; other values as they are."""
    if isinstance(value, str) and value[:6].lower() == "const:":
        raw = value[6:]
        lowered = raw.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered in ("null", "none"):
            return None
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                return raw
    return value


def _matches(found: Any, expected: Any) -> bool:
    if found == expected and type(found) is type(expected):
        return True
    if isinstance(found, bool) or isinstance(expected, bool) or found is None or expected is None:
        return str(found).lower() == str(expected).lower() or (found is None and expected is None)
    return found == expected or str(found) == str(expected)


# ---------------------------------------------------------------------------------------------
# record shaping


def wrapper_name(override: str | None, names: tuple[str, ...] | None) -> str | None:
    """The record's wrapper attribute: the override, else the array's name; ``""`` means no wrapper.

    Without a wrapper the item itself is the record (skip/keep still apply, nothing is carried).
    """
    if override == "":
        return None
    return override or (names[-1] if names else None)


def _shaper(
    content: ContentPath, wrapper: str | None
) -> Callable[[list[Any], dict[str, Any]], list[dict[str, Any]]]:
    """A function (items, carried attributes) -> records, specialised for the options given."""
    skip = frozenset(content.skipAttributes)
    keep = frozenset(content.keepAttributes) if content.keepAttributes else None

    def attrs(obj: Any) -> Any:
        if not isinstance(obj, dict):
            return obj
        if keep is not None:
            return {k: v for k, v in obj.items() if k in keep and k not in skip}
        if skip and not skip.isdisjoint(obj):  # rebuild only items that hold a skipped name
            return {k: v for k, v in obj.items() if k not in skip}
        return obj

    if wrapper is None:
        if keep is None and not skip:
            return lambda items, carried: list(items)
        return lambda items, carried: [attrs(i) for i in items]

    def shape(items: list[Any], carried: dict[str, Any]) -> list[dict[str, Any]]:
        carried = attrs(carried)
        if keep is None and not skip:
            if carried:
                return [{**carried, wrapper: i} for i in items]
            return [{wrapper: i} for i in items]
        if carried:
            return [{**carried, wrapper: attrs(i)} for i in items]
        return [{wrapper: attrs(i)} for i in items]

    return shape


def _path(stream: str, where: str, text: str | None) -> CompiledPath | None:
    """``text`` compiled (None when unset); one that does not parse fails the read before any request."""
    if not text:
        return None
    try:
        return compile_path(text)
    except ValueError as exc:
        raise ConfigError(
            f"stream '{stream}' {where}: {exc}", hint="write an RFC 9535 JSONPath such as $.data.items"
        ) from None


class _Exploder:
    """One record per element of a sub-array (explodeEntityPath)."""

    def __init__(self, spec: ContentPath) -> None:
        self.path = compile_path(spec.path)
        if not self.path.names:
            raise ConfigError(
                f"explodeEntityPath.path {spec.path!r} must be a chain of member names such as $.email.activity"
            )
        self.container_keys = self.path.names[:-1]
        self.key = self.path.names[-1]
        self.wrapper = spec.overrideWrapperAttribute or self.key
        self.skip = frozenset(spec.skipAttributes) | {self.key}
        self.keep = frozenset(spec.keepAttributes) if spec.keepAttributes else None

    def __call__(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        keys, key, wrapper, skip, keep = self.container_keys, self.key, self.wrapper, self.skip, self.keep
        for record in records:
            container: Any = record
            for k in keys:
                container = container.get(k) if isinstance(container, dict) else None
            if not isinstance(container, dict):
                continue
            elements = container.get(key)
            if not isinstance(elements, list):
                continue
            if keep is not None:
                rest = {k: v for k, v in container.items() if k in keep and k not in skip}
            else:
                rest = {k: v for k, v in container.items() if k not in skip}
            if keys:
                base = dict(record)
                _set_in(base, keys, rest)
            else:
                base = rest
            for element in elements:
                out.append({**base, wrapper: element})
        return out


def _set_in(record: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    target = record
    for k in keys[:-1]:
        target[k] = dict(target[k])
        target = target[k]
    target[keys[-1]] = value


def _getter(field: str, wrapper: str | None) -> Callable[[dict[str, Any]], Any]:
    """Read ``field`` (dotted for nested) from a record, looking inside the wrapper when not at the top."""
    parts = tuple(field.split("."))

    def get(data: dict[str, Any]) -> Any:
        value: Any = data
        for p in parts:
            if not isinstance(value, dict):
                return None
            value = value.get(p)
        if value is None and wrapper is not None:
            inner = data.get(wrapper)
            value = inner
            for p in parts:
                if not isinstance(value, dict):
                    return None
                value = value.get(p)
        return value

    if len(parts) == 1:  # the common case, without loops: one lookup at the top, else one in the wrapper
        name = parts[0]
        if wrapper is None:
            return lambda data: data.get(name)

        def get_one(data: dict[str, Any]) -> Any:
            if name in data:
                return data[name]
            inner = data.get(wrapper)
            return inner.get(name) if type(inner) is dict else None

        return get_one
    return get


# ---------------------------------------------------------------------------------------------
# one stream, prepared


class StreamPlan:
    """A stream's spec with everything that does not change during a run computed once."""

    def __init__(
        self,
        name: str,
        spec: StreamSpec,
        config_values: dict[str, Any],
        *,
        primary_key: list[str] | None = None,
        cursor_field: str | None = None,
        origins: dict[tuple[Any, ...], Origin] | None = None,
    ) -> None:
        self.name = name
        self.spec = spec
        self.method = spec.urlParams.method
        self.config_values = config_values
        #: what the placeholders are filled from: the config, and for a child stream the parent's values
        self.render_values = config_values
        #: a child stream's requests are rendered per parent record (:meth:`for_partition`)
        self.parent_refs = parent_references(spec) if spec.parent is not None else []
        self.url_template = ""
        self.query: dict[str, Any] = {}
        self.headers: dict[str, str] = {}
        self.body: Any = None
        self.schedule_in = {"url": False, "query": False, "headers": False, "body": False}
        # pipeline expressions (@{...}) are parsed now (a bad one fails before any request) and
        # evaluated per page by with_expressions(), which then fills the placeholders again
        self.origins = origins
        self.dynamic = bool(template_strings(spec))
        if self.dynamic:
            for path, text, _ in template_strings(spec):
                parse_template(text, (origins or {}).get(path))
        elif spec.parent is None:
            self._render_request(request_parts(spec))
        self.pagination: PaginationParams = spec.paginationParams
        missing = self.pagination.missing()
        if missing:
            raise ConfigError(
                f"stream '{name}': paginationParams of type {self.pagination.type} needs {', '.join(missing)}",
                hint="see docs/declarative.md (pagination types)",
            )
        pag = self.pagination
        self.params_in_body = pag.parameterType == "BODYPARAM" and pag.type != "NONE"
        if self.params_in_body and (self.method != "POST" or isinstance(self.body, (str, list))):
            raise ConfigError(
                f"stream '{name}': paginationParams.parameterType BODYPARAM puts the pagination parameters in "
                "the JSON body, which needs urlParams.method POST and bodyParams that are an object (or none)",
                hint="set urlParams.method: POST, or parameterType: QUERYPARAM",
            )
        if self.params_in_body:  # a name that collides with bodyParams fails here, before any request
            paging_names = (pag.limitName, pag.offSetName, pag.pageParamName, pag.parameterName)
            with_body_params(self.body, {n: 0 for n in paging_names if n})
        self.end_path = _path(name, "paginationParams.endConditionName", pag.endConditionName)
        self.end_value = parse_end_value(pag.endConditionValue)
        self.pointer_path = _path(name, "paginationParams.pointerPath", pag.pointerPath)
        self.token_path = _path(name, "paginationParams.continuationTokenPath", pag.continuationTokenPath)
        self.end_page_header: str | None = None
        self.end_page_path: CompiledPath | None = None
        self.end_page_fixed: int | None = None
        epi = pag.endPageIndex
        if isinstance(epi, int):
            self.end_page_fixed = epi
        elif isinstance(epi, str) and epi:
            if epi.lower().startswith("headers."):
                self.end_page_header = epi[len("headers.") :]
            else:
                self.end_page_path = _path(name, "paginationParams.endPageIndex", epi)
        self.delay = pag.delayRequestMillis / 1000.0
        self.max_requests = pag.maximumRequest
        # content
        content_path = _path(name, "contentPath.path", spec.contentPath.path)
        assert content_path is not None  # a required key
        self.content_path = content_path
        names = self.content_path.names
        self.wrapper = wrapper_name(spec.contentPath.overrideWrapperAttribute, names)
        self.parent_keys = names[:-1] if names else None
        self.shape = _shaper(spec.contentPath, self.wrapper)
        if spec.explodeEntityPath:
            _path(name, "explodeEntityPath.path", spec.explodeEntityPath.path)
        self.explode = _Exploder(spec.explodeEntityPath) if spec.explodeEntityPath else None
        wrapper_for_keys = self.wrapper
        if self.explode is not None:
            wrapper_for_keys = self.explode.wrapper
        self.key_wrapper = wrapper_for_keys
        pk = spec.primaryKey or primary_key or []
        self.pk_getters = [_getter(f, wrapper_for_keys) for f in pk]
        cursor = spec.cursorField or cursor_field
        self.cursor_getter = _getter(cursor, wrapper_for_keys) if cursor else None
        # schedule
        self.schedule = spec.scheduleParams
        if self.schedule is not None:
            s = self.schedule
            if s.missing():
                raise ConfigError(
                    f"stream '{name}': scheduleParams ADVANCE needs {', '.join(s.missing())}",
                    hint="see docs/declarative.md (scheduleParams)",
                )
            if s.type == "ADVANCE":
                self.fmt_start = self.fmt_end = compile_format(s.paramFormat)
            else:
                self.fmt_start = compile_format(s.scheduleStartParamFormat)
                self.fmt_end = compile_format(s.scheduleEndParamFormat)

    def _render_request(self, parts: dict[str, Any]) -> None:
        """Fill the placeholders of the request parts (as written, or after their expressions ran)."""
        render = Renderer(self.render_values, self.name)
        host = render.text(parts["host"], where="urlParams.host").rstrip("/")
        path = render.text(parts["path"], escape=True, where="urlParams.path") if parts["path"] else ""
        if path and not path.startswith("/"):
            path = "/" + path
        self.url_template = host + path
        self.query = query_values(render.deep(parts["queryParams"], "urlParams.queryParams"))
        self.headers = header_values(render.deep(parts["headerParams"], "headerParams"))
        body = parts["bodyParams"]
        self.body = render.deep(body, "bodyParams") if body is not None else None
        self.schedule_in = {
            "url": SCHEDULE_QUERY in self.url_template,
            "query": _has_schedule(self.query),
            "headers": _has_schedule(self.headers),
            "body": _has_schedule(self.body),
        }

    def with_expressions(self, start: datetime | None, end: datetime, now: datetime) -> None:
        """Evaluate the request's pipeline expressions for this window, then fill its placeholders."""
        ctx = Context(run_parameters(self.config_values, start, end), now)
        lookup = origin_lookup(self.origins)
        parts = {
            part: evaluate_all(value, ctx, lookup, PARTS[part])
            for part, value in request_parts(self.spec).items()
        }
        for part in ("host", "path"):
            parts[part] = to_text(parts[part])
        for part in ("queryParams", "headerParams"):
            if not isinstance(parts[part], dict):
                raise ConfigError(
                    f"stream '{self.name}': {'.'.join(PARTS[part])} must give an object, its expression gave {parts[part]!r}"
                )
        self._render_request(parts)

    def for_partition(self, partition: dict[str, Any]) -> StreamPlan:
        """This plan with its requests rendered for one parent record's values (a child stream)."""
        import copy

        plan = copy.copy(self)
        plan.render_values = {**self.config_values, **partition}
        if not plan.dynamic:  # else with_expressions() renders them on every page
            plan._render_request(request_parts(self.spec))
        return plan

    # -- the request of one page -----------------------------------------------------------------
    def schedule_values(self, start: datetime | None, end: datetime) -> tuple[dict[str, str], str | None]:
        """(query params, schedule query) for the window (start, end]; no start means a backfill."""
        s = self.schedule
        if s is None:
            return {}, None
        if s.type == "ADVANCE":
            expr = s.incremental if start is not None else s.backfill
            expr = (expr or "").replace("{END_TIME}", self.fmt_end(end))
            if start is not None:
                expr = expr.replace("{START_TIME}", self.fmt_start(start))
            return {}, expr
        params: dict[str, str] = {}
        if start is not None and s.scheduleStartParamName:
            params[s.scheduleStartParamName] = self.fmt_start(start)
        if s.scheduleEndParamName:
            params[s.scheduleEndParamName] = self.fmt_end(end)
        return params, None

    def records(self, doc: Any) -> tuple[list[dict[str, Any]], int]:
        """(records, number of items found at contentPath) of one response body."""
        if self.parent_keys is not None:
            parent: Any = doc
            for k in self.parent_keys:
                parent = parent.get(k) if isinstance(parent, dict) else None
            # ignored below: parent_keys is set only for a plain name chain, so content_path.names is not None
            items = parent.get(self.content_path.names[-1]) if isinstance(parent, dict) else None  # type: ignore[index]
            if items is None:
                return [], 0
            if not isinstance(items, list):
                items = [items]
            leaf = self.content_path.names[-1]  # type: ignore[index]
            carried = {k: v for k, v in parent.items() if k != leaf} if len(parent) > 1 else {}
        else:
            found = self.content_path.all(doc)
            items = found[0] if len(found) == 1 and isinstance(found[0], list) else found
            carried = {}
        count = len(items)
        out = self.shape(items, carried)
        if self.explode is not None:
            out = self.explode(out)
        return out, count


# ---------------------------------------------------------------------------------------------
# the source


class DeclarativeSource(AbstractSource):
    """Base of every generated declarative source; :func:`build_source_class` fills the class attributes."""

    declarative: DeclarativeSpec
    config_class: type[SourceConfig] = SourceConfig
    stream_keys: dict[str, tuple[list[str], str | None]] = {}
    stream_names: list[str] = []
    #: the stream's schema without metadata (manifest file, else derived from the custom schema)
    base_schema: Callable[[str], dict[str, Any] | None] | None = None
    #: stream -> params path -> where each expression string is written (for located errors)
    expression_origins: dict[str, dict[tuple[Any, ...], Origin]] = {}

    def __init__(
        self, config: Any, session: Any = None, *, stream: str | None = None, children: tuple[str, ...] = ()
    ) -> None:
        super().__init__(config, session)
        values = config.model_dump(mode="json") if hasattr(config, "model_dump") else dict(config)
        extra = getattr(config, "model_extra", None)
        if extra:
            values.update(extra)
        stream = stream or getattr(config, "stream", None) or self.stream_names[0]
        if stream not in self.declarative.streams:
            raise ConfigError(
                f"no stream '{stream}' in this declarative source; streams: {', '.join(self.stream_names)}"
            )
        self._values = values  # the config, for the placeholders of other requests (schemaParams)
        pk, cursor = self.stream_keys.get(stream, ([], None))
        self.plan = StreamPlan(
            stream,
            self.declarative.streams[stream],
            values,
            primary_key=pk,
            cursor_field=cursor,
            origins=self.expression_origins.get(stream),
        )
        self._last_request: float | None = None
        # maximumRequest bounds one run: counted here, not in the checkpoint, so a resumed run gets its own
        self._run_requests = 0
        self._run_records = 0
        self._fetched: set[str] = set()  # every URL requested in this run: a Link back to one is a loop
        import orjson

        self._loads = orjson.loads
        self._dumps = orjson.dumps
        self.children: ChildReader | None = None
        if self.plan.spec.parent is not None:
            from cdk.declarative.children import ChildReader

            self.children = ChildReader(self, (*children, stream))

    def sibling(self, stream: str, children: tuple[str, ...]) -> DeclarativeSource:
        """The source of another stream of this spec, on the same config and session (a parent stream)."""
        return type(self)(self.config, self.session, stream=stream, children=children)

    # -- the contract -------------------------------------------------------------------------------
    @classmethod
    def streams(cls) -> list[str]:
        return list(cls.stream_names)

    @classmethod
    def get_config_class(cls) -> type[SourceConfig]:
        return cls.config_class

    def get_json_schema(self, stream: str) -> dict[str, Any] | None:
        """A stream with ``schemaParams``: its schema with the fields its metadata endpoint lists (one
        request through this source's session); None for the others (the manifest's schema stands)."""
        spec = self.declarative.streams.get(stream)
        if spec is None or spec.schemaParams is None:
            return None
        from cdk.declarative.metadata import metadata_schema

        base_of = type(self).base_schema
        base = base_of(stream) if base_of is not None else None
        return metadata_schema(self.session, spec, self._values, stream, base)

    @property
    def schema_origins(self) -> dict[str, str]:
        """What ``cdk discover`` shows as the origin of the schemas :meth:`get_json_schema` returns."""
        return {
            name: f"metadata endpoint {s.schemaParams.method} {s.schemaParams.path}"
            for name, s in self.declarative.streams.items()
            if s.schemaParams is not None
        }

    def check_connection(self) -> tuple[bool, str | None]:
        """Fetch the first page of the stream: it proves host, credentials and contentPath at once."""
        from cdk.errors import CdkError

        try:
            self._page(None, None)
        except CdkError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - a connection test reports, never raises
            return False, f"{type(exc).__name__}: {exc}"
        return True, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        return self._page(pagination, None)

    def get_records_after(
        self, source_state: SourceIncrementalState, pagination: dict[str, Any] | None = None
    ) -> SourceIteration:
        return self._page(pagination, source_state)

    def _page(
        self, pagination: dict[str, Any] | None, source_state: SourceIncrementalState | None
    ) -> SourceIteration:
        # a read starts: the budget of maximumRequest is this run's (a child's: over all its partitions)
        if not pagination:
            self._run_requests = self._run_records = 0
            self._fetched.clear()
        if self.children is not None:
            return self.children.page(pagination, source_state)
        start = None
        if source_state is not None:
            start = source_state.last_run
            if start.tzinfo is None:
                start = start.replace(tzinfo=timezone.utc)
        return self._fetch(self.plan, pagination, start)

    # -- one page -------------------------------------------------------------------------------
    def _now(self) -> datetime:
        clock = getattr(self.session, "clock", None)
        stamp = clock.time() if clock is not None else datetime.now(timezone.utc).timestamp()
        return datetime.fromtimestamp(stamp, tz=timezone.utc)

    def _sleep_between_requests(self, plan: StreamPlan) -> None:
        if not plan.delay:
            return
        clock = getattr(self.session, "clock", None)
        if clock is None:
            import time

            monotonic, sleep = time.monotonic, time.sleep
        else:
            monotonic, sleep = clock.monotonic, clock.sleep
        if self._last_request is not None:
            gap = plan.delay - (monotonic() - self._last_request)
            if gap > 0:
                sleep(gap)
        self._last_request = monotonic()

    def _fetch(
        self, plan: StreamPlan, pagination: dict[str, Any] | None, start: datetime | None
    ) -> SourceIteration:
        """One request of ``plan`` at ``pagination``; ``start`` is the incremental window's start."""
        pag = plan.pagination
        state = dict(pagination or {})
        requests_done = int(state.get("requests", 0))
        if self._run_requests >= plan.max_requests:
            raise MaximumRequestReached(
                f"stream '{plan.name}': stopped at maximumRequest={plan.max_requests} ({self._run_requests:,} "
                f"requests, {self._run_records:,} records in this run) while the API still had pages",
                hint="the checkpoint holds the next page: run the same command again with the same state "
                "file (cdk read --state) to continue there; raise paginationParams.maximumRequest for longer "
                "runs, or pass --allow-partial to accept a partial run",
                stream=plan.name,
                requests=self._run_requests,
                records=self._run_records,
            )
        if "window_end" in state:
            end = datetime.fromisoformat(state["window_end"])
        else:
            end = self._now()
        schedule_params, schedule_query = plan.schedule_values(start, end)
        if plan.dynamic:
            plan.with_expressions(start, end, self._now())

        url = plan.url_template
        params: dict[str, Any] | None = dict(plan.query)
        headers = dict(plan.headers)
        body = plan.body
        if schedule_query is not None:
            sq = schedule_query
            if plan.schedule_in["url"]:
                url = url.replace("{" + SCHEDULE_QUERY + "}", quote(sq, safe=""))
            if plan.schedule_in["query"]:
                params = _place_schedule(params, sq)
            if plan.schedule_in["headers"]:
                headers = _place_schedule(headers, sq)
            if plan.schedule_in["body"]:
                body = _place_schedule(body, sq)
        # ignored below: params is None only after a POINTER url; the spec's validators require the
        # parameter names (limitName, offSetName, ...) and paths that each pagination type uses
        params.update(schedule_params)  # type: ignore[union-attr]
        kind = pag.type
        paging: dict[str, Any] = {}  # the pagination parameters, for the query or (BODYPARAM) the body
        if kind != "NONE" and pag.limitName and pag.limitValue:
            paging[pag.limitName] = pag.limitValue
        offset = int(state.get("offset", 0))
        page_no = int(state.get("page", pag.initialPageIndex))
        if kind == "OFFSET":
            paging[pag.offSetName] = offset  # type: ignore[index]
        elif kind == "PAGE":
            paging[pag.pageParamName] = page_no  # type: ignore[index]
        elif kind == "POINTER" and state.get("pointer"):
            pointer = str(state["pointer"])
            if pointer.startswith(("http://", "https://")):
                url, params = pointer, None
            elif pointer.startswith("/"):
                url, params = urljoin(plan.url_template, pointer), None
            else:
                paging[plan.pointer_path.last_name or "next"] = pointer  # type: ignore[union-attr]
        elif kind == "LINK" and state.get("link"):
            url, params = str(state["link"]), None  # the next link is a whole URL, query included
        elif kind == "CONTINUATION_TOKEN" and state.get("token") is not None:
            if pag.parameterType == "HEADERPARAM":
                headers[pag.parameterName] = str(state["token"])  # type: ignore[index]
            else:
                paging[pag.parameterName] = state["token"]  # type: ignore[index]
        if plan.params_in_body:
            body = with_body_params(body, paging)
        elif params is not None:
            params.update(paging)

        if requests_done or self.children is not None:  # a child's partitions share one rhythm
            self._sleep_between_requests(plan)
        elif plan.delay:
            self._last_request = None
            self._sleep_between_requests(plan)
        response = self.session.request(
            plan.method,
            url,
            params=params,
            headers=headers or None,
            json=body if plan.method == "POST" and body is not None and not isinstance(body, str) else None,
            data=body if plan.method == "POST" and isinstance(body, str) else None,
            # a source's POST is a query (a search, a GraphQL read): retried on 429/5xx like a GET
            retry=True if plan.method == "POST" else None,
        )
        self._run_requests += 1
        if kind == "LINK":
            self._fetched.add(response.url.partition("#")[0])
            if response.request is not None and response.request.url:
                self._fetched.add(response.request.url.partition("#")[0])
        if response.status_code >= 400:
            hint = "check urlParams and the config values it uses"
            if "%2f" in urlsplit(url).path.lower() and placeholders(plan.spec.urlParams.path):
                hint = (
                    "a placeholder value holding '/' went into urlParams.path as one segment ('%2F'); if the API "
                    "wants it as several segments, place its parts (/repos/${parent.owner.login}/${parent.name}, "
                    "not /repos/${parent.full_name}); see docs/declarative.md"
                )
            raise ConnectorError(
                f"stream '{plan.name}': {plan.method} {_safe_url(response.url)} answered {response.status_code} "
                f"{response.reason}: {response.text[:200]}",
                hint=hint,
            )
        try:
            doc = self._loads(response.content)
        except ValueError as exc:
            raise InvalidResponseError(
                f"stream '{plan.name}': {plan.method} {_safe_url(response.url)} did not answer JSON ({exc})"
            ) from None
        data, count = plan.records(doc)
        records = self._to_records(plan, data, int(state.get("n", 0)))
        self._run_records += len(records)
        requests_done += 1
        nxt = self._next(plan, state, doc, response, count, requests_done, offset, page_no)
        if nxt and data:
            # an API that ignores the pagination parameter serves the same page again: stop, do not loop
            fingerprint = f"{len(data)}:{zlib.crc32(self._dumps([data[0], data[-1]])):08x}"
            if fingerprint == state.get("fp"):
                raise PaginationLoopError(
                    f"stream '{plan.name}': {plan.method} {_safe_url(response.url)} returned the same page as the previous "
                    f"request; the API seems to ignore the {pag.type} pagination parameters",
                    hint="check the parameter names in paginationParams against the API's documentation",
                )
            nxt["fp"] = fingerprint
        if nxt:
            nxt["requests"] = requests_done
            nxt["n"] = int(state.get("n", 0)) + len(records)
            if plan.schedule is not None or plan.dynamic:  # ingestionEnd too: one window for every page
                nxt["window_end"] = end.isoformat()
        return SourceIteration(records=records, next_pagination=nxt)

    def _next(
        self,
        plan: StreamPlan,
        state: dict[str, Any],
        doc: Any,
        response: Any,
        count: int,
        requests_done: int,
        offset: int,
        page_no: int,
    ) -> dict[str, Any]:
        """The pagination of the next page, or {} when this page was the last one."""
        pag = plan.pagination
        kind = pag.type
        if kind == "NONE" or count == 0:
            return {}
        if plan.end_path is not None:
            found = plan.end_path.all(doc)
            if found and _matches(found[0], plan.end_value):
                return {}
        if kind == "OFFSET":
            return {"offset": offset + count}
        if kind == "PAGE":
            last = self._last_page(plan, doc, response)
            if last is not None and page_no >= last:
                return {}
            out: dict[str, Any] = {"page": page_no + 1}
            return out
        if kind == "POINTER":
            # ignored below: POINTER pagination requires pointerPath (spec validation), so pointer_path is set
            pointer = plan.pointer_path.first(doc)  # type: ignore[union-attr]
            if pointer in (None, "", False):
                return {}
            if pointer == state.get("pointer"):
                raise PaginationLoopError(
                    f"stream '{plan.name}': pointerPath {pag.pointerPath} returned the same next page twice ({pointer})"
                )
            return {"pointer": pointer}
        if kind == "LINK":
            return self._next_link(plan, response)
        if kind == "CONTINUATION_TOKEN":
            # ignored below: CONTINUATION_TOKEN pagination requires its token path (spec validation)
            token = plan.token_path.first(doc)  # type: ignore[union-attr]
            if token in (None, "", False):
                return {}
            if token == state.get("token"):
                raise PaginationLoopError(
                    f"stream '{plan.name}': continuationTokenPath {pag.continuationTokenPath} returned the same token twice"
                )
            return {"token": token}
        return {}

    def _next_link(self, plan: StreamPlan, response: Any) -> dict[str, Any]:
        """The ``rel="next"`` target of the Link header, checked before it is ever requested.

        Refused: a scheme other than http(s), a host outside allowed_hosts (EgressDeniedError, raised here
        rather than by the session so that the refused URL never reaches the checkpoint), and a URL this run
        already requested (PaginationLoopError).
        """
        link = link_with_rel(response.headers.get("Link"), "next", base=response.url)
        if not link:
            return {}
        link = link.partition("#")[0]
        parts = urlsplit(link)
        try:
            port = url_port(link)
        except ValueError:
            port = -1
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or port == -1:
            raise InvalidResponseError(
                f"stream '{plan.name}': the Link header of {_safe_url(response.url)} names a next page that is "
                f"not an http(s) URL: {_safe_url(link)!r}; not followed"
            )
        allowed = getattr(self.session, "allowed_hosts", None)
        if allowed is not None and not host_allowed(parts.hostname, allowed, port):
            raise EgressDeniedError(
                f"stream '{plan.name}': the Link header of {_safe_url(response.url)} names the next page on host "
                f"'{parts.hostname}', which is not in allowed_hosts {allowed}; not followed",
                hint="if that host really serves the API's pages, add it to allowed_hosts in connector.yaml",
            )
        if link in self._fetched:
            raise PaginationLoopError(
                f"stream '{plan.name}': the Link header of {_safe_url(response.url)} names as next page "
                f"{_safe_url(link)}, which this read already fetched; following it would loop",
                hint='the API\'s rel="next" links go round in a circle; check the request parameters',
            )
        return {"link": link}

    def _last_page(self, plan: StreamPlan, doc: Any, response: Any) -> int | None:
        if plan.end_page_fixed is not None:
            return plan.end_page_fixed
        count: Any = None
        if plan.end_page_header is not None:
            count = response.headers.get(plan.end_page_header)
        elif plan.end_page_path is not None:
            count = plan.end_page_path.first(doc)
        if count is None:
            return None
        try:
            return plan.pagination.initialPageIndex + int(count) - 1
        except (TypeError, ValueError):
            raise InvalidResponseError(
                f"stream '{plan.name}': endPageIndex {plan.pagination.endPageIndex} gave {count!r}, not a page count"
            ) from None

    def _to_records(self, plan: StreamPlan, data: list[dict[str, Any]], first: int) -> list[SourceRecord]:
        getters = plan.pk_getters
        cursor = plan.cursor_getter
        if cursor is None:
            if len(getters) == 1:
                g = getters[0]
                return [SourceRecord(str(g(d)), d) for d in data]
            if not getters:
                return [SourceRecord(str(first + i), d) for i, d in enumerate(data)]
            return [SourceRecord("|".join(str(g(d)) for g in getters), d) for d in data]
        from cdk.sdk.runner import parse_instant

        out = []
        for i, d in enumerate(data):
            rid = "|".join(str(g(d)) for g in getters) if getters else str(first + i)
            out.append(SourceRecord(rid, d, parse_instant(cursor(d))))
        return out


__all__ = [
    "DeclarativeSource",
    "Renderer",
    "StreamPlan",
    "parent_references",
    "header_values",
    "parse_end_value",
    "placeholders",
    "query_values",
    "request_strings",
    "walk_strings",
    "with_body_params",
]
