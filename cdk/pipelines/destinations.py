"""The built-in destinations of ``cdk run``: ``logger``, ``jsonl`` and ``sql``.

Each has the shape of :class:`cdk.sdk.source.AbstractDestination` (``write(stream, records) ->
WriteResult``, ``check_connection``, ``finalize``) plus the batch limits a destination may declare,
``max_batch_records`` and ``max_batch_bytes``. A batch given to ``write`` is homogeneous: every record has
the same ``destination_id`` (or none), and its target — one file or table — is that id, else the stream.

``write`` returns only once the batch is durable (fsync'ed, committed): its return is the acknowledgement
after which the pipeline commits the state that covers the batch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from cdk.errors import ConfigError, DestinationError, MissingExtraError, OutputWriteError
from cdk.sdk.records import SourceRecord, WriteResult, data_json, not_json
from cdk.secrets import Secret, SecretSet, mask_urls

log = logging.getLogger("cdk.pipelines.logger")


def target_of(stream: str, records: list[SourceRecord]) -> str:
    """Where a homogeneous batch goes: its records' ``destination_id``, else the stream."""
    return (records[0].destination_id if records else None) or stream


MAX_NAME = 63
"""Longest file or table name made from a target: PostgreSQL's identifier limit (it cuts longer ones
silently, so two long names could meet in one table), well under a file name's 255 bytes."""


def table_name(target: str) -> str:
    """A file or table name for a target: its last dotted part (``project.dataset.click_events`` →
    ``click_events``), characters other than ASCII letters, digits, ``_`` and ``-`` replaced by ``_`` (no
    ``/``, ``..``, NUL or quote survives); a name over :data:`MAX_NAME` characters is cut and ends with
    ``_`` and 8 hex digits of the target's SHA-256, so it stays distinct and fits every file system and
    database."""
    last = target.rsplit(".", 1)[-1] or target
    name = re.sub(r"[^A-Za-z0-9_-]", "_", last) or "records"
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


class TargetNames:
    """The file or table name of each target a destination wrote in this run, refusing a second target
    whose name is the same (or differs only by case: SQLite and case-insensitive file systems fold
    it), so the records of two destination ids never mix in one file or table, where an upsert on the
    record id would overwrite one with the other."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._taken: dict[str, str] = {}

    def __call__(self, target: str) -> str:
        name = table_name(target)
        first = self._taken.setdefault(name.casefold(), target)
        if first != target:
            raise ConfigError(
                f"destination ids {first!r} and {target!r} both map to the {self.kind} "
                f"{table_name(first)!r}: their records would mix",
                hint="a file or table is named after the last dotted part of the destination id (else the "
                "stream), with characters other than A-Z, a-z, 0-9, _ and - replaced by _; give ids that "
                "stay distinct, ignoring case",
            )
        return name


def record_row(stream: str, record: SourceRecord) -> dict[str, Any]:
    row: dict[str, Any] = {"stream": stream, "id": record.id, "data": record.data}
    if record.timestamp is not None:
        row["timestamp"] = record.timestamp.isoformat()
    if record.destination_id is not None:
        row["destination_id"] = record.destination_id
    return row


def record_bytes(stream: str, record: SourceRecord) -> bytes:
    """A record as the JSON line the destinations carry: what ``max_batch_bytes`` measures."""
    try:
        return orjson.dumps(record_row(stream, record), default=str)
    except TypeError as exc:  # non-string keys (made strings), or no JSON at all (named)
        try:
            return orjson.dumps({**record_row(stream, record), "data": json_data(record.data)}, default=str)
        except TypeError:
            raise not_json(stream, [record], exc) from exc


def json_data(data: Any) -> Any:
    """A record's data as the plain JSON value every destination stores (see :func:`data_json`)."""
    return orjson.loads(data_json(data))


class LimitsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_batch_records: int | None = Field(None, ge=1, description="At most this many records per write()")
    max_batch_bytes: int | None = Field(None, ge=1, description="At most this many bytes (JSON) per write()")


