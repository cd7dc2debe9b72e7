"""``cdk run``: a pipeline from a source to a destination, with nothing lost.

The pipeline file is the Python source guide's ``config.yml``::

    name: my-custom-pipeline
    source: {name: my_source, stream: users, sync_mode: full_refresh, max_iterations: 3, ...}
    destination: {name: logger, config: {}}

The promise: **the state that covers a page is committed only after the destination acknowledged every
record of that page.** The runner (:func:`cdk.sdk.runner.read`) saves the checkpoint after its sink
returns; here the sink is: group the page by ``destination_id``, split each group to the destination's
``max_batch_records`` / ``max_batch_bytes``, and ``write`` each batch, returning only when every write
returned. A destination that raises, reports failed records, or a process killed at any moment leaves
the state at the last fully acknowledged page: the next run sends that page again, and primary-key
upserts (the ``sql`` destination) absorb what had already arrived.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cdk.connector import (
    build_config,
    call_check_connection,
    config_class,
    instantiate,
    load_connector_class,
    open_connector,
    read_config_file,
    total_records,
)
from cdk.errors import (
    ConfigError,
    ConnectorError,
    DestinationError,
    ManifestError,
    RecordTooLargeError,
    UsageError,
)
from cdk.manifest import LoadSpec
from cdk.pipelines.destinations import BUILTIN, record_bytes, table_name
from cdk.sdk.records import SourceRecord
from cdk.sdk.runner import ReadSummary, StateStore, destination_error, read, write_batch
from cdk.sdk.source import AbstractDestination, AbstractSource, SimpleSourceAdapter, is_simple_contract
from cdk.secrets import PROCESS_SECRETS, Secret, secret_values


class DestinationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        ..., description="logger | jsonl | sql, an installed destination (name==1.4.2) or a folder"
    )
    config: dict[str, Any] = Field(default_factory=dict)


class PipelineConfig(BaseModel):
    """The pipeline file: the guide's ``config.yml``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="Pipeline name (names its state file)")
    source: dict[str, Any] = Field(..., description="The source's config, plus its `name`")
    destination: DestinationSpec


@dataclass
class StreamResult:
    stream: str
    records: int = 0
    pages: int = 0
    batches: int = 0
    written: int = 0
    targets: dict[str, int] = field(default_factory=dict)
    completed: bool = False
    stopped_by: str | None = None
    resumed_from: dict[str, Any] | None = None
    total: int | None = None
    seconds: float = 0.0
    primary_key: list[str] = field(default_factory=list)

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


@dataclass
class PipelineResult:
    name: str
    source: str
    destination: str
    state_path: str
    dry_run: bool = False
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    streams: list[StreamResult] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(s.records for s in self.streams)

    @property
    def pages(self) -> int:
        return sum(s.pages for s in self.streams)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for entry, stream in zip(out["streams"], self.streams, strict=True):
            entry["records_per_second"] = round(stream.records_per_second, 1)
        seconds = max((s.seconds for s in self.streams), default=0.0)  # streams run side by side
        known = [s.total for s in self.streams]
        out["records"] = self.records
        out["totals"] = {
            "records": self.records,
            "pages": self.pages,
            "batches": sum(s.batches for s in self.streams),
            "seconds": round(seconds, 3),
            "records_per_second": round(self.records / seconds, 1) if seconds > 0 else 0.0,
            "expected": sum(t for t in known if t is not None)
            if known and all(t is not None for t in known)
            else None,
        }
        return out


ProgressCallback = Callable[[StreamResult], None]


