"""Static checks of a declarative specification (the ``declarative`` suite of ``cdk validate``, rules R0xx).

``validate_declarative(project)`` never sends a request and never raises for a bad spec: every problem
is a :class:`~cdk.findings.Finding` (suite ``declarative``) located at the key of connector.yaml it is about. The codes and their meaning
are in :data:`RULES` (and docs/declarative.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cdk.findings import Finding, Severity

if TYPE_CHECKING:
    from cdk.declarative.spec import DeclarativeSpec, StreamSpec
    from cdk.project import Project

#: code -> (severity, one-line title)
RULES: dict[str, tuple[Severity, str]] = {
    "R001": (
        "error",
        "declarative: does not fit the sourceSpec (unknown key, wrong type, missing urlParams/contentPath)",
    ),
    "R002": (
        "error",
        "a pagination type lacks a property it requires (e.g. OFFSET needs limitName, limitValue, offSetName)",
    ),
    "R003": (
        "error",
        "a JSONPath (contentPath, explodeEntityPath, pointerPath, continuationTokenPath, endConditionName, endPageIndex, schemaParams.fieldsPath) does not parse",
    ),
    "R004": ("error", "a ${param} / {param} placeholder names no property of the config schema"),
    "R005": ("error", "urlParams.host is outside allowed_hosts"),
    "R006": ("warning", "urlParams.host comes entirely from the config: egress is only checked at run time"),
    "R007": (
        "error",
        "a pipeline expression '@{...}' does not parse (syntax, unknown function, wrong number of arguments)",
    ),
    "R008": ("error", "explodeEntityPath.path is not a chain of member names ($.a.b)"),
    "R009": (
        "warning",
        "scheduleParams ADVANCE without {SCHEDULE_QUERY} in urlParams/headerParams/bodyParams, or the reverse",
    ),
    "R010": ("error", "scheduleParams ADVANCE lacks paramFormat, incremental or backfill"),
    "R011": (
        "warning",
        "a declarative stream is not listed under streams: in connector.yaml (no primary key, cursor or schema)",
    ),
    "R012": ("error", "a stream listed under streams: has no declarative specification"),
    "R013": ("error", "the custom schema of a stream cannot be loaded"),
    "R014": (
        "warning",
        "the incremental capability is declared but the stream has no scheduleParams (every run re-reads everything)",
    ),
    "R015": ("warning", "bodyParams with method GET are not sent"),
    "R016": ("error", "urlParams.host is not an http(s) URL"),
    "R017": (
        "error",
        "paginationParams.parameterType BODYPARAM without method POST, or with bodyParams that are not an object",
    ),
    # child streams (parent:); numbered apart from the rules of the other parts of issue 18
    "R030": ("error", "parent.stream names no declarative stream"),
    "R031": ("error", "parent streams form a cycle (a stream is its own parent or ancestor)"),
    "R032": ("error", "a parent field (parent.fields or ${parent.x}) is not in the parent stream's schema"),
    "R033": ("warning", "a parent field cannot be checked: the parent stream's schema is unknown or open"),
    "R034": ("error", "${parent.x} is used by a stream that declares no parent"),
    "R035": ("warning", "parent is declared but the requests use none of its values"),
    "R036": ("error", "a parent field is an object or an array in the parent stream's schema"),
}


#: The findings' old name, kept because it is in this module's ``__all__`` and
#: :func:`validate_declarative` (public in ``cdk``) returns them.
SpecFinding = Finding


class _Locator:
    """Maps a path inside one stream's params to the connector.yaml key it was written at."""

    def __init__(self, project: Project) -> None:
        self.positions = project.positions
        self.file = project.rel(project.manifest_path)
        decl = project.manifest.declarative or {}
        self.bases: list[tuple[Any, ...]] = []
        if "sourceSpec" in decl:
            self.bases += [("declarative", "sourceSpec", "attributes"), ("declarative", "sourceSpec")]
        elif "urlParams" in decl:
            self.bases.append(("declarative",))

    def at(self, stream: str | None, path: tuple[Any, ...]) -> tuple[int, int]:
        candidates: list[tuple[Any, ...]] = []
        if stream is not None:
            candidates.append(("declarative", "streams", stream, *path))
        candidates += [(*b, *path) for b in self.bases] + [("declarative", "defaults", *path)]
        for c in candidates:
            if c in self.positions.keys:
                return self.positions.keys[c]
            if c in self.positions.values:
                return self.positions.values[c]
        for c in candidates:  # the closest enclosing key that exists
            for i in range(len(c) - 1, 0, -1):
                if c[:i] in self.positions.keys:
                    return self.positions.keys[c[:i]]
        return self.positions.locate(("declarative",), key=True)


