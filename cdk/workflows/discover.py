"""``cdk discover --infer`` and ``--write``: stream schemas proposed from records, and written to schema files.

Records come from the connector's recordings (``tests/cassettes/read-STREAM.json``, replayed offline with
``tests/sample_config.json``, exactly as ``cdk test`` replays them) or, with a config, from a live read of
at most ``limit`` records per stream. Any source works, declarative or Python: the records are what its
own read produces.

The schema is genson's (a maintained JSON Schema generator) with two changes: strings that are all
RFC 3339 date-times (or all dates) get ``format: date-time`` (``date``), which genson does not detect, and
no ``required`` list (a field present in every sampled record may still be absent in the next one).
Mixed types become type lists (``["null", "string"]``) or ``anyOf`` when an object meets a scalar.

``--write`` replaces each stream's schema file atomically (a temporary file renamed over it, so a reader
never sees half a file). A file that cdk did not write, or that was edited since (see
:func:`cdk.declarative.schema.is_generated`), is hand-written: nothing is written unless ``force``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.errors import UsageError

if TYPE_CHECKING:
    from cdk.project import Project

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
LIVE_DEFAULT_LIMIT = 100
_DATE_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
_DATE_RE = re.compile(r"^\d{4}-\d\d-\d\d$")


def string_format(value: str) -> str | None:
    """``date-time`` for an RFC 3339 date-time, ``date`` for a full-date, else None (real calendar values only)."""
    if _DATE_TIME_RE.match(value):
        try:
            datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            return None
        return "date-time"
    if _DATE_RE.match(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return None
        return "date"
    return None


def _builder(schema_uri: str) -> Any:
    from genson import SchemaBuilder  # type: ignore[import-untyped]
    from genson.schema.strategies import Object, String  # type: ignore[import-untyped]

    unset = object()

    class FormattedString(String):  # type: ignore[misc]
        """A string strategy that remembers the one format every value had (genson detects none)."""

        def __init__(self, node_class: Any) -> None:
            super().__init__(node_class)
            self._format: Any = unset

        def add_object(self, obj: Any) -> None:
            super().add_object(obj)
            found = string_format(obj)
            self._format = found if self._format is unset or self._format == found else None

        def to_schema(self) -> Any:
            schema = super().to_schema()
            if isinstance(self._format, str):
                schema["format"] = self._format
            return schema

    class OptionalObject(Object):  # type: ignore[misc]
        def to_schema(self) -> Any:
            schema = super().to_schema()
            schema.pop("required", None)
            return schema

    class Builder(SchemaBuilder):  # type: ignore[misc]
        EXTRA_STRATEGIES = (FormattedString, OptionalObject)

    return Builder(schema_uri=schema_uri)


def _simplify(schema: Any) -> Any:
    """``anyOf`` of scalar branches (genson's form for ``null`` beside a formatted string) as one type list."""
    if isinstance(schema, list):
        return [_simplify(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _simplify(v) for k, v in schema.items()}
    branches = out.get("anyOf")
    if isinstance(branches, list) and all(
        isinstance(b, dict) and set(b) <= {"type", "format"} for b in branches
    ):
        formats = {b["format"] for b in branches if "format" in b}
        if len(formats) <= 1:
            types: set[str] = set()
            for b in branches:
                t = b.get("type")
                types.update(t if isinstance(t, list) else [t] if t else [])
            merged: dict[str, Any] = {"type": sorted(types) if len(types) > 1 else next(iter(types))}
            if formats:
                merged["format"] = formats.pop()
            rest = {k: v for k, v in out.items() if k != "anyOf"}
            return {**rest, **merged}
    return out


#: value levels of a record described by an inferred schema; below, any value is admitted (``{}``).
#: genson recurses per level (a record 400 levels deep exhausted Python's stack), and a schema nested
#: hundreds of levels deep is one the connector's own checks cannot walk either.
MAX_INFER_DEPTH = 32


def _clip(value: Any, depth: int) -> Any:
    """``value`` with every object or array ``depth`` levels down replaced by None (see :func:`_open`)."""
    if isinstance(value, dict):
        return {k: _clip(v, depth - 1) for k, v in value.items()} if depth > 0 else None
    if isinstance(value, list):
        return [_clip(v, depth - 1) for v in value] if depth > 0 else None
    return value


def _open(schema: Any, depth: int) -> Any:
    """``schema`` with the node of every value ``depth`` levels down replaced by ``{}`` (anything)."""
    if not isinstance(schema, dict):
        return schema
    if depth <= 0:
        return {}
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _open(v, depth - 1) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), (dict, list)):
        items = out["items"]
        out["items"] = (
            [_open(i, depth - 1) for i in items] if isinstance(items, list) else _open(items, depth - 1)
        )
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [_open(b, depth) for b in out["anyOf"]]
    return out