class _Located:
    """``FILE:LINE:COL`` of a field of the pipeline file, for its errors; the YAML is parsed again only
    when an error needs a position (a JSON pipeline file is YAML too)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._positions: Any = None

    def at(self, *prefix: Any) -> Callable[[tuple[Any, ...], bool], str | None]:
        """A locator of fields below ``prefix`` (``"source"``; ``"destination", "config"``)."""

        def locate(loc: tuple[Any, ...], key: bool) -> str | None:
            if self._positions is None:
                from cdk.yamlio import read_yaml

                try:
                    self._positions = read_yaml(self.path)[1]
                except Exception:  # noqa: BLE001 - no position is better than a second error
                    self._positions = False
            if not self._positions:
                return None
            line, col = self._positions.locate((*prefix, *loc), key=key)
            return f"{self.path}:{line}:{col + 1}"

        return locate


def load_pipeline(path: str | Path) -> PipelineConfig:
    """The pipeline file, validated; every failing field named and located, an unknown one with the
    closest known name."""
    data = read_config_file(path)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        from cdk.connector import did_you_mean

        locate = _Located(Path(path)).at()
        lines = []
        for err in exc.errors(include_url=False):
            dotted = ".".join(str(p) for p in err["loc"]) or "(root)"
            msg = {"missing": "required field is missing", "extra_forbidden": "unknown field"}.get(
                err["type"], err["msg"]
            )
            if err["type"] == "extra_forbidden":
                msg += did_you_mean(str(err["loc"][-1]), PipelineConfig, err["loc"][:-1])
            loc = tuple(err["loc"])
            where = locate(loc[:-1] if err["type"] == "missing" else loc, err["type"] == "extra_forbidden")
            lines.append(f"  {where + ': ' if where else ''}{dotted}: {msg}")
        raise ConfigError(
            f"{path}: not a pipeline file:\n" + "\n".join(lines),
            hint="a pipeline has `name`, `source: {name, stream, ...}` and `destination: {name, config}`",
        ) from None


def _split_pin(ref: str) -> tuple[str, str | None]:
    name, sep, version = ref.partition("==")
    return name.strip(), (version.strip() or None) if sep else None


def _import_file(path: Path) -> Any:
    """Import a single-file source (``--custom-source FILE.py``)."""
    if not path.is_file():
        raise UsageError(
            f"--custom-source {path}: no such file", hint="give the path of the source's .py file"
        )
    module_name = f"cdk_custom_source_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"--custom-source {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # pydantic resolves the config class's annotations through it
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the source may import its neighbours
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ConnectorError(
            f"{exc.filename}:{exc.lineno}:{exc.offset}: syntax error: {exc.msg}",
            hint="fix the source file; `python -m py_compile FILE` shows the same error",
        ) from None
    except Exception as exc:  # noqa: BLE001 - connector code may raise anything at import
        raise ConnectorError(
            f"importing {path} raised {type(exc).__name__}: {exc}", hint="is every import of it installed?"
        ) from exc
    return module


def _source_class(module: Any, path: Path, wanted: str) -> type[AbstractSource]:
    """The source class a single file defines: the only one, else the one named like the source."""
    found: list[type[AbstractSource]] = []
    for obj in vars(module).values():
        if not isinstance(obj, type) or obj.__module__ != module.__name__:
            continue
        if issubclass(obj, AbstractDestination):
            continue
        if is_simple_contract(obj):
            found.append(SimpleSourceAdapter.wrap(obj))
        elif issubclass(obj, AbstractSource) and not inspect.isabstract(obj):
            found.append(obj)
    if not found:
        raise ConfigError(
            f"--custom-source {path}: defines no source class",
            hint="define a class that subclasses AbstractSource (from cdk import AbstractSource) and "
            "implements streams, get_config_class, check_connection and get",
        )
    if len(found) == 1:
        return found[0]
    key = wanted.replace("_", "").replace("-", "").lower()
    named = [c for c in found if c.__name__.lower() in (key, key + "source")]
    if len(named) == 1:
        return named[0]
    raise ConfigError(
        f"--custom-source {path}: {len(found)} source classes ({', '.join(c.__name__ for c in found)}) "
        f"and none is named after source.name '{wanted}'",
        hint="keep one source class per file, or name it after source.name (my_source -> MySource)",
    )


class _Source:
    """How to make a ready source for one stream, from a single file or a connector."""

    def __init__(self, spec: dict[str, Any], pipeline_path: Path, custom_source: str | Path | None) -> None:
        self.pipeline_path = pipeline_path
        self.base = pipeline_path.parent
        self.spec = dict(spec)
        ref = self.spec.get("name")
        if not isinstance(ref, str) or not ref:
            raise ConfigError(
                f"{pipeline_path}: source.name is missing", hint="name the source (e.g. my_source)"
            )
        self.ref = ref
        self.project: Any = None
        self.secrets: list[Secret | str] = []
        """The secret values of the source's config (every stream opened so far): what the logger masks."""
        if custom_source is not None:
            path = Path(custom_source)
            self.cls: Any = _source_class(_import_file(path), path, ref)
            self.label = f"{self.cls.__name__} ({path})"
        else:
            name, version = _split_pin(ref)
            target: str | Path = name
            if "/" in name or name.startswith("."):
                target = (self.base / name) if not Path(name).is_absolute() else Path(name)
            self.project = open_connector(target, version=version)
            self.cls = load_connector_class(self.project)
            if issubclass(self.cls, AbstractDestination):
                raise UsageError(f"source.name '{ref}' is a destination connector, not a source")
            self.label = f"{self.project.manifest.name} {self.project.manifest.version}"

    def streams(self) -> list[str]:
        if self.project is not None and self.project.manifest.stream_names:
            return list(self.project.manifest.stream_names)
        try:
            return list(self.cls.streams())
        except Exception:  # noqa: BLE001 - a source whose streams() needs a config
            return []

    def primary_key(self, stream: str) -> list[str]:
        """The stream's ``primary_key`` from connector.yaml (a declarative spec's ``primaryKey``); empty for
        a single-file source, which has no manifest."""
        if self.project is None:
            return []
        spec = next((s for s in self.project.manifest.streams if s.name == stream), None)
        if spec is not None:
            return list(spec.primary_key)
        if self.project.manifest.declarative is not None:
            from cdk.connector import describe_streams

            found = next((d for d in describe_streams(self.project) if d["name"] == stream), None)
            return list(found["primary_key"]) if found else []
        return []

    def cursor_field(self, stream: str) -> str | None:
        if self.project is None:
            return None
        spec = next((s for s in self.project.manifest.streams if s.name == stream), None)
        return spec.cursor_field if spec else None

    def open(self, stream: str) -> Any:
        data = {k: v for k, v in self.spec.items() if k != "streams"}
        where = f"{self.pipeline_path}: source"
        if self.project is not None:
            model = config_class(self.project, self.cls)
            if "name" not in model.model_fields:
                data.pop("name", None)
            return instantiate(
                self.project,
                self.cls,
                data,
                stream=stream,
                config_source=str(self.pipeline_path),
                secrets_out=self.secrets,
            )
        from cdk.sdk.http import ConnectorSession

        model = self.cls.get_config_class()
        if "name" not in model.model_fields:
            data.pop("name", None)
        if "stream" in model.model_fields:
            data["stream"] = stream
        resolved: list[str] = []
        config = build_config(
            model,
            data,
            source=where,
            base=self.base,
            resolved=resolved,
            locate=_Located(self.pipeline_path).at("source"),
        )
        secrets: list[Secret | str] = [*secret_values(config.model_dump(), None, model=model), *resolved]
        PROCESS_SECRETS.add(*secrets)
        self.secrets.extend(secrets)
        session = ConnectorSession(delay_request_ms=int(getattr(config, "delay_request_ms", 0) or 0))
        session.secrets.add(*secrets)
        try:
            return self.cls(config, session=session)
        except TypeError as exc:
            raise ConnectorError(f"{self.cls.__name__}(config, session=...) failed: {exc}") from exc