def validate_declarative(project: Project) -> list[Finding]:
    """Every problem of the project's ``declarative:`` section (empty when it has none or it is clean)."""
    if project.manifest.declarative is None:
        return []
    from pydantic import ValidationError

    from cdk.declarative.spec import load_declarative

    loc = _Locator(project)
    findings: list[Finding] = []

    def add(
        rule: str,
        stream: str | None,
        path: tuple[Any, ...],
        message: str,
        hint: str | None = None,
        *,
        manifest_path: tuple[Any, ...] | None = None,
        at: tuple[int, int] | None = None,
    ) -> None:
        if at is not None:
            line, col = at
        elif manifest_path is not None:
            line, col = project.positions.locate(manifest_path)
        else:
            line, col = loc.at(stream, path)
        findings.append(
            Finding(
                rule=rule,
                severity=RULES[rule][0],
                file=loc.file,
                line=line,
                column=col,
                message=message,
                hint=hint or "",
                suite="declarative",
            )
        )

    first = project.manifest.streams[0].name if project.manifest.streams else project.manifest.name
    try:
        spec = load_declarative(project.manifest.declarative, stream_name=first)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            path = tuple(
                p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
            )
            stream = str(path[1]) if len(path) > 1 and path[0] == "streams" else None
            rest = path[2:] if stream is not None else path
            dotted = ".".join(str(p) for p in path) or "declarative"
            msg = "required key is missing" if err["type"] == "missing" else err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            add("R001", stream, rest, f"declarative.{dotted}: {msg}")
        return findings

    _check_streams(project, spec, add)
    _check_expressions(project, spec, add)
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule))


def _config_names(project: Project, spec: DeclarativeSpec) -> set[str] | None:
    from cdk.sdk.config import BASE_SOURCE_FIELDS

    schema = spec.spec if spec.spec is not None else project.config_schema()
    if schema is None:
        return None
    return set(schema.get("properties") or {}) | set(BASE_SOURCE_FIELDS)


def _check_streams(project: Project, spec: DeclarativeSpec, add: Any) -> None:
    names = _config_names(project, spec)
    declared = set(project.manifest.stream_names)
    incremental = "incremental" in project.manifest.capabilities
    for name, stream in spec.streams.items():
        if declared and name not in declared:
            add(
                "R011",
                name,
                (),
                f"declarative stream '{name}' is not listed under streams:",
                "add it under streams: with its primary_key (and cursor_field for incremental)",
            )
        _check_pagination(name, stream, add)
        _check_paths(name, stream, add)
        _check_placeholders(name, stream, names, add)
        _check_host(project, name, stream, add)
        _check_schedule(name, stream, incremental, add)
        if stream.bodyParams is not None and stream.urlParams.method == "GET":
            add("R015", name, ("bodyParams",), "bodyParams are only sent with method POST")
        if stream.schema_ is not None and isinstance(stream.schema_, str):
            try:
                project.load_json(stream.schema_)
            except Exception as exc:  # noqa: BLE001 - reported as a finding
                add("R013", name, ("schema",), f"custom schema {stream.schema_}: {exc}")
    from cdk.declarative.parents import check_parents

    check_parents(project, spec, add)
    for index, missing in enumerate(project.manifest.stream_names):
        if missing in spec.streams:
            continue
        add(
            "R012",
            None,
            (),
            f"stream '{missing}' is listed under streams: but has no declarative specification",
            f"add declarative.streams.{missing}",
            manifest_path=("streams", index, "name"),
        )


