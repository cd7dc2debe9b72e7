"""Manifest suite: connector.yaml against its schema, plus what the schema alone cannot see.

The loader's own problems (schema, name, version, capabilities vs kind, allowed_hosts) arrive through
the engine; this module adds the cross-file checks: the entrypoint's module and class exist (found in
the AST), stream schema files exist and are valid JSON Schema, and primary keys and cursor fields are
properties of their stream's schema.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.errors import CdkError, InputError
from cdk.findings import Finding
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy

if TYPE_CHECKING:
    from cdk.project import Project

RULES = [
    Rule(
        "M001",
        "manifest",
        "connector.yaml does not fit the manifest schema",
        "connector.yaml does not fit manifest v1",
        "`cdk schema manifest` prints the schema; fix the key named in the message",
        bad="manifest_version: 1\nname: notion\nkind: sourse",
        good="manifest_version: 1\nname: notion\nkind: source",
    ),
    Rule(
        "M002",
        "manifest",
        "invalid connector name",
        "the name must match ^[a-z][a-z0-9_-]{1,63}$",
        "use lowercase letters, digits, _ and -; start with a letter",
        bad="name: My Connector",
        good="name: my-connector",
    ),
    Rule(
        "M003",
        "manifest",
        "invalid version",
        "the version must be semantic (MAJOR.MINOR.PATCH[-rc.N])",
        "write e.g. 1.4.2 or 2.0.0-rc.1",
        bad="version: v1.2",
        good="version: 1.2.0",
    ),
    Rule(
        "M004",
        "manifest",
        "entrypoint module not found",
        "the entrypoint's module is not a file of the connector",
        "point entrypoint at package.module:Class of a file inside the connector folder",
        bad="entrypoint: notion_conector.source:NotionSource",
        good="entrypoint: notion_connector.source:NotionSource",
    ),
    Rule(
        "M005",
        "manifest",
        "entrypoint class not found",
        "the entrypoint's module does not define the class",
        "define the class in that module, or import it there",
        bad="entrypoint: pkg.source:Source  # class is NotionSource",
        good="entrypoint: pkg.source:NotionSource",
    ),
    Rule(
        "M006",
        "manifest",
        "stream schema missing or not JSON",
        "a stream's schema file is missing or is not JSON",
        "create the file or fix the path in connector.yaml",
        bad="schema: schemas/page.json  # file is pages.json",
        good="schema: schemas/pages.json",
    ),
    Rule(
        "M007",
        "manifest",
        "stream schema is not a valid JSON Schema",
        "a stream's schema does not validate against its meta-schema",
        "fix the schema keyword named in the message",
        bad='{"type": "objekt"}',
        good='{"type": "object"}',
    ),
    Rule(
        "M008",
        "manifest",
        "primary key not in schema",
        "a primary key field is not a property of the stream's schema",
        "add the property to the schema or fix the primary_key",
        bad="primary_key: [uuid]  # schema has id",
        good="primary_key: [id]",
    ),
    Rule(
        "M009",
        "manifest",
        "cursor field not in schema",
        "the cursor_field is not a property of the stream's schema",
        "add the property to the schema or fix cursor_field",
        bad="cursor_field: updated  # schema has updated_at",
        good="cursor_field: updated_at",
    ),
    Rule(
        "M010",
        "manifest",
        "capability does not fit kind",
        "a capability does not fit the connector's kind",
        "sources declare batch_extract/incremental/streaming; destinations declare load",
        bad="kind: destination\ncapabilities: [batch_extract]",
        good="kind: destination\ncapabilities: [load]",
    ),
    Rule(
        "M011",
        "manifest",
        "invalid allowed_hosts entry",
        "allowed_hosts entries are host names or '*.' wildcards",
        "write api.example.com or *.example.com: no scheme, no path",
        bad="allowed_hosts: [https://api.example.com/v1]",
        good="allowed_hosts: [api.example.com]",
    ),
    Rule(
        "M012",
        "manifest",
        "connector.yaml is not YAML",
        "connector.yaml has a YAML syntax error",
        "fix the YAML at the position shown",
        bad="streams:\n  - name: [pages",
        good="streams:\n  - name: pages",
    ),
]
R = {r.code: r for r in RULES}
MANIFEST = "connector.yaml"


def meta_errors(
    schema: Any, default: str = "https://json-schema.org/draft/2020-12/schema"
) -> tuple[list[tuple[str, str]], str | None]:
    """Errors of ``schema`` against its declared meta-schema: ([(json-path, message)], unknown $schema or None)."""
    if not isinstance(schema, dict):
        return [("$", "a JSON Schema must be an object")], None
    from cdk.validators.cache import cached

    payload = json.dumps(schema, sort_keys=True, default=str)
    errors, unknown = cached("meta-schema", payload, lambda: _meta_errors(schema, default))
    return [(p, m) for p, m in errors], unknown


def _meta_errors(schema: dict[str, Any], default: str) -> list[Any]:
    from jsonschema import validators

    declared = schema.get("$schema")
    unknown = None
    # ignored below: default=None makes jsonschema return None for an unknown $schema; the stubs allow only a class
    cls = validators.validator_for(schema, default=None)  # type: ignore[arg-type]
    if cls is None:
        unknown = str(declared)
        cls = validators.validator_for({"$schema": default})
    errors = []
    for err in cls(cls.META_SCHEMA).iter_errors(schema):
        path = "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        errors.append([path, err.message])
    return [errors, unknown]


def raw_manifest(project: Project) -> tuple[Any, Any] | None:
    """connector.yaml as plain data with positions, parsed once per project (secrets and egress read it)."""
    cached = project.__dict__.get("_raw_manifest")
    if cached is None:
        from cdk.manifest import parse_yaml_with_positions

        try:
            from cdk.fsutil import read_input_text

            cached = parse_yaml_with_positions(
                read_input_text(project.manifest_path, shown=MANIFEST), MANIFEST
            )
        except CdkError:  # an unreadable manifest is reported by the loader
            cached = (None, None)
        project.__dict__["_raw_manifest"] = cached
    return None if cached[1] is None else cached


def class_defined(tree: ast.Module, name: str) -> bool:
    """Does the module define or import ``name`` at top level?"""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return True
        if isinstance(node, ast.ImportFrom | ast.Import):
            if any((a.asname or a.name.split(".")[-1]) == name for a in node.names):
                return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return True
    return False


def load_schema_file(project: Project, ref: Any, where: tuple[Any, ...]) -> tuple[Any, list[Finding]]:
    """A schema named in the manifest (file or inline), or the findings that explain why not."""
    if ref is None or isinstance(ref, dict):
        return ref, []
    line, col = project.positions.locate(where)
    path = Path(project.root) / str(ref)
    from cdk.fsutil import parse_json, read_input_text

    if not path.exists():
        return None, [make(R["M006"], MANIFEST, line, col, f"schema file '{ref}' not found")]
    try:
        return parse_json(read_input_text(path, shown=str(ref)), str(ref)), []
    except InputError as exc:
        p = exc.problem
        if p is not None and p.line:
            return None, [make(R["M006"], str(ref), p.line, p.column, p.message)]
        return None, [make(R["M006"], MANIFEST, line, col, f"cannot read schema file {exc}")]


def _props(schema: Any) -> set[str] | None:
    if not isinstance(schema, dict):
        return None
    props = schema.get("properties")
    if not isinstance(props, dict):
        return None if schema.get("additionalProperties", True) is not False else set()
    return set(props)


def check(project: Project, policy: Policy) -> list[Finding]:
    m = project.manifest
    if m is None:
        return []
    out: list[Finding] = []
    if m.entrypoint:
        module, _, cls = m.entrypoint.partition(":")
        line, col = project.positions.locate(("entrypoint",))
        path = project.module_path(module)
        if path is None:
            out.append(
                make(
                    R["M004"],
                    MANIFEST,
                    line,
                    col,
                    f"entrypoint module '{module}' has no file in the connector",
                )
            )
        else:
            tree = project.parse(path)
            if not isinstance(tree, SyntaxError) and not class_defined(tree, cls):
                out.append(
                    make(
                        R["M005"], MANIFEST, line, col, f"class '{cls}' is not defined in {project.rel(path)}"
                    )
                )
    for i, stream in enumerate(m.streams):
        schema, problems = load_schema_file(project, stream.schema_, ("streams", i, "schema"))
        out.extend(problems)
        if schema is None:
            continue
        where = ("streams", i, "schema")
        errors, unknown = meta_errors(schema)
        line, col = project.positions.locate(where)
        for at, message in errors[:5]:
            out.append(
                make(R["M007"], MANIFEST, line, col, f"stream '{stream.name}' schema at {at}: {message}")
            )
        props = _props(schema)
        if props is None:
            continue
        for j, key in enumerate(stream.primary_key):
            if not _has_field(schema.get("properties") or {}, key):
                line, col = project.positions.locate(("streams", i, "primary_key", j))
                out.append(
                    make(
                        R["M008"],
                        MANIFEST,
                        line,
                        col,
                        f"primary key '{key}' of stream '{stream.name}' is not a property of its schema",
                    )
                )
        if stream.cursor_field and stream.cursor_field.split(".")[0] not in props:
            line, col = project.positions.locate(("streams", i, "cursor_field"))
            out.append(
                make(
                    R["M009"],
                    MANIFEST,
                    line,
                    col,
                    f"cursor_field '{stream.cursor_field}' of stream '{stream.name}' is not a property of its schema",
                )
            )
    return out


def _has_field(props: Any, key: str) -> bool:
    """Whether ``key`` is a property, or a dotted path (``member.id``, as the importer writes for
    wrapped records) through nested object properties; a nested object without ``properties`` admits
    any name below it."""
    if not isinstance(props, dict):
        return False
    if key in props:
        return True
    head, _, rest = key.partition(".")
    node = props.get(head)
    if not rest or not isinstance(node, dict):
        return False
    inner = node.get("properties")
    return True if not isinstance(inner, dict) else _has_field(inner, rest)