def _open_destination(spec: DestinationSpec, pipeline_path: Path) -> Any:
    where = f"{pipeline_path}: destination.config"
    builtin = BUILTIN.get(spec.name)
    if builtin is not None:
        return builtin(
            spec.config,
            where=where,
            base=pipeline_path.parent,
            locate=_Located(pipeline_path).at("destination", "config"),
        )
    name, version = _split_pin(spec.name)
    target: str | Path = name
    if "/" in name or name.startswith("."):
        target = (pipeline_path.parent / name) if not Path(name).is_absolute() else Path(name)
    try:
        project = open_connector(target, version=version)
    except ManifestError as exc:
        if isinstance(target, Path) or not exc.message.startswith("no such folder"):
            raise
        import difflib

        close = difflib.get_close_matches(name, list(BUILTIN), n=1)
        raise ConfigError(
            f"{pipeline_path}: destination.name '{spec.name}' is neither a built-in destination "
            f"({', '.join(BUILTIN)}) nor an installed connector",
            hint=f"did you mean '{close[0]}'?"
            if close
            else f"`cdk connectors` lists the installed ones; `cdk install {name}==VERSION` installs one",
        ) from None
    cls = load_connector_class(project)
    if not issubclass(cls, AbstractDestination):
        raise UsageError(
            f"destination.name '{spec.name}' is a source connector, not a destination",
            hint="built-in destinations: " + ", ".join(BUILTIN),
        )
    dest = instantiate(
        project, cls, {"name": project.manifest.name, **spec.config}, config_source=str(pipeline_path)
    )
    apply_load_limits(dest, project.manifest.load)
    return dest