def _check_expressions(project: Project, spec: DeclarativeSpec, add: Any) -> None:
    """Pipeline expressions parse, call known functions and read known parameters (R007, R004)."""
    from cdk.declarative.templating import check_stream, stream_origins

    names = _config_names(project, spec)
    origins = stream_origins(project, spec)
    for name, stream in spec.streams.items():

        def add_at(rule: str, line: int, col: int, msg: str, hint: str, _name: str = name) -> None:
            add(rule, _name, (), msg, hint, at=(line, col))

        check_stream(name, stream, origins.get(name, {}), names, add_at)


def _check_pagination(name: str, stream: StreamSpec, add: Any) -> None:
    pag = stream.paginationParams
    for prop in pag.missing():
        add(
            "R002",
            name,
            ("paginationParams", "type"),
            f"paginationParams of type {pag.type} needs '{prop}'",
            "see the pagination types in docs/declarative.md",
        )
    if pag.parameterType == "BODYPARAM" and pag.type != "NONE":
        if stream.urlParams.method != "POST":
            add(
                "R017",
                name,
                ("paginationParams", "parameterType"),
                f"paginationParams.parameterType BODYPARAM puts the pagination parameters in the JSON body, "
                f"but urlParams.method is {stream.urlParams.method} (no body is sent)",
                "set urlParams.method: POST, or parameterType: QUERYPARAM",
            )
        elif isinstance(stream.bodyParams, (str, list)):
            add(
                "R017",
                name,
                ("paginationParams", "parameterType"),
                "paginationParams.parameterType BODYPARAM needs bodyParams that are a JSON object (or none), "
                f"not a {type(stream.bodyParams).__name__}",
                "write bodyParams as an object; the pagination parameters are added to it",
            )


def _check_paths(name: str, stream: StreamSpec, add: Any) -> None:
    from cdk.declarative.paths import compile_path

    pag = stream.paginationParams
    paths: list[tuple[tuple[Any, ...], str | None]] = [
        (("contentPath", "path"), stream.contentPath.path),
        (("explodeEntityPath", "path"), stream.explodeEntityPath.path if stream.explodeEntityPath else None),
        (("paginationParams", "pointerPath"), pag.pointerPath),
        (("paginationParams", "continuationTokenPath"), pag.continuationTokenPath),
        (("paginationParams", "endConditionName"), pag.endConditionName),
        (("schemaParams", "fieldsPath"), stream.schemaParams.fieldsPath if stream.schemaParams else None),
    ]
    if isinstance(pag.endPageIndex, str) and not pag.endPageIndex.lower().startswith("headers."):
        paths.append((("paginationParams", "endPageIndex"), pag.endPageIndex))
    for where, text in paths:
        if not text:
            continue
        try:
            compiled = compile_path(text, library=True)
        except ValueError as exc:
            add(
                "R003",
                name,
                where,
                f"{'.'.join(where)}: {exc}",
                "write an RFC 9535 JSONPath such as $.data.items",
            )
            continue
        if where[0] == "explodeEntityPath" and not compiled.names:
            add("R008", name, where, f"explodeEntityPath.path {text!r} must be a chain of member names")