class BuiltinDestination:
    """Base of the built-ins: config validated by ``config_class``, limits from the class or the config."""

    config_class: ClassVar[type[LimitsConfig]] = LimitsConfig
    target_kind: ClassVar[str | None] = None
    """What a target becomes ("file", "table"): two targets may not become the same one."""
    max_batch_records: int | None = 1000
    max_batch_bytes: int | None = None

    def __init__(
        self,
        config: dict[str, Any],
        *,
        where: str = "destination.config",
        base: Path | None = None,
        locate: Callable[[tuple[Any, ...], bool], str | None] | None = None,
    ) -> None:
        from cdk.connector import build_config

        self.config: Any = build_config(self.config_class, dict(config or {}), source=where, locate=locate)
        if self.config.max_batch_records is not None:
            self.max_batch_records = self.config.max_batch_records
        if self.config.max_batch_bytes is not None:
            self.max_batch_bytes = self.config.max_batch_bytes
        self._names = TargetNames(self.target_kind or "target")
        self.where = where
        self.setup(base)

    def setup(self, base: Path | None) -> None:
        """What a built-in prepares once its config is valid; ``base`` resolves relative paths."""

    def claim_target(self, target: str) -> str:
        """The file or table name of ``target``; a ``ConfigError`` when another target of this run has it.
        The pipeline claims every target of a page before writing any of its batches."""
        return self._names(target) if self.target_kind else table_name(target)

    def check_connection(self) -> tuple[bool, str | None]:
        return True, None

    def write(self, stream: str, records: list[SourceRecord]) -> WriteResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def finalize(self) -> None:
        """Nothing to flush: every write() is durable when it returns."""

    def describe(self) -> str:
        return type(self).__name__


class LoggerDestination(BuiltinDestination):
    """The guide's ``logger``: each record logged at INFO on ``cdk.pipelines.logger`` (stderr).

    What it prints is masked: the pipeline hands it the source config's secret values
    (:meth:`mask_secrets`), and every spelling of them :mod:`cdk.secrets` knows (raw, URL-encoded,
    base64, JSON- and HTML-escaped) prints as ``REDACTED``, as does the value of a secret-named query
    parameter in a URL (``?api_key=...``). An API that echoes the key back cannot leak it into a log."""

    def setup(self, base: Path | None) -> None:
        self.secrets = SecretSet()

    def mask_secrets(self, *secrets: Secret | str) -> None:
        """Learn secret values to mask in every line printed from now on."""
        self.secrets.add(*secrets)

    def write(self, stream: str, records: list[SourceRecord]) -> WriteResult:
        target = target_of(stream, records)
        for r in records:
            try:
                text = data_json(r.data).decode()
            except TypeError as exc:
                raise not_json(stream, [r], exc) from exc
            line = f"{target} {r.id} {text}"
            log.info("%s", mask_urls(self.secrets.mask(line)))
        return WriteResult(written=len(records))

    def describe(self) -> str:
        return "logger (records logged at INFO on stderr)"


class JsonlConfig(LimitsConfig):
    path: str = Field(..., description="Folder of the files: one DIR/<destination_id or stream>.jsonl")