def _depth(value: Any, limit: int) -> int:
    """How many value levels ``value`` has, counting no further than ``limit`` + 1."""
    if limit < 0 or not isinstance(value, (dict, list)):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(c, limit - 1) for c in children), default=0)


def infer_schema(samples: Iterable[Any], *, schema_uri: str = SCHEMA_URI) -> dict[str, Any]:
    """The JSON Schema genson proposes for ``samples`` (records' data), with formats and without ``required``.

    Values deeper than :data:`MAX_INFER_DEPTH` levels are admitted whatever they are (``{}``)."""
    builder = _builder(schema_uri)
    deep = False
    for sample in samples:
        if _depth(sample, MAX_INFER_DEPTH) > MAX_INFER_DEPTH:
            deep = True
            sample = _clip(sample, MAX_INFER_DEPTH)
        builder.add_object(sample)
    schema: dict[str, Any] = _simplify(builder.to_schema())
    if deep:
        schema = _open(schema, MAX_INFER_DEPTH)
    return schema


# -- records ----------------------------------------------------------------------------------------


def recorded_records(project: Project, stream: str, limit: int | None) -> tuple[list[Any], str] | None:
    """The records of ``stream``'s read recording replayed offline, with the recording's name; None when
    there is no recording. The replay is ``cdk test``'s: its sample config, its clock, no network."""
    from cdk.sdk import runner
    from cdk.testing.connector_plugin import Harness

    harness = Harness.replaying(Path(project.root))
    name = f"read[{stream}]"
    path = harness.cassette_path(name)
    if not path.exists():
        return None
    seen: list[Any] = []
    with harness.session_for(name, force_replay=True) as (cassette, data, _):
        conn = harness.make_connector(data, stream=stream, recording=False, now=cassette.now)
        runner.read(
            conn,
            stream,
            lambda _s, records: seen.extend(r.data for r in records),
            max_records=limit,
            max_iterations=harness.max_pages,
        )
    return seen[:limit] if limit else seen, project.rel(path)


def live_records(project: Project, config_path: str | Path, stream: str, limit: int) -> list[Any]:
    """At most ``limit`` records of a live full-refresh read of ``stream`` (the first pages only)."""
    from cdk.connector import read_stream

    seen: list[Any] = []
    read_stream(
        project,
        config_path,
        stream,
        lambda _s, records: seen.extend(r.data for r in records),
        max_records=limit,
        incremental=False,
    )
    return seen[:limit]


# -- discover ----------------------------------------------------------------------------------------


@dataclass
class Discovery:
    """What ``cdk discover`` reports: the streams (dicts, as printed) and what ``--write`` wrote."""

    connector: str
    version: str
    streams: list[dict[str, Any]]
    written: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"connector": self.connector, "version": self.version, "streams": self.streams}
        if self.written:
            out["written"] = self.written
        return out


def discover(
    project: Project,
    config_path: str | Path | None = None,
    *,
    infer: bool = False,
    limit: int | None = None,
    streams: Sequence[str] = (),
    write: bool = False,
    force: bool = False,
) -> Discovery:
    """The streams with their schemas (see :func:`cdk.connector.discover_streams`); ``infer`` proposes
    schemas from records (recorded, or live with a config); ``write`` saves every schema that did not
    come from the manifest into the stream's schema file."""
    from cdk.connector import discover_streams

    found = discover_streams(project, config_path)
    if streams:
        known = {s["name"] for s in found}
        unknown = [s for s in streams if s not in known]
        if unknown:
            raise UsageError(
                f"no stream {', '.join(map(repr, unknown))}; streams: {', '.join(sorted(known))}"
            )
        found = [s for s in found if s["name"] in streams]
    if infer:
        _infer(project, config_path, found, limit)
    out = Discovery(project.manifest.name, project.manifest.version, found)
    if write:
        out.written = write_schemas(project, found, force=force)
    return out