def apply_load_limits(dest: Any, load: LoadSpec | None) -> None:
    """A connector destination's batch limits: connector.yaml's ``load:`` wins over the class attributes
    (the manifest is the declaration a packager or operator adjusts without touching code, and what
    ``cdk validate`` checks); the class attributes count where ``load:`` is silent; without either, records
    per batch fall back to the config's ``buffer_size``. Where each limit came from is kept in
    ``dest.batch_limits_from`` for the plan."""
    origin: dict[str, str] = {}
    for name in ("max_batch_records", "max_batch_bytes"):
        declared = getattr(load, name, None) if load is not None else None
        if declared is not None:
            setattr(dest, name, declared)
            origin[name] = "connector.yaml load:"
        elif getattr(dest, name, None) is not None:
            origin[name] = f"{type(dest).__name__}.{name}"
    if getattr(dest, "max_batch_records", None) is None:
        dest.max_batch_records = int(getattr(dest.config, "buffer_size", 500) or 500)
        origin["max_batch_records"] = "config buffer_size"
    dest.batch_limits_from = origin


def describe_destination(dest: Any) -> str:
    describe = getattr(dest, "describe", None)
    return str(describe()) if callable(describe) else type(dest).__name__


def limits_of(dest: Any) -> tuple[int | None, int | None]:
    """The destination's declared ``max_batch_records`` and ``max_batch_bytes`` (None: no limit)."""
    records = getattr(dest, "max_batch_records", None)
    size = getattr(dest, "max_batch_bytes", None)
    return (int(records) if records else None, int(size) if size else None)


def split_batches(
    stream: str, records: list[SourceRecord], max_records: int | None, max_bytes: int | None
) -> list[tuple[str, list[SourceRecord]]]:
    """A page as the batches a destination receives: grouped by target (``destination_id``, else the
    stream), in first-seen order, each group cut to ``max_records`` and ``max_bytes`` (JSON bytes).

    A record alone over ``max_bytes`` raises :class:`RecordTooLargeError` naming its id, before any batch
    of the page is written."""
    groups: dict[str, list[tuple[SourceRecord, int]]] = {}
    for r in records:
        size = len(record_bytes(stream, r)) if max_bytes is not None else 0
        if max_bytes is not None and size > max_bytes:
            raise RecordTooLargeError(
                f"stream '{stream}', record id '{r.id}'"
                + (f" (destination_id '{r.destination_id}')" if r.destination_id else "")
                + f": {size:,} bytes, over the destination's max_batch_bytes={max_bytes:,}",
                hint="raise max_batch_bytes in destination.config if the destination accepts it, or leave "
                "the field out of the record; nothing of this page was written and the state stays before it",
            )
        groups.setdefault(r.destination_id or stream, []).append((r, size))
    out: list[tuple[str, list[SourceRecord]]] = []
    for target, items in groups.items():
        batch: list[SourceRecord] = []
        used = 0
        for r, size in items:
            full = (max_records is not None and len(batch) >= max_records) or (
                max_bytes is not None and batch and used + size > max_bytes
            )
            if full:
                out.append((target, batch))
                batch, used = [], 0
            batch.append(r)
            used += size
        if batch:
            out.append((target, batch))
    return out


