"""connector.yaml, manifest version 1: the pydantic model and a loader that locates errors.

The loader parses the YAML once into nodes, so every value keeps its line and column; pydantic's
error locations (``("streams", 0, "cursor_field")``) are mapped back onto those positions.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cdk.errors import ManifestError
from cdk.findings import Finding
from cdk.yamlio import Positions

__all__ = ["MANIFEST_FILE", "Manifest", "Positions", "load_manifest", "parse_yaml_with_positions"]

MANIFEST_FILE = "connector.yaml"
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
STREAM_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
#: top-level names a connector's package may not take: cdk's own and the folders of a connector project
RESERVED_PACKAGES = frozenset({"cdk", "tests", "test", "schemas", "secrets", "build", "dist"})
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-(alpha|beta|rc)\.(0|[1-9]\d*))?$")
ENTRYPOINT_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
HOST_RE = re.compile(
    r"^(\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$"
)

Capability = Literal["batch_extract", "incremental", "streaming", "load"]
SOURCE_CAPABILITIES = {"batch_extract", "incremental", "streaming"}
DESTINATION_CAPABILITIES = {"load"}


def package_name_problem(name: str) -> str | None:
    """Why connector ``name`` cannot be the top-level Python package it becomes (``-`` as ``_``), or None.

    A keyword is no importable module name, and a standard-library or reserved name would shadow (or be
    shadowed by) the module of that name once the connector is installed."""
    import keyword
    import sys

    package = name.replace("-", "_")
    if keyword.iskeyword(package):
        return f"its package '{package}' would be a Python keyword"
    if package in RESERVED_PACKAGES or package in sys.stdlib_module_names:
        return f"its package '{package}' would shadow the module of that name"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StreamSpec(_Strict):
    """One stream a source offers."""

    name: str = Field(pattern=STREAM_NAME_PATTERN, description="Stream name")
    description: str | None = None
    primary_key: list[str] = Field(default_factory=list, description="Fields that identify a record")
    cursor_field: str | None = Field(None, description="Field whose value advances incremental state")
    schema_: str | dict[str, Any] | None = Field(
        None, alias="schema", description="JSON Schema of a record: a file path or an inline mapping"
    )


class ConfigSpec(_Strict):
    """Where the connector's config is described."""

    class_: str | None = Field(
        None, alias="class", description="module:Class of a SourceConfig subclass (pydantic)"
    )
    schema_: str | dict[str, Any] | None = Field(
        None, alias="schema", description="JSON Schema of the config: a file path or an inline mapping"
    )

    @field_validator("class_")
    @classmethod
    def _class_form(cls, value: str | None) -> str | None:
        if value is not None and not ENTRYPOINT_RE.match(value):
            raise ValueError(f"must look like 'package.module:ClassName', got {value!r}")
        return value


class LoadSpec(_Strict):
    """How a destination takes its batches: the limits ``cdk run`` splits every page to fit."""

    max_batch_records: int | None = Field(None, ge=1, description="At most this many records per write()")
    max_batch_bytes: int | None = Field(
        None, ge=1, description="At most this many bytes per write(), counted as the records' JSON lines"
    )


class UISpec(_Strict):
    """How catalogues show the connector."""

    label: str | None = None
    category: str | None = None
    icon: str | None = None
    beta: bool = False
    preview: bool = False


class Manifest(_Strict):
    """connector.yaml, version 1."""

    manifest_version: Literal[1] = Field(description="Always 1")
    name: str = Field(description="Connector name: ^[a-z][a-z0-9_-]{1,63}$")
    version: str = Field(description="Semantic version, e.g. 1.4.2 or 2.0.0-rc.1")
    display_name: str | None = None
    description: str | None = None
    kind: Literal["source", "destination"]
    capabilities: list[Capability] = Field(min_length=1)
    entrypoint: str | None = Field(None, description="module:Class; absent for declarative sources")
    config: ConfigSpec | None = None
    streams: list[StreamSpec] = Field(default_factory=list)
    allowed_hosts: list[str] = Field(default_factory=list, description="Egress allowlist")
    ui: UISpec | None = None
    declarative: dict[str, Any] | None = Field(None, description="Declarative REST source (sourceSpec)")
    load: LoadSpec | None = Field(None, description="A destination's batch limits (kind: destination only)")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a valid name: lowercase letter first, then 1-63 of a-z 0-9 _ - (e.g. 'notion')"
            )
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        if not isinstance(value, str) or not SEMVER_RE.match(value):
            raise ValueError(
                f"{value!r} is not a semantic version MAJOR.MINOR.PATCH[-alpha.N|-beta.N|-rc.N] (e.g. 1.4.2)"
            )
        return value

    @field_validator("entrypoint")
    @classmethod
    def _entrypoint(cls, value: str | None) -> str | None:
        if value is not None and not ENTRYPOINT_RE.match(value):
            raise ValueError(f"must look like 'package.module:ClassName', got {value!r}")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not HOST_RE.match(host):
                raise ValueError(
                    f"{host!r} is not a host name or '*.' wildcard (write 'api.example.com' or '*.example.com', no scheme or path)"
                )
        return value

    @field_validator("load")
    @classmethod
    def _load_is_for_destinations(cls, value: LoadSpec | None, info: ValidationInfo) -> LoadSpec | None:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind != "destination":
            raise ValueError(
                f"'load' describes how a destination takes batches; this connector is kind '{kind}'"
            )
        return value

    @field_validator("capabilities")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("capabilities are listed more than once")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Manifest:
        allowed = SOURCE_CAPABILITIES if self.kind == "source" else DESTINATION_CAPABILITIES
        wrong = [c for c in self.capabilities if c not in allowed]
        if wrong:
            raise ValueError(
                f"capabilities {wrong} do not fit kind '{self.kind}' (a {self.kind} may declare {sorted(allowed)})"
            )
        if self.entrypoint is None and self.declarative is None:
            raise ValueError(
                "either 'entrypoint' (a Python connector) or 'declarative' (a REST spec) is required"
            )
        if self.kind == "source" and not self.streams and self.declarative is None:
            raise ValueError("a source declares at least one stream under 'streams'")
        names = [s.name for s in self.streams]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stream names repeat: {dupes}")
        if "incremental" in self.capabilities:
            missing = [s.name for s in self.streams if not s.cursor_field]
            if missing:
                raise ValueError(
                    f"capability 'incremental' needs a cursor_field on every stream; missing on {missing}"
                )
        return self

    # --- conveniences -------------------------------------------------------------------------
    def stream(self, name: str) -> StreamSpec:
        """The stream called ``name``; raises KeyError naming the known streams."""
        for s in self.streams:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def stream_names(self) -> list[str]:
        return [s.name for s in self.streams]