def _infer(
    project: Project, config_path: str | Path | None, found: list[dict[str, Any]], limit: int | None
) -> None:
    if project.manifest.kind != "source":
        raise UsageError("--infer reads records: it is for sources")
    missing: list[str] = []
    for s in found:
        if config_path is not None:
            n = limit or LIVE_DEFAULT_LIMIT
            samples, where = live_records(project, config_path, s["name"], n), "live records"
        else:
            recorded = recorded_records(project, s["name"], limit)
            if recorded is None:
                missing.append(s["name"])
                s["note"] = f"no recording tests/cassettes/read-{s['name']}.json: schema not inferred"
                continue
            samples, where = recorded[0], f"recorded records ({recorded[1]})"
        s["records"] = len(samples)
        if not samples:
            s["note"] = "no records to infer from: schema not inferred"
            continue
        s["schema"] = infer_schema(samples)
        s["origin"] = f"inferred from {len(samples)} {where}"
    if config_path is None and len(missing) == len(found):
        raise UsageError(
            "--infer without --config infers from the recordings of `cdk test --record`, and there is none "
            f"for {', '.join(missing)}",
            hint="run `cdk test --record` first, or pass --config FILE to read live records (--limit N each)",
        )


def _schema_path(project: Project, stream: str) -> Path:
    ref = project.manifest.stream(stream).schema_
    if isinstance(ref, dict):
        raise UsageError(
            f"stream '{stream}' has its schema inline in connector.yaml; --write writes schema files",
            hint=f"move it to schemas/{stream}.json and name that file under the stream (schema: ...)",
        )
    if ref is None:
        raise UsageError(
            f"stream '{stream}' names no schema file in connector.yaml",
            hint=f"add `schema: schemas/{stream}.json` under the stream, then run again",
        )
    path = Path(project.root) / ref
    root = Path(project.root).resolve()
    if not path.resolve().is_relative_to(root):
        raise UsageError(
            f"stream '{stream}' names the schema file {ref}, which is outside the connector folder "
            f"({path.resolve()}); --write writes only inside {root}, so nothing was written",
            hint=f"name a file inside the folder, e.g. `schema: schemas/{stream}.json` (a symlink out of it counts as outside)",
        )
    return path


def write_schemas(project: Project, found: list[dict[str, Any]], *, force: bool = False) -> list[str]:
    """Write each stream's proposed schema (origin not ``manifest``) to its schema file; all or nothing.

    Every target is checked before the first write: a hand-written or edited file (and, without
    ``force``, that refusal) stops the whole write, so no stream is left half-updated.
    """
    from cdk.declarative.schema import is_generated, mark_generated
    from cdk.fsutil import atomic_write_text

    plan: list[tuple[Path, dict[str, Any]]] = []
    refused: list[str] = []
    for s in found:
        if s.get("origin") in (None, "manifest") or not isinstance(s.get("schema"), dict):
            continue
        path = _schema_path(project, s["name"])
        if path.exists() and not force:
            try:
                current = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                current = None
            if not is_generated(current):
                refused.append(project.rel(path))
                continue
        schema = mark_generated(s["schema"], f"written by `cdk discover` ({s['origin']})")
        plan.append((path, schema))
    if refused:
        raise UsageError(
            f"not writing: {', '.join(refused)} {'is' if len(refused) == 1 else 'are'} hand-written "
            "(or edited since cdk wrote it); nothing was written",
            hint="review the proposal (cdk discover --infer --format json), then pass --force to replace it",
        )
    if not plan:
        raise UsageError(
            "nothing to write: every schema came from connector.yaml",
            hint="--write saves what --infer proposes (or the source's own discover()/metadata schemas)",
        )
    written = []
    for path, schema in plan:
        atomic_write_text(path, json.dumps(schema, indent=2) + "\n")
        written.append(project.rel(path))
    return written


__all__ = ["Discovery", "discover", "infer_schema", "recorded_records", "string_format", "write_schemas"]