class _LockedStateStore(StateStore):
    """The state file shared by streams read concurrently: one ``put`` (rewrite + rename) at a time.

    With a destination that has ``positions(stream)`` (jsonl), each checkpoint also records where the
    destination stood, in the same atomic rewrite: what ``rewind`` goes back to on the next run."""

    def __init__(
        self, path: str | Path | None, dest: Any = None, dest_lock: threading.Lock | None = None
    ) -> None:
        super().__init__(path)
        self.lock = threading.Lock()
        self.dest = dest
        self.dest_lock = dest_lock or threading.Lock()

    def get(self, stream: str) -> dict[str, Any]:
        with self.lock:
            return super().get(stream)

    def put(self, stream: str, entry: dict[str, Any]) -> None:
        positions = getattr(self.dest, "positions", None)
        if callable(positions):
            with self.dest_lock:
                entry = {**entry, "destination_positions": positions(stream)}
        with self.lock:
            super().put(stream, entry)


class _DeliveringSink:
    """The runner's sink: returns only when the destination acknowledged every record of the page.

    Streams are read concurrently, but a destination sees one ``write`` at a time (``lock``): no
    destination has to be thread-safe."""

    def __init__(
        self, dest: Any, result: StreamResult, lock: threading.Lock, stop: threading.Event | None = None
    ) -> None:
        self.dest = dest
        self.lock = lock
        self.stop = stop or threading.Event()
        self.result = result
        self.max_records, self.max_bytes = limits_of(dest)
        self.name = type(dest).__name__

    def __call__(self, stream: str, records: list[SourceRecord]) -> None:
        batches = split_batches(stream, records, self.max_records, self.max_bytes)
        claim = getattr(self.dest, "claim_target", None)
        if callable(claim):  # two ids that would share a file or table: refused before the page is written
            for target in dict.fromkeys(target for target, _ in batches):
                try:
                    with self.lock:
                        claim(target)
                except Exception as exc:  # noqa: BLE001 - destination code may raise anything
                    raise destination_error(
                        f"destination {self.name}, stream '{stream}'", f"claiming target '{target}'", exc
                    ) from exc
        for target, batch in batches:
            if (
                self.stop.is_set()
            ):  # Ctrl-C in the main thread: no further batch, the state stays before this page
                raise KeyboardInterrupt
            where = (
                f"destination {self.name}, stream '{stream}', target '{target}', "
                f"batch {self.result.batches + 1} ({len(batch)} records, ids {batch[0].id}..{batch[-1].id})"
            )
            with self.lock:
                ack = write_batch(self.dest, stream, batch, where)
            if ack.failed or ack.written < len(batch):
                raise DestinationError(
                    f"{where}: the destination acknowledged {ack.written} of {len(batch)} records"
                    + (f" ({ack.failed} failed: {'; '.join(ack.errors[:3])})" if ack.failed else ""),
                    hint="the state was not advanced past this page: fix the cause and run the same command "
                    "again; the page is sent again",
                )
            self.result.batches += 1
            self.result.written += len(batch)
            key = table_name(target)
            self.result.targets[key] = self.result.targets.get(key, 0) + len(batch)


def default_state_path(pipeline_path: Path, name: str) -> Path:
    """``.cdk/state/<pipeline name>.json`` beside the pipeline file."""
    return pipeline_path.parent / ".cdk" / "state" / f"{table_name(name)}.json"


