"""The runner: drives a source through its pages and checkpoints after every one.

Guarantees a user depends on:

* the state is saved (atomically) after each page has been handed to the sink, so a crash after page k
  resumes at page k+1: no page lost, none duplicated;
* ``max_iterations`` bounds the pages of one run; a source returning a pagination it already returned
  stops with :class:`PaginationLoopError` instead of looping forever;
* a source that reaches its request cap raises :class:`MaximumRequestReached` before the request past it,
  so the checkpoint saved after the last page read is where the next run continues; it propagates (exit
  4) unless ``allow_partial``, which ends the read there as ``stopped_by="maximumRequest=N"``;
* incremental reads pass :class:`SourceIncrementalState` to ``get_records_after`` and advance it from
  the records' cursor field only when a run completes, so a resumed run keeps the same filter; a source
  that keeps its own state (``SourceIteration.state``, e.g. a cursor per partition) has it saved under
  ``incremental.state`` at the same moment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from cdk.errors import (
    ConnectorError,
    DestinationError,
    InvalidResponseError,
    MaximumRequestReached,
    OutputWriteError,
    PaginationLoopError,
)
from cdk.fsutil import atomic_write_text
from cdk.sdk.records import (
    SourceIncrementalState,
    SourceIteration,
    SourceRecord,
    WriteResult,
    data_json,
    not_json,
)
from cdk.sdk.source import AbstractDestination, AbstractSource, StreamingSource

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _check_state(path: Path, data: dict[str, Any]) -> None:
    """A state file edited by hand or by another tool: the shapes a read resumes from, or a ConfigError
    naming the field (not an internal error deep in the read)."""
    from cdk.errors import ConfigError

    def refuse(where: str, value: Any, expected: str) -> ConfigError:
        return ConfigError(
            f"{path}: state file: {where} is {type(value).__name__} {json.dumps(value, default=str)[:60]}, "
            f"expected {expected}",
            hint="fix it, or delete it to start every stream over",
        )

    streams = data["streams"]
    if not isinstance(streams, dict):
        raise refuse("streams", streams, "an object (one entry per stream)")
    for name, entry in streams.items():
        if not isinstance(entry, dict):
            raise refuse(f"streams.{name}", entry, "an object")
        for key in ("pagination", "incremental", "destination_positions"):
            value = entry.get(key)
            if value is not None and not isinstance(value, dict):
                raise refuse(f"streams.{name}.{key}", value, "an object or null")
        for key in ("records", "pages"):
            value = entry.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise refuse(f"streams.{name}.{key}", value, "a whole number")
        for file, size in (entry.get("destination_positions") or {}).items():
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise refuse(f"streams.{name}.destination_positions.{file}", size, "a size in bytes")


class StateStore:
    """A JSON state file holding one entry per stream, rewritten atomically on every save."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.data: dict[str, Any] = {"streams": {}}
        if self.path and self.path.exists():
            text = self.path.read_text(encoding="utf-8")
            try:
                loaded = json.loads(text) if text.strip() else {}
            except json.JSONDecodeError as exc:
                from cdk.errors import ConfigError

                raise ConfigError(
                    f"{self.path}:{exc.lineno}:{exc.colno}: state file is not valid JSON ({exc.msg})",
                    hint="delete it to start over",
                ) from None
            self.data = loaded if isinstance(loaded, dict) else {"streams": {}}
            self.data.setdefault("streams", {})
            _check_state(self.path, self.data)

    def get(self, stream: str) -> dict[str, Any]:
        return dict(self.data["streams"].get(stream) or {})

    def put(self, stream: str, entry: dict[str, Any]) -> None:
        previous = self.data["streams"].get(stream)
        self.data["streams"][stream] = entry
        if self.path:
            try:
                atomic_write_text(
                    self.path, json.dumps(self.data, indent=2, sort_keys=True, default=str) + "\n"
                )
            except OSError as exc:
                self.data["streams"][stream] = previous
                raise OutputWriteError(
                    f"cannot save the state file {self.path}: {exc.strerror or exc} (errno {exc.errno}); "
                    "the previous checkpoint is kept",
                    hint="free space (or fix permissions) and run the same command again: it resumes "
                    "from the last saved checkpoint",
                ) from exc


