"""Turning a connector folder into running objects: import the entrypoint, build and validate a config.

Only the run commands, tests and the sandboxed service import connector code; ``cdk validate`` never does.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cdk.errors import CdkError, ConfigError, ConnectorError, ManifestError
from cdk.project import Project
from cdk.sdk.config import SourceConfig
from cdk.sdk.source import (
    AbstractDestination,
    AbstractSource,
    SimpleSourceAdapter,
    StreamingSource,
    is_simple_contract,
)
from cdk.secret_refs import resolve_config
from cdk.secrets import PROCESS_SECRETS, Secret, secret_values

Connector = type[AbstractSource] | type[StreamingSource] | type[AbstractDestination]

ENTRY_POINT_GROUP = "cdk.connectors"  # the same group cdk.publish.build registers connectors under


def open_connector(ref: str | Path, *, version: str | None = None) -> Project:
    """The connector ``ref`` names: a folder (or its connector.yaml), else an installed connector found by
    its ``cdk.connectors`` entry point (its name, or its distribution's name). ``version`` refuses any
    other version."""
    path = Path(ref)
    text = str(ref)
    if path.exists() or "/" in text or "\\" in text or text in (".", ".."):
        project = Project.load(path)
        if version and project.manifest.version != version:
            raise ConfigError(
                f"{project.root} is {project.manifest.name} {project.manifest.version}, not {version}",
                hint="drop --version or check out that version",
            )
        return project
    return installed_project(text, version=version)


def installed_project(name: str, *, version: str | None = None) -> Project:
    """The installed connector ``name`` (its connector.yaml ships inside its package)."""
    import importlib.util
    from importlib.metadata import entry_points

    from packaging.utils import canonicalize_name

    wanted = {canonicalize_name(name), canonicalize_name(f"{name}-connector")}
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        dist_name = canonicalize_name(dist.metadata["Name"]) if dist is not None else None
        if canonicalize_name(ep.name) in wanted or dist_name in wanted:
            found.append(ep)
    if not found:
        raise ManifestError(
            f"no such folder or installed connector: '{name}'",
            hint=f"`cdk connectors` lists the installed ones; `cdk install {name}==VERSION` installs one",
        )
    ep = found[0]
    dist = getattr(ep, "dist", None)
    installed = dist.version if dist is not None else None
    if version and installed != version:
        raise ConfigError(
            f"installed connector {name} is version {installed}, not {version}",
            hint=f"cdk install {name}=={version}",
        )
    top = ep.value.split(":", 1)[0].split(".", 1)[0]
    spec = importlib.util.find_spec(top)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    folder = next((Path(p) for p in locations if (Path(p) / "connector.yaml").is_file()), None)
    if folder is None:
        raise ManifestError(
            f"installed connector {name} ({ep.value}) has no connector.yaml in its package",
            hint="rebuild it with `cdk build`, which ships connector.yaml inside the wheel",
        )
    return Project.load(folder)


def _import(project: Project, target: str, what: str) -> Any:
    module_name, _, attr = target.partition(":")
    root = str(project.root)
    for entry in (root, str(project.root / "src")):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    line, col = project.positions.locate((what,))
    where = f"{project.rel(project.manifest_path)}:{line}:{col + 1}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ManifestError(
                f"{where}: {what} '{target}' does not resolve: no module '{module_name}' in {project.root}",
                hint="check the module path in connector.yaml",
            ) from None
        raise ConnectorError(
            f"importing {module_name} failed: {exc}", hint="is the dependency installed?"
        ) from exc
    except SyntaxError as exc:
        raise ConnectorError(
            f"{exc.filename}:{exc.lineno}:{exc.offset}: syntax error: {exc.msg}", hint="run `cdk validate`"
        ) from None
    except Exception as exc:  # noqa: BLE001 - connector code may raise anything at import
        raise ConnectorError(f"importing {module_name} raised {type(exc).__name__}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ManifestError(
            f"{where}: {what} '{target}' does not resolve: module '{module_name}' has no '{attr}'",
            hint="check the class name in connector.yaml",
        ) from None


def load_connector_class(project: Project) -> Connector:
    """The connector class of a folder: its entrypoint, the declarative engine, or the adapter of the simpler custom-sources contract."""
    manifest = project.manifest
    if manifest.entrypoint is None:
        from cdk.declarative import build_source_class

        return build_source_class(project)
    cls = _import(project, manifest.entrypoint, "entrypoint")
    if not isinstance(cls, type):
        raise ManifestError(f"entrypoint '{manifest.entrypoint}' is not a class")
    if not issubclass(cls, AbstractDestination) and is_simple_contract(cls):
        return SimpleSourceAdapter.wrap(cls)  # the custom-sources API's contract, inheriting or not
    if issubclass(cls, (AbstractSource, StreamingSource, AbstractDestination)):
        return cls
    raise ManifestError(
        f"entrypoint '{manifest.entrypoint}' is neither an AbstractSource, StreamingSource nor AbstractDestination",
        hint="subclass one of them (from cdk import AbstractSource)",
    )


def config_class(project: Project, cls: Connector) -> type[BaseModel]:
    """The pydantic config class: config.class of the manifest, else the connector's get_config_class()."""
    spec = project.manifest.config
    if spec and spec.class_:
        model = _import(project, spec.class_, "config")
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model
        raise ManifestError(f"config.class '{spec.class_}' is not a pydantic model")
    return cls.get_config_class()


def read_config_file(path: str | Path | None) -> dict[str, Any]:
    """A JSON (or YAML) config file as a dict; syntax errors located. None gives an empty config."""
    if path is None:
        return {}
    path = Path(path)
    from cdk.errors import InputError
    from cdk.fsutil import parse_json, read_input_text
    from cdk.yamlio import parse_yaml

    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"config file not found: {path}", hint="pass --config FILE (JSON)")
    try:
        text = read_input_text(path)
        data = (
            parse_yaml(text, str(path))[0]
            if path.suffix in (".yaml", ".yml")
            else parse_json(text, str(path))
        )
    except InputError as exc:
        raise ConfigError(str(exc), hint=exc.hint) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config is a JSON object")
    return data