class JsonlDestination(BuiltinDestination):
    """``jsonl``: one file ``DIR/<table_name(target)>.jsonl`` per target, appended and fsync'ed per batch;
    a failed write truncates the file back to its last complete line (``cdk read``'s sink).

    Exactly once, not only at least once: the size of each file a stream wrote is saved with the stream's
    checkpoint (``positions``), and a run first truncates those files back to it (``rewind``), so lines
    written after the last checkpoint (a kill between the fsync and the state's rename) are removed before
    their page is sent again. A file two streams share goes back to the later of their checkpoints (the
    pipeline merges them): at least once for those, never a line cut that a checkpoint covers."""

    config_class = JsonlConfig
    target_kind = "file"

    def setup(self, base: Path | None) -> None:
        folder = Path(self.config.path).expanduser()
        self.folder = folder if folder.is_absolute() or base is None else base / folder
        self._files: dict[str, Any] = {}
        self._by_stream: dict[str, set[str]] = {}

    def positions(self, stream: str) -> dict[str, int]:
        """The size of every file ``stream`` wrote (all its writes acknowledged)."""
        out = {}
        for name in sorted(self._by_stream.get(stream, ())):
            out[name] = os.fstat(self._files[name].out.fileno()).st_size
        return out

    def rewind(self, positions: dict[str, int]) -> None:
        """Truncate each file back to the size a checkpoint recorded (lines past it were never covered)."""
        for name, size in positions.items():
            path = self.folder / f"{table_name(name)}.jsonl"
            try:
                if path.stat().st_size > size:
                    os.truncate(path, size)
            except FileNotFoundError:
                continue

    def check_connection(self) -> tuple[bool, str | None]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return False, f"cannot create {self.folder}: {exc.strerror or exc}"
        if not os.access(self.folder, os.W_OK):
            return False, f"{self.folder} is not writable"
        return True, None

    def write(self, stream: str, records: list[SourceRecord]) -> WriteResult:
        from cdk.sdk.runner import JsonLinesSink

        name = self.claim_target(target_of(stream, records))
        sink = self._files.get(name)
        if sink is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{name}.jsonl"
            sink = JsonLinesSink(open(path, "ab"), name=str(path))  # noqa: SIM115 - closed in finalize
            self._files[name] = sink
        self._by_stream.setdefault(stream, set()).add(name)
        try:
            sink(stream, records)
        except OutputWriteError as exc:  # the sink's hint speaks of `cdk read >> FILE`; this is `cdk run`
            raise OutputWriteError(
                exc.message,
                hint="free space (or raise the file size limit) and run the same command again: it resumes "
                "after the last acknowledged page, each line written once",
            ) from exc
        return WriteResult(written=len(records))

    def finalize(self) -> None:
        for sink in self._files.values():
            sink.out.close()
        self._files.clear()

    def describe(self) -> str:
        return f"jsonl into {self.folder}/<destination_id or stream>.jsonl"


class SqlConfig(LimitsConfig):
    url: str = Field(..., description="SQLAlchemy URL, e.g. sqlite:///out.db or postgresql+psycopg://...")


RESERVED_COLUMNS = ("record_id", "stream", "data", "timestamp", "destination_id")


def key_value(data: Any, path: str) -> Any:
    """The value at dotted ``path`` of a record's data (``member.id`` → ``data["member"]["id"]``); a key of
    the data that itself contains a dot (``{"member.id": 1}``) is found too. ``KeyError`` when absent."""
    if isinstance(data, dict) and path in data:
        return data[path]
    head, dot, rest = path.partition(".")
    if not dot or not isinstance(data, dict) or head not in data:
        raise KeyError(path)
    return key_value(data[head], rest)


def key_text(value: Any) -> str:
    """A primary key value as the text stored in its column: strings as they are, anything else as JSON
    (``7`` → ``"7"``, ``true`` → ``"true"``), so a value and its table row compare the same everywhere."""
    return value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