def run_pipeline(
    pipeline_path: str | Path,
    *,
    custom_source: str | Path | None = None,
    streams: list[str] | None = None,
    state_path: str | Path | None = None,
    dry_run: bool = False,
    ignore_checkpoint: bool = False,
    destination: Any = None,
    on_progress: ProgressCallback | None = None,
    count_totals: bool = False,
    concurrency: int = 2,
) -> PipelineResult:
    """Run the pipeline of ``pipeline_path`` (or, with ``dry_run``, check both ends and plan it).

    ``destination``: an already built destination object to use instead of the file's (tests, embedding).
    ``count_totals``: ask the source's ``get_total_records_count()`` for progress (it may cost a request).
    ``concurrency``: streams read at the same time, each with its own source instance and checkpoint.
    """
    path = Path(pipeline_path)
    config = load_pipeline(path)
    source = _Source(config.source, path, custom_source)
    dest = destination if destination is not None else _open_destination(config.destination, path)
    state_file = Path(state_path) if state_path else default_state_path(path, config.name)
    result = PipelineResult(
        name=config.name,
        source=source.label,
        destination=describe_destination(dest),
        state_path=str(state_file),
        dry_run=dry_run,
    )
    chosen = _choose_streams(source, config.source, streams, path)
    max_records, max_bytes = limits_of(dest)
    if dry_run:
        ok, reason = dest.check_connection()
        result.checks["destination"] = {"ok": bool(ok), "message": reason}
        state = StateStore(state_file)
        for stream in chosen:
            conn = source.open(stream)
            if "source" not in result.checks:
                sok, sreason = _safe_check(conn)
                result.checks["source"] = {"ok": sok, "message": sreason}
            entry = state.get(stream)
            result.plan.append(
                {
                    "stream": stream,
                    "sync_mode": _sync_mode(conn),
                    "resume_at": entry.get("pagination") if entry.get("status") == "running" else None,
                    "max_iterations": getattr(conn.config, "max_iterations", None),
                    "max_batch_records": max_records,
                    "max_batch_bytes": max_bytes,
                    "limits_from": dict(getattr(dest, "batch_limits_from", {}) or {}),
                    "primary_key": source.primary_key(stream),
                }
            )
        return result
    ok, reason = dest.check_connection()
    if not ok:
        raise DestinationError(
            f"{path}: destination {config.destination.name}: connection check failed: {reason}",
            hint="fix destination.config (`cdk run --dry-run` checks both ends without reading)",
        )
    if concurrency < 1:
        raise UsageError(f"--concurrency {concurrency}: give 1 or more")
    declare = getattr(dest, "declare_stream", None)
    if callable(declare):
        for stream in chosen:  # the sql destination upserts on each stream's primary key
            declare(stream, primary_key=source.primary_key(stream))
    lock = threading.Lock()
    stop = threading.Event()  # set on Ctrl-C: every stream stops before its next batch
    state = _LockedStateStore(state_file, dest, lock)
    rewind = getattr(dest, "rewind", None)
    if callable(rewind):
        # a file two streams share goes back only to the later of their checkpoints, and every stream of
        # the state file counts, chosen this run or not: what one stream acknowledged is never cut because
        # another had not checkpointed yet (its own surplus lines are then sent again: at least once)
        sizes: dict[str, int] = {}
        for entry in state.data["streams"].values():
            saved = entry.get("destination_positions") if isinstance(entry, dict) else None
            for name, size in (saved or {}).items() if isinstance(saved, dict) else ():
                if isinstance(size, int):
                    sizes[name] = max(size, sizes.get(name, 0))
        rewind(sizes)
    try:
        if concurrency == 1 or len(chosen) == 1:
            for stream in chosen:
                result.streams.append(
                    _run_stream(
                        source, stream, dest, state, lock, ignore_checkpoint, on_progress, count_totals, stop
                    )
                )
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(concurrency, len(chosen))) as pool:
                futures = [
                    pool.submit(
                        _run_stream,
                        source,
                        s,
                        dest,
                        state,
                        lock,
                        ignore_checkpoint,
                        on_progress,
                        count_totals,
                        stop,
                    )
                    for s in chosen
                ]
                errors: list[BaseException] = []
                for future in futures:
                    while True:
                        try:
                            result.streams.append(future.result())
                        except KeyboardInterrupt as exc:  # Ctrl-C here, or a worker stopped by it
                            if not stop.is_set():
                                stop.set()  # the workers stop at their next batch; wait for them
                                errors.insert(0, exc)
                                continue
                            if future.done():
                                errors.append(exc)
                            else:
                                continue  # a second Ctrl-C: keep waiting, the workers are stopping
                        except BaseException as exc:  # noqa: BLE001 - the other streams finish; then report
                            errors.append(exc)
                        break
                if errors:
                    raise errors[0]
    except BaseException:
        try:
            dest.finalize()
        except Exception:  # noqa: BLE001 - the first failure is the one to report
            pass
        raise
    try:
        dest.finalize()
    except Exception as exc:  # noqa: BLE001 - destination code may raise anything
        raise destination_error(f"destination {type(dest).__name__}", "finalize()", exc) from exc
    return result