# ---------------------------------------------------------------------------------------------
# YAML with positions


def parse_yaml_with_positions(text: str, file: str) -> tuple[Any, Positions]:
    """Parse YAML text with the one safe loader (:mod:`cdk.yamlio`); ManifestError with the located problem."""
    from cdk.errors import InputError
    from cdk.yamlio import parse_yaml

    try:
        return parse_yaml(text, file)
    except InputError as exc:
        raise _manifest_error(exc, file) from None


def _manifest_error(exc: Any, file: str) -> ManifestError:
    problem = exc.problem
    if problem is None or not problem.line:
        return ManifestError(str(exc), hint=exc.hint)
    return ManifestError(f"{file} cannot be read", problems=[problem], hint=exc.hint)


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The sub-model that a pydantic location points into (for did-you-mean on unknown keys)."""
    model: type[BaseModel] | None = Manifest
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        ann = field.annotation
        model = None
        for candidate in (StreamSpec, ConfigSpec, UISpec, LoadSpec):
            if (
                candidate is ann
                or candidate in getattr(ann, "__args__", ())
                or (
                    getattr(ann, "__args__", None)
                    and any(candidate in getattr(a, "__args__", ()) for a in getattr(ann, "__args__", ()))
                )
            ):
                model = candidate
    return model


class Locator(Protocol):
    """What locates a path of a YAML document: Positions, or a view of a sub-document of one."""

    def locate(self, path: tuple[Any, ...], *, key: bool = False) -> tuple[int, int]: ...


def problems_from_validation(exc: ValidationError, positions: Locator, file: str) -> list[Finding]:
    """Turn pydantic errors into located problems, with did-you-mean for unknown keys."""
    problems: list[Finding] = []
    for err in exc.errors(include_url=False):
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
        )
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            key = loc[-1] if loc else "?"
            line, col = positions.locate(loc, key=True)
            parent = _model_at(loc[:-1])
            hint = ""
            if parent is not None:
                close = difflib.get_close_matches(str(key), _field_names(parent), n=1)
                if close:
                    hint = f"; did you mean '{close[0]}'?"
            problems.append(
                Finding(
                    file=file,
                    line=line,
                    column=col,
                    message=f"unknown key '{key}' at {dotted}{hint}",
                    key=str(key),
                )
            )
            continue
        line, col = positions.locate(loc)
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "missing":
            msg = f"required key '{loc[-1]}' is missing"
            dotted = ".".join(str(p) for p in loc[:-1]) or "(top level)"
            line, col = positions.locate(loc[:-1])
        elif (
            "input" in err
            and err["type"] not in ("value_error",)
            and not isinstance(err["input"], dict | list)
        ):
            msg = f"{msg} (got {err['input']!r})"
        problems.append(
            Finding(
                file=file,
                line=line,
                column=col,
                message=f"{dotted}: {msg}",
                key=str(loc[-1]) if loc else None,
            )
        )
    return problems


def load_manifest(path: str | Path) -> tuple[Manifest, Positions]:
    """Load and validate a connector.yaml; raise :class:`ManifestError` listing every located problem."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_FILE
    shown = str(path)
    from cdk.errors import InputError
    from cdk.fsutil import read_input_text

    if not path.exists() and not path.is_symlink():
        raise ManifestError(
            f"no {MANIFEST_FILE} at {path.parent}",
            hint="run cdk in a connector folder, pass --connector PATH, or create one with `cdk init`",
        )
    try:
        text = read_input_text(path, shown=shown)
    except InputError as exc:
        raise _manifest_error(exc, shown) from None
    data, positions = parse_yaml_with_positions(text, shown)
    return manifest_from_data(data, positions, shown), positions


def manifest_from_data(data: Any, positions: Positions, file: str) -> Manifest:
    """Validate already-parsed manifest data."""
    if not isinstance(data, dict):
        raise ManifestError(
            f"{file} must be a mapping of keys (manifest_version, name, version, kind, ...)",
            problems=[Finding(file=file, line=1, column=0, message="the document is not a mapping")],
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, positions, file)
        count = len(problems)
        raise ManifestError(
            f"{file} has {count} problem{'s' if count != 1 else ''}",
            problems=problems,
            hint="`cdk schema manifest` prints the full schema",
        ) from None


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema of manifest v1, generated from the model (editors use it for completion)."""
    schema = Manifest.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://connector-cdk.dev/schemas/connector.yaml/v1.json"
    schema["title"] = "connector.yaml (manifest v1)"
    return schema