class SqlDestination(BuiltinDestination):
    """``sql``: one table per target; every batch is one transaction of upserts, so a batch sent again after
    a crash leaves no duplicate row.

    The upsert key is the stream's ``primary_key`` (connector.yaml), told by the pipeline through
    :meth:`declare_stream`: one text column per key field, named as the field (``org``, ``id``,
    ``member.id``: dotted paths reach into nested objects), plus ``record_id``, ``stream``, ``data`` (JSON),
    ``timestamp`` and ``destination_id``. A stream without a primary key (a single-file source has no
    manifest) is keyed on the record id instead: column ``id`` and the same four others."""

    config_class = SqlConfig
    target_kind = "table"
    max_batch_records = 500

    def setup(self, base: Path | None) -> None:
        try:
            import sqlalchemy as sa
        except ImportError:
            raise MissingExtraError(
                "the sql destination needs SQLAlchemy, which is not installed",
                hint="pip install 'connector-cdk[sql]' (plus a driver for your database, e.g. psycopg)",
            ) from None
        self._sa = sa
        url = self.config.url
        if base is not None and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///") :]
            if rel and rel != ":memory:" and not rel.startswith("/"):
                url = f"sqlite:///{base / rel}"  # relative to the pipeline file, not the working directory
        try:
            self.engine = sa.create_engine(url)
        except Exception as exc:  # noqa: BLE001 - bad URL or missing driver
            from sqlalchemy.engine import make_url

            try:
                shown = make_url(url).render_as_string(hide_password=True)
            except Exception:  # noqa: BLE001
                shown = "(unparseable URL)"
            raise ConfigError(
                f"{self.where}.url: cannot use {shown}: {type(exc).__name__}: {exc}",
                hint="a SQLAlchemy URL such as sqlite:///out.db or postgresql+psycopg://user@host/db; "
                "install the database's driver",
            ) from None
        self.metadata = sa.MetaData()
        self._tables: dict[str, Any] = {}
        self.primary_keys: dict[str, list[str]] = {}

    def declare_stream(self, stream: str, *, primary_key: list[str] | None = None) -> None:
        """The pipeline tells each stream's primary key before its first batch (none: the record id)."""
        key = [k for k in (primary_key or []) if k]
        clash = sorted(set(key) & set(RESERVED_COLUMNS))
        if clash:
            raise ConfigError(
                f"stream '{stream}': primary_key field {clash[0]!r} has the name of a column the sql "
                f"destination keeps itself ({', '.join(RESERVED_COLUMNS)})",
                hint="rename the field in the stream's primary_key, or load the stream with another destination",
            )
        if len(set(key)) != len(key):
            raise ConfigError(f"stream '{stream}': primary_key {key} names a field twice")
        self.primary_keys[stream] = key

    def _key_columns(self, stream: str) -> list[str]:
        return self.primary_keys.get(stream) or ["id"]

    def _table(self, name: str, stream: str) -> Any:
        sa = self._sa
        keys = self._key_columns(stream)
        table = self._tables.get(name)
        if table is not None:
            if [c.name for c in table.primary_key.columns] != keys:
                raise ConfigError(
                    f"table '{name}' receives streams with different primary keys "
                    f"({', '.join(c.name for c in table.primary_key.columns)} and {', '.join(keys)})",
                    hint="route streams with different primary keys to different destination ids",
                )
            return table
        keyed = self.primary_keys.get(stream)
        columns = [sa.Column(k, sa.String, primary_key=True) for k in keys]
        if keyed:
            columns.append(sa.Column("record_id", sa.String, nullable=True))
        columns += [
            sa.Column("stream", sa.String, nullable=False),
            sa.Column("data", sa.JSON, nullable=False),
            sa.Column("timestamp", sa.String, nullable=True),
            sa.Column("destination_id", sa.String, nullable=True),
        ]
        table = sa.Table(name, self.metadata, *columns)
        with self.engine.begin() as conn:
            existing = sa.inspect(conn)
            if existing.has_table(name):
                try:
                    found = existing.get_pk_constraint(name).get("constrained_columns") or []
                except Exception:  # noqa: BLE001 - a dialect that cannot reflect keys (duckdb-engine)
                    found = keys
                if list(found) != keys:
                    raise ConfigError(
                        f"table '{name}' already exists with primary key ({', '.join(found) or 'none'}), "
                        f"but stream '{stream}' upserts on ({', '.join(keys)})",
                        hint="drop or rename the table (it was made by an earlier run keyed otherwise), "
                        "or point destination.config.url at another database",
                    )
            else:
                table.create(conn, checkfirst=True)
        self._tables[name] = table
        return table

    def check_connection(self) -> tuple[bool, str | None]:
        try:
            with self.engine.connect() as conn:
                conn.execute(self._sa.text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any driver error is a failed check
            return False, f"{type(exc).__name__}: {exc}"
        return True, None

    def _rows(self, stream: str, records: list[SourceRecord]) -> dict[tuple[str, ...], dict[str, Any]]:
        keyed = self.primary_keys.get(stream)
        rows: dict[tuple[str, ...], dict[str, Any]] = {}
        for r in records:  # the last version of a key within one batch wins, as a later upsert would
            try:
                data = json_data(r.data)
            except TypeError as exc:
                raise not_json(stream, [r], exc) from exc
            row: dict[str, Any] = {
                "stream": stream,
                "data": data,
                "timestamp": r.timestamp.isoformat() if r.timestamp is not None else None,
                "destination_id": r.destination_id,
            }
            if keyed:
                row["record_id"] = r.id
                for field in keyed:
                    try:
                        value = key_value(row["data"], field)
                    except KeyError:
                        value = None
                    if value is None:
                        raise DestinationError(
                            f"stream '{stream}', record id '{r.id}': primary_key field '{field}' is "
                            f"{'null' if _has(row['data'], field) else 'missing'}",
                            hint=f"every record of '{stream}' needs a value at {field} (its primary_key "
                            "in connector.yaml); fix the source or the primary_key",
                        )
                    row[field] = key_text(value)
            else:
                row["id"] = r.id
            if self.engine.dialect.name == "postgresql":
                _no_nul(stream, r.id, row)
            rows[tuple(row[k] for k in self._key_columns(stream))] = row
        return rows

    def write(self, stream: str, records: list[SourceRecord]) -> WriteResult:
        if not records:
            return WriteResult(written=0)
        sa = self._sa
        table = self._table(self.claim_target(target_of(stream, records)), stream)
        keys = self._key_columns(stream)
        rows = self._rows(stream, records)
        values = list(rows.values())
        dialect = self.engine.dialect.name
        with self.engine.begin() as conn:
            if dialect in ("sqlite", "postgresql"):
                if dialect == "sqlite":
                    from sqlalchemy.dialects.sqlite import insert
                else:
                    from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
                stmt = insert(table)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[table.c[k] for k in keys],
                    set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
                )
                conn.execute(stmt, values)
            else:  # any other database: delete then insert, in the same transaction
                if len(keys) == 1:
                    where = table.c[keys[0]].in_([k[0] for k in rows])
                else:
                    where = sa.or_(
                        *(sa.and_(*(table.c[c] == v for c, v in zip(keys, k, strict=True))) for k in rows)
                    )
                conn.execute(table.delete().where(where))
                conn.execute(table.insert(), values)
        return WriteResult(written=len(records))

    def finalize(self) -> None:
        self.engine.dispose()

    def describe(self) -> str:
        return f"sql {self.engine.url.render_as_string(hide_password=True)} (upsert on the primary key)"


def _no_nul(stream: str, record_id: str, row: dict[str, Any]) -> None:
    """PostgreSQL text holds no NUL character: a clear error naming the record and the column, not the
    driver's DataError blamed on the destination (inside ``data`` a NUL is JSON-escaped and stored)."""
    for column, value in row.items():
        if column != "data" and isinstance(value, str) and "\x00" in value:
            raise DestinationError(
                f"stream '{stream}', record id {record_id!r}: its {column} {value!r} holds a NUL character, "
                "which PostgreSQL text cannot store",
                hint="fix the source (strip NUL from ids and destination ids), or load into SQLite or jsonl",
            )


def _has(data: Any, path: str) -> bool:
    try:
        key_value(data, path)
    except KeyError:
        return False
    return True


BUILTIN: dict[str, type[BuiltinDestination]] = {
    "logger": LoggerDestination,
    "jsonl": JsonlDestination,
    "sql": SqlDestination,
}