@dataclass
class ReadSummary:
    """What one read did."""

    stream: str
    records: int = 0
    pages: int = 0
    resumed_from: dict[str, Any] | None = None
    completed: bool = False
    stopped_by: str | None = None
    incremental_from: str | None = None
    cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_instant(value: Any) -> datetime | None:
    """A cursor value as an aware datetime (ISO strings, 'Z' included, epoch numbers); None if not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


class JsonLinesSink:
    """Writes records as JSON Lines (``{"stream", "id", "data"[, "timestamp", "destination_id"]}``).

    Every page is written in full and made durable before the runner saves the checkpoint that covers it:
    short writes are continued, a regular file is fsync'ed, and a failed write (disk full, quota, I/O
    error) truncates a regular file back to its last complete line and raises :class:`OutputWriteError`
    (exit 3). So a resumed read (``--state``, output appended with ``>>``) has every record exactly once
    and no glued half line.
    """

    def __init__(self, out: BinaryIO, *, name: str = "stdout") -> None:
        import orjson

        self._dumps = orjson.dumps
        self._loads = orjson.loads
        self.out = out
        self.name = name
        self._fd: int | None = None
        self._regular = False
        try:
            fd = out.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        if fd is not None:
            import stat

            self._fd = fd
            self._regular = stat.S_ISREG(os.fstat(fd).st_mode)

    def _lines(self, stream: str, records: list[SourceRecord]) -> list[bytes]:
        dumps = self._dumps
        prefix = b'{"stream":' + dumps(stream) + b',"id":'
        lines = []
        for r in records:  # byte concatenation: twice as fast as building a dict per record
            if r.timestamp is None and r.destination_id is None:
                lines.append(prefix + dumps(r.id) + b',"data":' + dumps(r.data, default=str) + b"}")
            else:
                row: dict[str, Any] = {"stream": stream, "id": r.id, "data": r.data}
                if r.timestamp is not None:
                    row["timestamp"] = r.timestamp.isoformat()
                if r.destination_id is not None:
                    row["destination_id"] = r.destination_id
                lines.append(dumps(row, default=str))
        return lines

    def __call__(self, stream: str, records: list[SourceRecord]) -> None:
        if not records:
            return
        try:
            lines = self._lines(stream, records)
        except TypeError as exc:  # non-string keys, or no JSON at all: before anything of the page is written
            try:
                plain = [replace(r, data=self._loads(data_json(r.data))) for r in records]
                lines = self._lines(stream, plain)
            except TypeError:
                raise not_json(stream, records, exc) from exc
        lines.append(b"")
        self.write(b"\n".join(lines))

    def write(self, data: bytes) -> None:
        """Write ``data`` completely and durably, or undo the partial write and raise OutputWriteError."""
        if self._fd is None:
            written = self.out.write(data)
            self.out.flush()
            if written is not None and written != len(data):
                raise OutputWriteError(f"short write to {self.name}: {written} of {len(data)} bytes")
            return
        fd = self._fd
        good: int | None = None
        try:
            self.out.flush()  # anything buffered before us goes first
            if self._regular:
                good = os.fstat(fd).st_size
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            if self._regular:
                os.fsync(fd)
        except BrokenPipeError:
            raise
        except OSError as exc:
            undone = ""
            if good is not None:
                try:
                    os.ftruncate(fd, good)
                    undone = "; the partial page was removed"
                except OSError:
                    undone = "; the last line may be incomplete"
            raise OutputWriteError(
                f"writing records to {self.name} failed: {exc.strerror or exc} (errno {exc.errno}){undone}. "
                "The checkpoint was not advanced past the records written",
                hint="free space and run the same command again with the same --state, appending (>>) to "
                "the same output: it resumes after the last complete page",
            ) from exc


Sink = Callable[[str, list[SourceRecord]], None]


def read(
    source: AbstractSource,
    stream: str,
    sink: Sink,
    *,
    state: StateStore | None = None,
    incremental: bool = False,
    cursor_field: str | None = None,
    max_iterations: int | None = None,
    max_records: int | None = None,
    ignore_checkpoint: bool = False,
    on_page: Callable[[ReadSummary], None] | None = None,
    allow_partial: bool = False,
) -> ReadSummary:
    """Read ``stream`` of ``source`` page by page into ``sink``, checkpointing into ``state``.

    ``allow_partial``: a :class:`MaximumRequestReached` of the source ends the read (not completed,
    ``stopped_by`` says so, ``extra["partial"]`` holds the message) instead of propagating.
    """
    state = state or StateStore(None)
    entry = state.get(stream)
    summary = ReadSummary(stream=stream)
    pagination: dict[str, Any] | None = None
    if entry.get("status") == "running" and entry.get("pagination") and not ignore_checkpoint:
        pagination = entry["pagination"]
        summary.resumed_from = dict(pagination)
    inc = entry.get("incremental") or {}
    source_state: SourceIncrementalState | None = None
    if incremental:
        last = parse_instant(inc.get("last_run")) or EPOCH
        source_state = SourceIncrementalState(
            last_run=last, state=dict(inc.get("state") or {}), cursor_field=cursor_field
        )
        summary.incremental_from = last.isoformat()
    best: Any = entry.get("pending_cursor") if summary.resumed_from else None
    # Without a cursor (no cursor_field, records without a timestamp: the guide's single-file incremental
    # source) `last_run` is when the sync began, as the guide says: "records updated after last sync". A
    # resumed sync keeps the start of its first attempt, so nothing updated meanwhile is skipped.
    started = (entry.get("pending_run_start") if summary.resumed_from else None) or datetime.now(
        timezone.utc
    ).isoformat()
    clocked = (
        incremental
        and not cursor_field
        and (inc.get("last_run") is None or inc.get("last_run_source") == "run_start")
    )
    seen: set[str] = set()
    if pagination:
        seen.add(json.dumps(pagination, sort_keys=True, default=str))
    base = {
        "records": entry.get("records", 0) if summary.resumed_from else 0,
        "pages": entry.get("pages", 0) if summary.resumed_from else 0,
    }
    max_iterations = max_iterations or getattr(source.config, "max_iterations", None)
    source_own: dict[str, Any] | None = None

    while True:
        if max_iterations is not None and summary.pages >= max_iterations:
            summary.stopped_by = f"max_iterations={max_iterations}"
            break
        try:
            if source_state is not None:
                page = source.get_records_after(source_state, pagination)
            else:
                page = source.get(pagination)
        except MaximumRequestReached as exc:
            if not allow_partial:
                raise
            summary.stopped_by = f"maximumRequest={exc.requests}"
            summary.extra["partial"] = exc.message
            break
        except ConnectorError:
            raise
        except ValueError as exc:  # a non-JSON body surfaces as JSONDecodeError (a ValueError)
            raise InvalidResponseError(
                f"stream '{stream}', page {summary.pages + 1}: {type(exc).__name__}: {exc}",
                hint="the API answered something the connector could not parse (not JSON?)",
            ) from exc
        except Exception as exc:  # noqa: BLE001 - connector code may raise anything
            raise ConnectorError(
                f"stream '{stream}', page {summary.pages + 1} (pagination {pagination or {}}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(page, SourceIteration):
            raise ConnectorError(
                f"{type(source).__name__}.get returned {type(page).__name__}, expected SourceIteration"
            )
        records = page.records
        if max_records is not None and summary.records + len(records) >= max_records:
            records = records[: max_records - summary.records]
            sink(stream, records)
            summary.records += len(records)
            summary.pages += 1
            summary.stopped_by = f"max_records={max_records}"
            break
        sink(stream, records)
        summary.records += len(records)
        summary.pages += 1
        if cursor_field or incremental:
            best = _advance(best, records, cursor_field)
        nxt = page.next_pagination or {}
        done = not nxt
        if not done:
            key = json.dumps(nxt, sort_keys=True, default=str)
            if key in seen:
                state.put(stream, {**entry, "status": "failed", "pagination": pagination})
                raise PaginationLoopError(
                    f"stream '{stream}': page {summary.pages} returned next_pagination {nxt}, "
                    "which was already used — the read would loop forever",
                    hint="make get() return {} on the last page or advance the pagination",
                )
            seen.add(key)
        new_entry: dict[str, Any] = {
            "status": "done" if done else "running",
            "pagination": None if done else nxt,
            "records": base["records"] + summary.records,
            "pages": base["pages"] + summary.pages,
            "incremental": inc,
        }
        if best is not None:
            new_entry["pending_cursor"] = best
        elif clocked and not done:
            new_entry["pending_run_start"] = started
        if page.state is not None:
            source_own = page.state
        if done:
            summary.completed = True
            if source_own is not None:  # the source's own state (per partition) becomes the next run's
                inc = {**inc, "state": source_own}
                new_entry["incremental"] = inc
            if best is not None:
                inc = {k: v for k, v in inc.items() if k != "last_run_source"}
                inc = {**inc, "last_run": best, "cursor_field": cursor_field}
                new_entry["incremental"] = inc
                new_entry.pop("pending_cursor", None)
                summary.cursor = str(best)
            elif clocked:
                inc = {**inc, "last_run": started, "last_run_source": "run_start"}
                new_entry["incremental"] = inc
        state.put(stream, new_entry)
        entry = new_entry
        if on_page is not None:
            on_page(summary)
        if done:
            break
        pagination = nxt
    return summary


def _advance(best: Any, records: list[SourceRecord], cursor_field: str | None) -> Any:
    """The highest cursor value seen so far (by instant when values are dates, else by value)."""
    values = []
    for r in records:
        value = r.data.get(cursor_field) if cursor_field else None
        if value is None and r.timestamp is not None:
            value = r.timestamp.isoformat()
        if value is not None:
            values.append(value)
    if not values:
        return best
    first = values[0]
    if (
        isinstance(first, str)
        and first.endswith("Z")
        and all(isinstance(v, str) and len(v) == len(first) and v.endswith("Z") for v in values)
    ):
        values = [max(values)]  # UTC timestamps of one format sort as strings: parse one candidate per page
    best_key = parse_instant(best) if best is not None else None
    for value in values:
        key = parse_instant(value)
        if key is None:
            if best is None or (best_key is None and value > best):
                best, best_key = value, None
            continue
        if best_key is None or key > best_key:
            best, best_key = (value if isinstance(value, str) else key.isoformat()), key
    return best


def read_streaming(
    source: StreamingSource,
    stream: str,
    sink: Sink,
    *,
    state: StateStore | None = None,
    max_records: int | None = None,
    commit_every: int = 1000,
) -> ReadSummary:
    """Run a streaming source: checkpoint (state, then ``commit``) every ``commit_every`` records."""
    state = state or StateStore(None)
    entry = state.get(stream)
    checkpoint = entry.get("checkpoint")
    summary = ReadSummary(stream=stream, resumed_from=checkpoint)
    batch: list[SourceRecord] = []

    def flush() -> None:
        nonlocal batch
        if not batch:
            return
        sink(stream, batch)
        cp = source.checkpoint_for(batch[-1])
        state.put(stream, {"checkpoint": cp, "records": entry.get("records", 0) + summary.records})
        source.commit(cp)
        summary.pages += 1
        batch = []

    iterator: Iterator[SourceRecord] = iter(source.read_stream(stream, checkpoint))
    for record in iterator:
        batch.append(record)
        summary.records += 1
        if len(batch) >= commit_every:
            flush()
        if max_records is not None and summary.records >= max_records:
            summary.stopped_by = f"max_records={max_records}"
            break
    flush()
    summary.completed = summary.stopped_by is None
    return summary


@dataclass
class WriteSummary:
    stream: str
    written: int = 0
    failed: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


def parse_record_line(line: bytes, lineno: int) -> SourceRecord:
    """One JSON Lines input row: ``cdk read`` output, or a bare JSON object (its ``id`` used if any)."""
    import orjson

    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidResponseError(f"stdin:{lineno}: not a JSON object: {exc}") from None
    if not isinstance(row, dict):
        raise InvalidResponseError(f"stdin:{lineno}: expected a JSON object, got {type(row).__name__}")
    if "data" in row and isinstance(row["data"], dict):
        return SourceRecord(
            id=str(row.get("id", lineno)), data=row["data"], destination_id=row.get("destination_id")
        )
    return SourceRecord(id=str(row.get("id", lineno)), data=row)


def write(
    destination: AbstractDestination,
    stream: str,
    lines: Iterable[bytes],
    *,
    batch_size: int = 500,
    on_batch: Callable[[WriteSummary], None] | None = None,
) -> WriteSummary:
    """Feed JSON Lines into a destination in batches, then ``finalize``."""
    summary = WriteSummary(stream=stream)
    batch: list[SourceRecord] = []

    name = type(destination).__name__

    def flush() -> None:
        nonlocal batch
        if not batch:
            return
        first, last = summary.written + summary.failed + 1, summary.written + summary.failed + len(batch)
        where = f"destination {name}, stream '{stream}', batch {summary.batches + 1} (records {first}-{last})"
        result = write_batch(destination, stream, batch, where)
        summary.written += result.written
        summary.failed += result.failed
        summary.errors.extend(result.errors)
        summary.batches += 1
        batch = []
        if on_batch:
            on_batch(summary)

    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        batch.append(parse_record_line(line, n))
        if len(batch) >= batch_size:
            flush()
    flush()
    try:
        destination.finalize()
    except Exception as exc:  # noqa: BLE001 - connector code may raise anything
        raise destination_error(f"destination {name}, stream '{stream}'", "finalize()", exc) from exc
    return summary


def write_batch(destination: Any, stream: str, batch: list[SourceRecord], where: str) -> WriteResult:
    """One call of a destination's ``write()``: a raise or an answer that is no ``WriteResult`` becomes our
    error naming ``where`` (destination, stream, batch), for ``cdk write`` and ``cdk run`` alike. ``destination``
    is a connector's AbstractDestination or one of ``cdk run``'s built-ins (which share only ``write``)."""
    try:
        result = destination.write(stream, batch)
    except Exception as exc:  # noqa: BLE001 - connector code may raise anything
        raise destination_error(where, "write()", exc) from exc
    if not isinstance(result, WriteResult):
        raise DestinationError(
            f"{where}: write() returned {type(result).__name__}, expected WriteResult",
            hint="return WriteResult(written=..., failed=..., errors=[...])",
        )
    return result


def destination_error(where: str, call: str, exc: Exception) -> ConnectorError:
    """A destination's failure as our error: outside failures keep exit 3, the connector's own code exit 1."""
    from cdk.errors import CdkError, OutsideError, TransientError

    if isinstance(exc, CdkError):
        message = f"{where}: {call} failed: {exc.message}"
        if isinstance(exc, (TransientError, OutsideError)):
            err: ConnectorError = TransientError(message, hint=exc.hint)
        else:
            err = DestinationError(message, hint=exc.hint)
        return err
    if isinstance(exc, OSError):
        return TransientError(
            f"{where}: {call} failed: {type(exc).__name__}: {exc}",
            hint="an outside failure (disk, network); fix it and send the batch again",
        )
    return DestinationError(
        f"{where}: {call} raised {type(exc).__name__}: {exc}",
        hint="a bug or an unexpected answer in the destination's code; the batch was not acknowledged",
    )