def build_config(
    model: type[BaseModel],
    data: dict[str, Any],
    *,
    source: str = "config",
    base: Path | None = None,
    resolved: list[str] | None = None,
    locate: Callable[[tuple[Any, ...], bool], str | None] | None = None,
    **defaults: Any,
) -> Any:
    """Validate ``data`` (after resolving its secret references) against ``model``; name every failing
    field, an unknown one with the closest known name. ``base``: the config file's folder (relative
    ``file:`` references); ``resolved`` collects the values references pointed to — secrets whatever
    field holds them. ``locate(loc, is_key)``: ``FILE:LINE:COL`` of a field in the file (None: unknown)."""
    data, found = resolve_config(dict(data), base=base)
    if resolved is not None:
        resolved.extend(value for _, value in found)
    for key, value in defaults.items():
        if value is not None and key in model.model_fields:
            data.setdefault(key, value)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields, lines = [], []
        for err in exc.errors(include_url=False):
            dotted = ".".join(str(p) for p in err["loc"]) or "(root)"
            fields.append(dotted)
            msg = "required field is missing" if err["type"] == "missing" else err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field" + did_you_mean(str(err["loc"][-1]), model, err["loc"][:-1])
            where = locate(tuple(err["loc"]), err["type"] == "extra_forbidden") if locate else None
            lines.append(f"  {where + ': ' if where else ''}{dotted}: {msg}")
        raise ConfigError(
            f"{source} does not fit {model.__name__}:\n" + "\n".join(lines),
            fields=fields,
            hint="`cdk spec` prints the config schema",
        ) from None


