"""The standard tests every connector gets, as plain functions over a ready connector.

Each raises :class:`StandardTestFailure` with a message that names the stream, the page and the record,
so a failure reads like a bug report rather than a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdk.errors import PaginationNeverEnds, StandardTestFailure
from cdk.project import Project
from cdk.sdk.records import SourceRecord
from cdk.sdk.runner import ReadSummary, StateStore, parse_instant, read

DEFAULT_MAX_PAGES = 1000
EMPTY_PAGES_LIMIT = 3
MAX_LISTED = 10


@dataclass
class ReadResult:
    """What one read produced, page by page."""

    stream: str
    summary: ReadSummary
    pages: list[list[SourceRecord]] = field(default_factory=list)

    @property
    def records(self) -> list[tuple[int, int, SourceRecord]]:
        """(page number, position on the page, record) — 1-based, for messages."""
        return [(p, i, r) for p, page in enumerate(self.pages, 1) for i, r in enumerate(page, 1)]


def where(page: int, pos: int, record: SourceRecord) -> str:
    return f"page {page}, record #{pos} (id={record.id!r})"


def read_stream(
    conn: Any,
    stream: str,
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
    state: StateStore | None = None,
    incremental: bool = False,
    cursor_field: str | None = None,
) -> ReadResult:
    """Read a whole stream through the runner, failing when the pagination does not terminate."""
    result = ReadResult(stream=stream, summary=ReadSummary(stream=stream))
    state = state or StateStore(None)

    def sink(_stream: str, records: list[SourceRecord]) -> None:
        result.pages.append(list(records))

    def on_page(summary: ReadSummary) -> None:
        entry = state.get(stream)
        nxt = entry.get("pagination")
        if entry.get("status") != "running":
            return
        empty = 0
        for page in reversed(result.pages):
            if page:
                break
            empty += 1
        n = summary.pages
        if empty >= EMPTY_PAGES_LIMIT:
            raise PaginationNeverEnds(
                f"stream '{stream}': pagination does not terminate — pages {n - empty + 1}..{n} returned no "
                f"records, yet page {n} asked for another page (next_pagination {nxt}); "
                "return an empty next_pagination on the last page"
            )
        if n >= max_pages:
            raise PaginationNeverEnds(
                f"stream '{stream}': pagination did not end after {n} pages; page {n} asked for another "
                f"page (next_pagination {nxt}). If the stream really is that long, raise "
                "[tool.cdk] test_max_pages"
            )

    result.summary = read(
        conn, stream, sink, state=state, incremental=incremental, cursor_field=cursor_field, on_page=on_page
    )
    return result


def read_streaming_stream(conn: Any, stream: str, *, max_records: int = 1000, batch: int = 100) -> ReadResult:
    """Read a streaming source up to ``max_records`` (it may never end); a "page" is one committed batch."""
    from cdk.sdk.runner import read_streaming

    result = ReadResult(stream=stream, summary=ReadSummary(stream=stream))

    def sink(_stream: str, records: list[SourceRecord]) -> None:
        result.pages.append(list(records))

    result.summary = read_streaming(conn, stream, sink, max_records=max_records, commit_every=batch)
    return result


def _validator(schema: dict[str, Any]) -> Any:
    from jsonschema import FormatChecker
    from jsonschema.validators import validator_for

    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=FormatChecker())


def _pk_value(data: dict[str, Any], key: str) -> Any:
    value: Any = data
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _cursor_value(rec: Any, cursor_field: str) -> Any:
    """A record's cursor as the runner reads it: the field (dotted for nested: ``member.last_changed``),
    else the timestamp the source gave the record (a declarative cursor found inside the wrapper)."""
    value = _pk_value(rec.data, cursor_field)
    if value is None and getattr(rec, "timestamp", None) is not None:
        return rec.timestamp.isoformat()
    return value


def check_records(project: Project, result: ReadResult) -> None:
    """≥1 record; each valid against the stream schema; primary keys present and unique."""
    stream = result.stream
    spec = next((s for s in project.manifest.streams if s.name == stream), None)
    if not result.records:
        raise StandardTestFailure(
            f"stream '{stream}' returned no records ({result.summary.pages} page(s) read); a standard read "
            "needs at least one — record against an account that has data"
        )
    problems: list[str] = []
    schema = project.stream_schema(stream)
    if schema:
        validator = _validator(schema)
        for page, pos, rec in result.records:
            for err in sorted(validator.iter_errors(rec.data), key=lambda e: list(e.path)):
                at = "/".join(str(p) for p in err.absolute_path) or "(root)"
                problems.append(f"{where(page, pos, rec)}: schema: {err.message} (at {at})")
                if len(problems) >= MAX_LISTED:
                    break
            if len(problems) >= MAX_LISTED:
                break
    pk = list(spec.primary_key) if spec else []
    if pk:
        seen: dict[tuple[Any, ...], str] = {}
        for page, pos, rec in result.records:
            values = tuple(_pk_value(rec.data, k) for k in pk)
            missing = [k for k, v in zip(pk, values, strict=True) if v is None]
            label = ", ".join(f"{k}={v!r}" for k, v in zip(pk, values, strict=True))
            if missing:
                problems.append(f"{where(page, pos, rec)}: primary key field(s) {missing} missing")
            elif values in seen:
                problems.append(f"{where(page, pos, rec)}: primary key ({label}) repeats {seen[values]}")
            else:
                seen[values] = where(page, pos, rec)
            if len(problems) >= 2 * MAX_LISTED:
                break
    if problems:
        more = " (first ones shown)" if len(problems) >= MAX_LISTED else ""
        raise StandardTestFailure(
            f"stream '{stream}': {len(problems)} problem(s) in {len(result.records)} records over "
            f"{len(result.pages)} page(s){more}:\n  " + "\n  ".join(problems)
        )


def check_incremental(
    make_conn: Callable[[], Any], stream: str, cursor_field: str, *, max_pages: int = DEFAULT_MAX_PAGES
) -> tuple[ReadResult, ReadResult]:
    """A first incremental read advances the state; a second one returns only newer records."""
    state = StateStore(None)
    first = read_stream(
        make_conn(), stream, max_pages=max_pages, state=state, incremental=True, cursor_field=cursor_field
    )
    inc = state.get(stream).get("incremental") or {}
    last = inc.get("last_run")
    if not first.records:
        raise StandardTestFailure(f"stream '{stream}': the first incremental read returned no records")
    if last is None or parse_instant(last) is None:
        p, i, rec = first.records[0]
        raise StandardTestFailure(
            f"stream '{stream}': incremental state did not advance after {len(first.records)} records — "
            f"no usable cursor '{cursor_field}' (e.g. {where(p, i, rec)} has {cursor_field}="
            f"{_cursor_value(rec, cursor_field)!r}); the cursor must be a date-time or epoch value"
        )
    second = read_stream(
        make_conn(), stream, max_pages=max_pages, state=state, incremental=True, cursor_field=cursor_field
    )
    cut = parse_instant(last)
    assert cut is not None
    older = []
    for page, pos, rec in second.records:
        value = parse_instant(_cursor_value(rec, cursor_field))
        if value is None or value <= cut:
            older.append(f"{where(page, pos, rec)}: {cursor_field}={_cursor_value(rec, cursor_field)!r}")
    if older:
        raise StandardTestFailure(
            f"stream '{stream}': the second incremental read (state {cursor_field} > {last}) returned "
            f"{len(older)} record(s) that are not newer:\n  " + "\n  ".join(older[:MAX_LISTED])
        )
    after = (state.get(stream).get("incremental") or {}).get("last_run")
    if after is not None and (at := parse_instant(after)) is not None and at < cut:
        raise StandardTestFailure(f"stream '{stream}': incremental state went backwards ({last} -> {after})")
    return first, second


AUTH_WORDS = ("auth", "401", "403", "credential", "unauthori", "forbidden", "api key", "token")


def message_is_about_auth(message: str | None) -> bool:
    text = (message or "").lower()
    return any(w in text for w in AUTH_WORDS)