def _check_placeholders(name: str, stream: StreamSpec, names: set[str] | None, add: Any) -> None:
    from cdk.declarative.engine import PARENT_PREFIX, RESERVED, placeholders, walk_strings

    # a child's parent values are checked by cdk.declarative.parents (R032, R034)
    from_parent = set(stream.parent.fields) if stream.parent is not None else set()
    sections: list[tuple[tuple[Any, ...], Any]] = [
        (("urlParams", "host"), stream.urlParams.host),
        (("urlParams", "path"), stream.urlParams.path),
        (("urlParams", "queryParams"), stream.urlParams.queryParams),
        (("headerParams",), stream.headerParams),
        (("bodyParams",), stream.bodyParams),
    ]
    if stream.schemaParams is not None:
        meta = stream.schemaParams
        sections += [
            (("schemaParams", "host"), meta.host),
            (("schemaParams", "path"), meta.path),
            (("schemaParams", "queryParams"), meta.queryParams),
            (("schemaParams", "headerParams"), meta.headerParams),
        ]
    for where, value in sections:
        strings = walk_strings(value, where)
        if isinstance(value, dict):
            strings += [((*where, k), k) for k in value if isinstance(k, str)]
        for path, text in strings:
            for ph in placeholders(text):
                if ph in RESERVED or names is None or ph.split(".")[0] in names:
                    continue
                if (ph.startswith(PARENT_PREFIX) or ph in from_parent) and path[0] != "schemaParams":
                    continue
                add(
                    "R004",
                    name,
                    path,
                    f"{'.'.join(map(str, path))}: placeholder '{ph}' is not a property of the config schema",
                    f"add '{ph}' to declarative.spec.properties (or config.schema)",
                )


def _check_host(project: Project, name: str, stream: StreamSpec, add: Any) -> None:
    from cdk.declarative.engine import PLACEHOLDER_RE
    from cdk.sdk.http import host_allowed

    host = stream.urlParams.host.strip()
    if PLACEHOLDER_RE.fullmatch(host):
        add(
            "R006",
            name,
            ("urlParams", "host"),
            f"urlParams.host {host!r} comes from the config; allowed_hosts is enforced only when the source runs",
        )
        return
    sample = PLACEHOLDER_RE.sub("placeholder", host)
    parts = urlsplit(sample)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        add(
            "R016",
            name,
            ("urlParams", "host"),
            f"urlParams.host {host!r} is not an http(s) URL such as https://api.example.com",
        )
        return
    allowed = project.manifest.allowed_hosts
    if not host_allowed(parts.hostname, allowed):
        shown = PLACEHOLDER_RE.sub("*", host)
        add(
            "R005",
            name,
            ("urlParams", "host"),
            f"urlParams.host {shown!r} is outside allowed_hosts {allowed}",
            f"add '{urlsplit(PLACEHOLDER_RE.sub('*', host)).hostname}' to allowed_hosts",
        )


def _reads_window_start(stream: StreamSpec) -> bool:
    """Whether the request filters by time itself: a pipeline expression reads ``ingestionStart``."""
    from cdk.declarative.templating import template_strings

    return any("ingestionstart" in text.lower() for _, text, _ in template_strings(stream))


def _check_schedule(name: str, stream: StreamSpec, incremental: bool, add: Any) -> None:
    from cdk.declarative.engine import SCHEDULE_QUERY, walk_strings

    s = stream.scheduleParams
    token = "{" + SCHEDULE_QUERY + "}"
    used = any(
        token in text
        for _, text in walk_strings(
            [stream.urlParams.path, stream.urlParams.queryParams, stream.headerParams, stream.bodyParams]
        )
    )
    if s is not None and s.type == "ADVANCE":
        for prop in s.missing():
            add("R010", name, ("scheduleParams", "type"), f"scheduleParams ADVANCE needs '{prop}'")
        if not used:
            add(
                "R009",
                name,
                ("scheduleParams", "type"),
                "scheduleParams ADVANCE: no {SCHEDULE_QUERY} in urlParams, headerParams or bodyParams, so the query is never sent",
            )
    elif used:
        add(
            "R009", name, ("urlParams",), "{SCHEDULE_QUERY} is used but scheduleParams is not of type ADVANCE"
        )
    if incremental and s is None and not _reads_window_start(stream):
        add(
            "R014",
            name,
            (),
            f"stream '{name}' has no scheduleParams: incremental reads cannot filter by time",
        )


__all__ = ["RULES", "SpecFinding", "validate_declarative"]