def _safe_check(conn: Any) -> tuple[bool, str | None]:
    try:
        return call_check_connection(conn)
    except Exception as exc:  # noqa: BLE001 - the source's bug is a failed check in a plan
        return False, f"{type(exc).__name__}: {exc}"


def _sync_mode(conn: Any) -> str:
    mode = getattr(getattr(conn, "config", None), "sync_mode", None)
    return str(getattr(mode, "value", mode or "full_refresh"))


def _choose_streams(source: _Source, spec: dict[str, Any], flags: list[str] | None, path: Path) -> list[str]:
    wanted: list[str] = list(flags or [])
    if not wanted:
        many = spec.get("streams")
        if isinstance(many, list) and all(isinstance(s, str) for s in many):
            wanted = list(many)
        elif isinstance(spec.get("stream"), str):
            wanted = [spec["stream"]]
    known = source.streams()
    if not wanted:
        if not known:
            raise ConfigError(f"{path}: source.stream is missing", hint="name the stream to sync")
        wanted = [known[0]]
    if known:
        for s in wanted:
            if s not in known:
                import difflib

                close = difflib.get_close_matches(s, known, n=1)
                raise ConfigError(
                    f"{path}: source {source.ref} has no stream '{s}'; streams: {', '.join(known)}",
                    hint=f"did you mean '{close[0]}'?" if close else "fix source.stream (or source.streams)",
                )
    return list(dict.fromkeys(wanted))


def _run_stream(
    source: _Source,
    stream: str,
    dest: Any,
    state: StateStore,
    lock: threading.Lock,
    ignore_checkpoint: bool,
    on_progress: ProgressCallback | None,
    count_totals: bool,
    stop: threading.Event | None = None,
) -> StreamResult:
    conn = source.open(stream)
    learn = getattr(dest, "mask_secrets", None)
    if callable(learn):
        with lock:  # the logger masks the source config's secret values in what it prints
            learn(*source.secrets)
    result = StreamResult(stream=stream, primary_key=source.primary_key(stream))
    if count_totals:
        result.total = total_records(conn)
    incremental = _sync_mode(conn) == "incremental"
    sink = _DeliveringSink(dest, result, lock, stop)
    start = time.monotonic()

    def on_page(summary: ReadSummary) -> None:
        result.records, result.pages = summary.records, summary.pages
        result.seconds = time.monotonic() - start
        if on_progress is not None:
            on_progress(result)

    summary = read(
        conn,
        stream,
        sink,
        state=state,
        incremental=incremental,
        cursor_field=source.cursor_field(stream),
        ignore_checkpoint=ignore_checkpoint or bool(getattr(conn.config, "force_ignore_checkpoint", False)),
        on_page=on_page,
    )
    result.records, result.pages = summary.records, summary.pages
    result.completed, result.stopped_by = summary.completed, summary.stopped_by
    result.resumed_from = summary.resumed_from
    result.seconds = time.monotonic() - start
    return result