def did_you_mean(key: str, model: type[BaseModel], parent: tuple[Any, ...] = ()) -> str:
    """``"; did you mean 'X'?"`` for an unknown ``key`` of ``model`` (a nested model's field at the path
    ``parent``), X its closest field name or alias; empty when none is close."""
    import difflib

    for step in parent:  # down the nested models the path goes through
        field = model.model_fields.get(str(step))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    names = [f.alias or n for n, f in model.model_fields.items()]
    close = difflib.get_close_matches(key, names, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def stream_or_default(project: Project, cls: Connector, stream: str | None) -> str | None:
    """The stream to use: the one asked for (checked), else the first of the manifest."""
    names = project.manifest.stream_names
    if not names and hasattr(cls, "streams"):
        try:
            names = list(cls.streams())
        except TypeError:
            names = []
    if stream is None:
        return names[0] if names else None
    if names and stream not in names:
        import difflib

        close = difflib.get_close_matches(stream, names, n=1)
        raise ConfigError(
            f"no stream '{stream}' in {project.manifest.name}; streams: {', '.join(names)}",
            hint=f"did you mean '{close[0]}'?" if close else None,
        )
    return stream


def is_source_config(model: type[BaseModel]) -> bool:
    return issubclass(model, SourceConfig)


def instantiate(
    project: Project,
    cls: Connector,
    config_data: dict[str, Any],
    *,
    stream: str | None = None,
    config_source: str = "config",
    session: Any = None,
    secrets_out: list[Secret | str] | None = None,
) -> Any:
    """A ready connector: config validated, session guarded by the manifest's allowed_hosts.

    ``secrets_out`` receives the config's secret values (what its output must be masked with)."""
    from cdk.sdk.http import ConnectorSession

    model = config_class(project, cls)
    defaults: dict[str, Any] = {"name": project.manifest.name}
    if stream is not None:
        if "stream" in model.model_fields:  # the stream asked for wins over the config's `stream:`
            config_data = {**config_data, "stream": stream}
        defaults["stream"] = stream
    source_path = Path(config_source)
    base = source_path.parent if config_source != "config" and source_path.is_file() else None
    resolved: list[str] = []
    config = build_config(model, config_data, source=config_source, base=base, resolved=resolved, **defaults)
    if session is None:
        session = ConnectorSession(
            allowed_hosts=project.manifest.allowed_hosts,
            delay_request_ms=int(getattr(config, "delay_request_ms", 0) or 0),
        )
    secrets: list[Secret | str] = [*config_secrets(project, model, config), *resolved]
    PROCESS_SECRETS.add(*secrets)  # failure messages and --debug tracebacks are masked with them
    if secrets_out is not None:
        secrets_out.extend(secrets)
    if isinstance(session, ConnectorSession):
        session.secrets.add(*secrets)
    try:
        return cls(config, session=session)
    except TypeError as exc:
        raise ConnectorError(f"{cls.__name__}(config, session=...) failed: {exc}") from exc


def config_secrets(project: Project, model: type[BaseModel], config: BaseModel) -> list[Secret]:
    """The secret values of a validated config (marked by the manifest's schema or the class, or by name)."""
    try:
        schema = project.config_schema()
    except CdkError:
        schema = None
    return secret_values(config.model_dump(), schema, model=model)


def connector_config_schema(project: Project, cls: Connector | None = None) -> dict[str, Any]:
    """The config JSON Schema users fill in: the manifest's schema, else generated from the config class."""
    schema = project.config_schema()
    if schema is not None:
        return schema
    if project.manifest.declarative is not None:
        from cdk.declarative import load_project_spec

        spec = load_project_spec(project).spec
        if spec is not None:
            return spec
    from cdk.sdk.config import own_fields_schema

    cls = cls or load_connector_class(project)
    return own_fields_schema(config_class(project, cls))


def describe_streams(project: Project) -> list[dict[str, Any]]:
    """Streams with keys, cursor and record schema: from the manifest, or from a declarative spec."""
    incremental = "incremental" in project.manifest.capabilities
    out = []
    if project.manifest.streams or project.manifest.declarative is None:
        for s in project.manifest.streams:
            schema = project.stream_schema(s.name)
            if schema is None and project.manifest.declarative is not None:
                from cdk.declarative import stream_schema

                schema = stream_schema(project, s.name)
            out.append(
                {
                    "name": s.name,
                    "primary_key": s.primary_key,
                    "cursor_field": s.cursor_field,
                    "supports_incremental": incremental and bool(s.cursor_field),
                    "schema": schema,
                }
            )
        return out
    from cdk.declarative import load_project_spec, stream_schema

    for name, stream in load_project_spec(project).streams.items():
        out.append(
            {
                "name": name,
                "primary_key": stream.primaryKey or [],
                "cursor_field": stream.cursorField,
                "supports_incremental": incremental and bool(stream.cursorField),
                "schema": stream_schema(project, name),
            }
        )
    return out


def read_stream(
    project: Project,
    config_path: str | Path | None,
    stream: str | None,
    sink: Any,
    *,
    state_path: str | Path | None = None,
    incremental: bool | None = None,
    max_records: int | None = None,
    max_iterations: int | None = None,
    ignore_checkpoint: bool = False,
    on_page: Any = None,
    on_total: Any = None,
    allow_partial: bool = False,
) -> Any:
    """Read one stream of a source folder into ``sink``: what ``cdk read`` (and a preview) does.

    ``incremental=None`` follows the config's sync_mode; the cursor field comes from the manifest.
    ``on_total``: called with the source's ``get_total_records_count()`` (when it implements one and it
    answers) before the read — a progress bar's total; not asked when None (it may cost a request).
    ``allow_partial``: a read stopped by the source's request cap returns (see :func:`cdk.sdk.runner.read`)
    instead of raising MaximumRequestReached. Returns the runner's ReadSummary.
    """
    from cdk.errors import UsageError
    from cdk.sdk import runner

    cls = load_connector_class(project)
    if issubclass(cls, AbstractDestination):
        raise UsageError(f"{project.manifest.name} is a destination; use `cdk write`")
    config_data = read_config_file(config_path)
    if stream is None and isinstance(config_data.get("stream"), str):
        stream = config_data["stream"]  # the config's `stream:` names the stream when no flag does
    stream = stream_or_default(project, cls, stream)
    if stream is None:  # unreachable for a valid manifest: a source declares at least one stream
        raise UsageError(f"{project.manifest.name} declares no stream to read")
    conn = instantiate(project, cls, config_data, stream=stream, config_source=str(config_path))
    state = runner.StateStore(state_path)
    if isinstance(conn, StreamingSource):
        return runner.read_streaming(conn, stream, sink, state=state, max_records=max_records)
    if on_total is not None:
        on_total(total_records(conn))
    if incremental is None:
        incremental = (
            getattr(getattr(conn.config, "sync_mode", None), "value", "full_refresh") == "incremental"
        )
    if incremental and "incremental" not in project.manifest.capabilities:
        raise UsageError(f"{project.manifest.name} does not declare the 'incremental' capability")
    spec = next((s for s in project.manifest.streams if s.name == stream), None)
    summary = runner.read(
        conn,
        stream,
        sink,
        state=state,
        incremental=incremental,
        cursor_field=spec.cursor_field if spec else None,
        max_iterations=max_iterations,
        max_records=max_records,
        ignore_checkpoint=ignore_checkpoint or bool(getattr(conn.config, "force_ignore_checkpoint", False)),
        on_page=on_page,
        allow_partial=allow_partial,
    )
    summary.extra["incremental"] = bool(incremental)
    return summary


def _overrides(conn: Any, name: str) -> bool:
    """True when the connector's class defines ``name`` itself (not the SDK's default)."""
    method = getattr(type(conn), name, None)
    return method is not None and method is not getattr(AbstractSource, name, None)


def _normalise_discovered(found: Any, manifest: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    from cdk.errors import ConnectorError

    items: list[Any]
    if isinstance(found, dict):
        items = [{"name": name, "schema": schema} for name, schema in found.items()]
    elif isinstance(found, (list, tuple)):
        items = list(found)
    else:
        raise ConnectorError(
            f"discover() returned {type(found).__name__}; expected a list of streams or a mapping"
        )
    out = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConnectorError(
                f"discover() stream {n}: expected {{'name': str, 'schema': {{...}}}}, got {item!r}"
            )
        known = manifest.get(item["name"], {})
        cursor = item.get("cursor_field", known.get("cursor_field"))
        out.append(
            {
                "name": item["name"],
                "primary_key": list(item.get("primary_key") or known.get("primary_key") or []),
                "cursor_field": cursor,
                "supports_incremental": bool(cursor) and bool(known.get("supports_incremental", True)),
                "schema": item.get("schema"),
                "origin": "discover()",
            }
        )
    return out


def discover_streams(project: Project, config_path: str | Path | None = None) -> list[dict[str, Any]]:
    """What ``cdk discover`` reports. With a config, a source's own ``discover()`` (dynamic) wins, then
    its ``get_json_schema(stream)`` per stream; otherwise the manifest. Each stream says where its schema
    came from (``origin``). Schemas inferred from records: :mod:`cdk.workflows.discover`."""
    streams = [{**s, "origin": "manifest"} for s in describe_streams(project)]
    if config_path is None:
        return streams
    cls = load_connector_class(project)
    if issubclass(cls, AbstractDestination):
        return streams
    conn = instantiate_from_file(project, cls, config_path)
    if _overrides(conn, "discover"):
        found = conn.discover()
        if found is not None:
            streams = _normalise_discovered(found, {s["name"]: s for s in streams})
    elif _overrides(conn, "get_json_schema"):
        origins = getattr(conn, "schema_origins", {})
        for s in streams:
            schema = conn.get_json_schema(s["name"])
            if schema is not None:
                s["schema"], s["origin"] = schema, origins.get(s["name"], "get_json_schema()")
    return streams


def total_records(conn: Any) -> int | None:
    """The source's own ``get_total_records_count()``, or None (not implemented, unknown, or it failed:
    a count is only for progress, never a reason to fail a read)."""
    method = getattr(type(conn), "get_total_records_count", None)
    if method is None or method is AbstractSource.get_total_records_count:
        return None
    try:
        total = conn.get_total_records_count()
    except Exception:  # noqa: BLE001 - connector code may raise anything; progress only
        return None
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None


def choose_streams(
    project: Project, config_path: str | Path | None, streams: list[str] | None, *, all_streams: bool = False
) -> list[str | None]:
    """The streams one ``cdk read`` reads, in order: the ``-s`` flags (each checked, duplicates
    dropped), every stream with ``all_streams``, else the config's ``stream:``, else every stream (a
    config that names no stream means "all of them", as ``--all-streams`` would)."""
    from cdk.errors import UsageError

    if streams and all_streams:
        raise UsageError("give --stream or --all-streams, not both")
    cls = load_connector_class(project)
    if not streams and not all_streams and config_path is not None:
        named = read_config_file(config_path).get("stream")
        all_streams = not (isinstance(named, str) and named)
    if all_streams:
        names = project.manifest.stream_names
        if not names and hasattr(cls, "streams"):
            try:
                names = list(cls.streams())
            except TypeError:
                names = []
        return list(names) or [None]
    if streams:
        return [stream_or_default(project, cls, s) for s in dict.fromkeys(streams)]
    return [None]


def instantiate_from_file(project: Project, cls: type, config_path: str | Path) -> Any:
    """``cls`` built from the config file at ``config_path`` for the stream it names (else the default)."""
    config_data = read_config_file(config_path)
    named = config_data.get("stream")
    return instantiate(
        project,
        cls,
        config_data,
        config_source=str(config_path),
        stream=stream_or_default(project, cls, named if isinstance(named, str) else None),
    )


def check_connection(project: Project, config_path: str | Path) -> tuple[bool, str | None]:
    """Test the connection and credentials of ``config_path``: what ``cdk check`` (and a service's
    test-connection) does. A failure of the connector's code is a failed check with its reason."""
    cls = load_connector_class(project)
    conn = instantiate_from_file(project, cls, config_path)
    try:
        return call_check_connection(conn)
    except Exception as exc:  # noqa: BLE001 - connector code may raise anything
        return False, f"{type(exc).__name__}: {exc}"


def call_check_connection(conn: Any) -> tuple[bool, str | None]:
    """``conn.check_connection()`` as ``(ok, reason)``, the one way cdk asks (``cdk check``, the standard
    tests, a service's test-connection).

    The guide's shape, ``response = self.session.get(...); return response.ok, None``, lets the typed
    errors of the SDK's session escape (``AuthenticationError`` on 401/403, ``TransientError`` when the
    API stays down): those are a failed check with the error's message, never a crash. A bare ``bool``
    (the simpler contract) is accepted. Any other exception is the connector's bug and propagates.
    """
    try:
        result = conn.check_connection()
    except ConnectorError as exc:
        return False, exc.message
    if isinstance(result, tuple):
        ok, reason = (result + (None,))[:2] if len(result) < 2 else result[:2]
        return bool(ok), None if reason is None else str(reason)
    return bool(result), None


def write_records(
    project: Project, config_path: str | Path, stream: str, records: Any, *, batch_size: int | None = None
) -> Any:
    """Load JSON Lines ``records`` (a binary stream) into the destination folder's connector: what
    ``cdk write`` does. ``batch_size`` defaults to the config's buffer_size. Returns the runner's
    WriteSummary."""
    from cdk.errors import UsageError
    from cdk.sdk import runner

    cls = load_connector_class(project)
    if not issubclass(cls, AbstractDestination):
        raise UsageError(f"{project.manifest.name} is a source; use `cdk read`")
    dest = instantiate(project, cls, read_config_file(config_path), config_source=str(config_path))
    size = batch_size or int(getattr(dest.config, "buffer_size", 500))
    return runner.write(dest, stream, records, batch_size=size)
