"""Declarative REST sources: a sourceSpec in connector.yaml runs as an AbstractSource.

``build_source_class(project)`` is what ``cdk.connector`` calls for a manifest with ``declarative:`` and
no ``entrypoint``; the class it returns behaves like any hand-written source for run commands,
validation, tests and publishing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdk.declarative.engine import DeclarativeSource
    from cdk.declarative.spec import DeclarativeSpec
    from cdk.manifest import Positions
    from cdk.project import Project
    from cdk.sdk.config import SourceConfig

_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def load_project_spec(project: Project) -> DeclarativeSpec:
    """The project's ``declarative:`` validated; pydantic errors become a located ManifestError."""
    from pydantic import ValidationError

    from cdk.declarative.spec import load_declarative
    from cdk.errors import ManifestError
    from cdk.manifest import problems_from_validation

    data = project.manifest.declarative
    first = project.manifest.streams[0].name if project.manifest.streams else project.manifest.name
    try:
        return load_declarative(data, stream_name=first)
    except ValidationError as exc:
        problems = problems_from_validation(
            exc, _Prefixed(project.positions, ("declarative",)), project.rel(project.manifest_path)
        )
        raise ManifestError(
            f"the declarative: section of {project.rel(project.manifest_path)} does not fit the sourceSpec",
            problems=problems,
            hint="see docs/declarative.md",
        ) from None


class _Prefixed:
    """Positions of a sub-document: pydantic locations are relative to ``prefix``."""

    def __init__(self, positions: Positions, prefix: tuple[Any, ...]) -> None:
        self.positions = positions
        self.prefix = prefix

    def locate(self, path: tuple[Any, ...], *, key: bool = False) -> tuple[int, int]:
        return self.positions.locate(self.prefix + tuple(path), key=key)


def config_class_from_schema(name: str, schema: dict[str, Any] | None) -> type[SourceConfig]:
    """A SourceConfig subclass whose own fields are the user-input properties of the spec."""
    from pydantic import Field, create_model

    from cdk.sdk.config import SourceConfig

    props = (schema or {}).get("properties") or {}
    required = set((schema or {}).get("required") or [])
    fields: dict[str, Any] = {}
    for prop, sub in props.items():
        if prop in SourceConfig.model_fields or not prop.isidentifier():
            continue
        sub = sub if isinstance(sub, dict) else {}
        kind = sub.get("type")
        py = _JSON_TYPES.get(kind if isinstance(kind, str) else "", Any)
        extra = {k: v for k, v in sub.items() if k in ("format", "writeOnly", "secret", "examples", "enum")}
        if prop in required and "default" not in sub:
            fields[prop] = (
                py,
                Field(..., description=sub.get("description"), json_schema_extra=extra or None),
            )
        else:
            fields[prop] = (
                py | None,
                Field(
                    sub.get("default"), description=sub.get("description"), json_schema_extra=extra or None
                ),
            )
    cls_name = "".join(p.capitalize() for p in name.replace("-", "_").split("_")) + "Config"
    return create_model(cls_name, __base__=SourceConfig, **fields)


def build_source_class(project: Project) -> type[DeclarativeSource]:
    """The AbstractSource subclass that runs the project's ``declarative:`` specification."""
    from cdk.declarative.engine import DeclarativeSource
    from cdk.declarative.templating import stream_origins

    spec = load_project_spec(project)
    user_schema = spec.spec if spec.spec is not None else project.config_schema()
    keys: dict[str, tuple[list[str], str | None]] = {}
    for name, stream in spec.streams.items():
        try:
            declared = project.manifest.stream(name)
            keys[name] = (
                stream.primaryKey or declared.primary_key,
                stream.cursorField or declared.cursor_field,
            )
        except KeyError:
            keys[name] = (stream.primaryKey or [], stream.cursorField)
    class_name = (
        "".join(p.capitalize() for p in project.manifest.name.replace("-", "_").split("_")) + "Source"
    )
    return type(
        class_name,
        (DeclarativeSource,),
        {
            "declarative": spec,
            "config_class": config_class_from_schema(project.manifest.name, user_schema),
            "stream_keys": keys,
            "stream_names": list(spec.streams),
            "base_schema": staticmethod(lambda name: stream_schema(project, name)),
            "expression_origins": stream_origins(project, spec),
            "__module__": "cdk.declarative.generated",
        },
    )


def stream_schema(project: Project, name: str) -> dict[str, Any] | None:
    """The record schema of a declarative stream: the manifest's, else the spec's custom schema."""
    spec = load_project_spec(project)
    try:
        declared = project.manifest.stream(name).schema_
    except KeyError:
        declared = None
    if declared is not None:
        schema: dict[str, Any] | None = project.load_json(declared)
        return schema
    from cdk.declarative.schema import record_schema

    custom = spec.streams[name].schema_
    return record_schema(spec.streams[name], project.load_json(custom) if custom is not None else None)


def package_source(module_name: str) -> type[DeclarativeSource]:
    """The source class of an installed declarative connector package (its ``cdk.connectors`` entry point).

    The package's ``__init__.py`` is ``Source = package_source(__name__)``; connector.yaml is found inside
    the package (in the wheel) or beside it (in the source folder).
    """
    import sys
    from pathlib import Path

    from cdk.manifest import MANIFEST_FILE
    from cdk.project import Project

    here = Path(sys.modules[module_name].__file__ or ".").resolve().parent
    for folder in (here, here.parent):
        if (folder / MANIFEST_FILE).is_file():
            return build_source_class(Project.load(folder))
    from cdk.errors import ManifestError

    raise ManifestError(
        f"no {MANIFEST_FILE} in {here} or {here.parent} for declarative package {module_name}"
    )


__all__ = [
    "build_source_class",
    "config_class_from_schema",
    "load_project_spec",
    "package_source",
    "stream_schema",
]
