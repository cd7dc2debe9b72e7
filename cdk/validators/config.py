"""Config suite: the config JSON Schema is valid, agrees with the pydantic class, and marks its secrets.

The pydantic class named by ``config.class`` is read from the AST (never imported): annotations give
JSON types, ``Literal``/``Enum`` give enums, assigned values and ``Field(...)`` give defaults. Each
disagreement with the schema is a finding at the place that is wrong.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.errors import CdkError
from cdk.findings import Finding
from cdk.secrets import (
    SECRET_TYPES,
    connector_secret_paths,
    is_marked_secret,
    is_secret_field,
    is_secret_name,
)
from cdk.validators.astutil import find_key_line, literal_value
from cdk.validators.findings import Rule, make
from cdk.validators.manifest import MANIFEST, load_schema_file, meta_errors
from cdk.validators.policy import Policy

if TYPE_CHECKING:
    from cdk.project import Project

RULES = [
    Rule(
        "C001",
        "config",
        "config schema is not valid",
        "the config schema does not validate against its meta-schema",
        "fix the keyword named in the message",
        bad='{"type": "object", "required": "token"}',
        good='{"type": "object", "required": ["token"]}',
    ),
    Rule(
        "C002",
        "config",
        "unknown meta-schema",
        "the config schema declares a $schema that is not known",
        "use draft-07 or 2020-12",
        severity="warning",
        bad='"$schema": "http://example.com/my-schema"',
        good='"$schema": "https://json-schema.org/draft/2020-12/schema"',
    ),
    Rule(
        "C003",
        "config",
        "model field missing from schema",
        "a field of the pydantic config class is not in the config schema",
        "add the property to the schema (or regenerate it with `cdk spec`)",
        bad="class Config(SourceConfig):\n    page_size: int = 100   # schema has no page_size",
        good='"page_size": {"type": "integer", "default": 100}',
    ),
    Rule(
        "C004",
        "config",
        "schema property missing from model",
        "a property of the config schema is not a field of the pydantic class",
        "add the field to the class or remove the property",
        bad='"region": {"type": "string"}  # class has no region',
        good="region: str",
    ),
    Rule(
        "C005",
        "config",
        "type disagreement",
        "the schema and the pydantic class give a field different types",
        "make both say the same type",
        bad='page_size: int  /  "page_size": {"type": "string"}',
        good='page_size: int  /  "page_size": {"type": "integer"}',
    ),
    Rule(
        "C006",
        "config",
        "required disagreement",
        "the schema and the pydantic class disagree on whether a field is required",
        "a field without default is required; list it in the schema's required",
        bad='token: str  /  "required": []',
        good='token: str  /  "required": ["token"]',
    ),
    Rule(
        "C007",
        "config",
        "default disagreement",
        "the schema and the pydantic class give a field different defaults",
        "use the same default in both",
        bad='page_size: int = 100  /  "default": 50',
        good='page_size: int = 100  /  "default": 100',
    ),
    Rule(
        "C008",
        "config",
        "enum disagreement",
        "the schema and the pydantic class allow different values",
        "list the same values in both",
        bad='region: Literal["us", "eu"]  /  "enum": ["us"]',
        good='region: Literal["us", "eu"]  /  "enum": ["us", "eu"]',
    ),
    Rule(
        "C009",
        "config",
        "sample config does not validate",
        "a sample config under tests/ does not validate against the config schema",
        "fix the sample or the schema",
        bad='{"page_size": "ten"}',
        good='{"page_size": 10}',
    ),
    Rule(
        "C010",
        "config",
        "secret field not marked secret",
        "a secret-looking config field is not marked secret",
        'add "writeOnly": true (or "format": "password") so UIs mask it and recordings redact it',
        waivable=True,
        bad='"api_token": {"type": "string"}',
        good='"api_token": {"type": "string", "writeOnly": true}',
    ),
    Rule(
        "C011",
        "config",
        "config class not found",
        "config.class names a module or class that does not exist",
        "point config.class at package.module:Class inside the connector",
        bad="class: pkg.cfg:Config  # no pkg/cfg.py",
        good="class: pkg.source:NotionConfig",
    ),
]
R = {r.code: r for r in RULES}

PY_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "dict": "object",
    "Dict": "object",
    "Mapping": "object",
    "list": "array",
    "List": "array",
    "set": "array",
    "Set": "array",
    "tuple": "array",
    "Tuple": "array",
    "Sequence": "array",
    "SecretStr": "string",
    "SecretBytes": "string",
    "HttpUrl": "string",
    "AnyUrl": "string",
    "AnyHttpUrl": "string",
    "EmailStr": "string",
    "datetime": "string",
    "date": "string",
    "time": "string",
    "UUID": "string",
    "Decimal": "number",
    "PositiveInt": "integer",
    "NonNegativeInt": "integer",
    "PositiveFloat": "number",
    "None": "null",
    "Any": None,
}


class FieldInfo:
    def __init__(self, name: str, node: ast.AnnAssign):
        self.name = name
        self.node = node
        self.types: set[str] | None = set()
        self.enum: list[Any] | None = None
        self.secret = False
        self.required = True
        self.default: Any = None
        self.has_default = False


def _ann(node: ast.AST | None, enums: dict[str, list[Any]], info: FieldInfo) -> None:
    """Fill ``info.types``/``enum``/``secret`` from an annotation."""
    if node is None or info.types is None:
        return
    if isinstance(node, ast.Constant) and node.value is None:
        info.types.add("null")
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            _ann(ast.parse(node.value, mode="eval").body, enums, info)
        except SyntaxError:
            info.types = None
    elif isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name in enums:
            info.enum = list(enums[name])
            info.types.update(_json_type(v) for v in enums[name])
        elif name in PY_TYPES:
            t = PY_TYPES[name]
            if t is None:
                info.types = None
                return
            info.types.add(t)
            info.secret = info.secret or name in SECRET_TYPES
        else:
            info.types = None  # a nested model or unknown type: not compared
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        _ann(node.left, enums, info)
        _ann(node.right, enums, info)
    elif isinstance(node, ast.Subscript):
        head = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head == "Optional":
            info.types.add("null")
            _ann(args[0], enums, info)
        elif head == "Union":
            for a in args:
                _ann(a, enums, info)
        elif head == "Annotated":
            _ann(args[0], enums, info)
        elif head == "Literal":
            values = [literal_value(a) for a in args]
            info.enum = values
            info.types.update(_json_type(v) for v in values)
        elif json_type := PY_TYPES.get(head):
            info.types.add(json_type)
        else:
            info.types = None
    else:
        info.types = None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _module_enums(tree: ast.Module) -> dict[str, list[Any]]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
            (getattr(b, "id", None) or getattr(b, "attr", None)) in ("Enum", "StrEnum", "IntEnum")
            for b in node.bases
        ):
            values = []
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                    values.append(stmt.value.value)
            out[node.name] = values
    return out


def model_fields(tree: ast.Module, cls_name: str, base_fields: set[str]) -> dict[str, FieldInfo] | None:
    """The fields of ``cls_name`` (and its bases defined in the same module), by name."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    if cls_name not in classes:
        return None
    enums = _module_enums(tree)
    fields: dict[str, FieldInfo] = {}
    chain: list[ast.ClassDef] = []
    todo = [classes[cls_name]]
    while todo:
        cls = todo.pop()
        chain.append(cls)
        for b in cls.bases:
            if isinstance(b, ast.Name) and b.id in classes and classes[b.id] not in chain:
                todo.append(classes[b.id])
    for cls in reversed(chain):
        for stmt in cls.body:
            if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                continue
            name = stmt.target.id
            if name.startswith("_") or name == "model_config" or name in base_fields:
                continue
            if (
                isinstance(stmt.annotation, ast.Subscript)
                and getattr(stmt.annotation.value, "id", "") == "ClassVar"
            ):
                continue
            info = FieldInfo(name, stmt)
            _ann(stmt.annotation, enums, info)
            _default(stmt.value, info)
            fields[name] = info
    return fields


def _default(value: ast.AST | None, info: FieldInfo) -> None:
    if value is None:
        return
    if isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", "")) == "Field":
        default_node = value.args[0] if value.args else None
        for kw in value.keywords:
            if kw.arg == "default":
                default_node = kw.value
            elif kw.arg == "default_factory":
                info.required = False
                return
        if default_node is None or (
            isinstance(default_node, ast.Constant) and default_node.value is Ellipsis
        ):
            return
        value = default_node
    info.required = False
    info.has_default = True
    info.default = literal_value(value)
    if isinstance(value, ast.Attribute):  # an Enum member: compare its value
        info.has_default = False


def _schema_types(prop: dict[str, Any]) -> set[str] | None:
    t = prop.get("type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return set(t)
    for key in ("anyOf", "oneOf"):
        if isinstance(prop.get(key), list):
            out: set[str] = set()
            for sub in prop[key]:
                sub_t = _schema_types(sub) if isinstance(sub, dict) else None
                if sub_t is None:
                    return None
                out |= sub_t
            return out
    if "enum" in prop and isinstance(prop["enum"], list):
        return {_json_type(v) for v in prop["enum"]}
    return None


class _Locator:
    """Where a schema property is written: a line in the schema file, or in connector.yaml when inline."""

    def __init__(self, project: Project, ref: str | dict[str, Any] | None):
        self.project, self.ref = project, ref
        self.text = ""
        if isinstance(ref, str):
            try:
                self.text = (Path(project.root) / ref).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self.text = ""

    def prop(self, path: list[str]) -> tuple[str, int, int]:
        if isinstance(self.ref, str):
            line, col = find_key_line(self.text, json.dumps(path[-1]) + ":") if path else (1, 0)
            if (line, col) == (1, 0) and path:
                line, col = find_key_line(self.text, json.dumps(path[-1]))
            return self.ref, line, col
        where: tuple[Any, ...] = ("config", "schema")
        for p in path:
            where += ("properties", p)
        line, col = self.project.positions.locate(where, key=True)
        return MANIFEST, line, col


def _secret_findings(schema: dict[str, Any], loc: _Locator, prefix: list[str], out: list[Finding]) -> None:
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return
    for name, prop in props.items():
        if not isinstance(prop, dict):
            continue
        path = prefix + [name]
        types = _schema_types(prop) or set()
        if is_secret_name(name) and (not types or "string" in types) and not is_marked_secret(prop):
            file, line, col = loc.prop(path)
            out.append(
                make(
                    R["C010"],
                    file,
                    line,
                    col,
                    f"config field '{'.'.join(path)}' looks secret but is not marked writeOnly or format password",
                )
            )
        if prop.get("type") == "object" or "properties" in prop:
            _secret_findings(prop, loc, path, out)


def _property_paths(schema: Any, prefix: str = "", depth: int = 0) -> set[str]:
    """Dotted paths of every property of a config schema (nested objects followed)."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict) or depth > 12:
        return set()
    out: set[str] = set()
    for name, prop in props.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        out.add(path)
        out |= _property_paths(prop, path, depth + 1)
    return out


def secret_fields(project: Project) -> set[str]:
    """The config fields ``cdk validate`` treats as secret (dotted paths): those the schema or the
    config class marks, and every field with a secret name (:mod:`cdk.secrets`)."""
    if project.manifest is None or project.manifest.config is None:
        return set()
    marked = connector_secret_paths(project)
    try:
        schema = project.config_schema()
    except CdkError:
        schema = None
    return marked | {p for p in _property_paths(schema) if is_secret_field(p, marked)}


def _compare(
    fields: dict[str, FieldInfo],
    schema: dict[str, Any],
    loc: _Locator,
    model_file: str,
    base_fields: set[str],
) -> list[Finding]:
    out: list[Finding] = []
    properties = schema.get("properties")
    props: dict[str, Any] = properties if isinstance(properties, dict) else {}
    required = set(schema.get("required") or [])
    for name, info in fields.items():
        line, col = info.node.lineno, info.node.col_offset
        if name not in props:
            out.append(
                make(
                    R["C003"],
                    model_file,
                    line,
                    col,
                    f"field '{name}' of the config class is not in the config schema",
                )
            )
            continue
        prop = props[name] if isinstance(props[name], dict) else {}
        s_types = _schema_types(prop)
        if info.types is not None and s_types is not None:
            m = info.types - {"null"}
            s = s_types - {"null"}
            if m and s and m != s and not (m == {"integer"} and s == {"number"}):
                out.append(
                    make(
                        R["C005"],
                        model_file,
                        line,
                        col,
                        f"field '{name}': the class says {'|'.join(sorted(m))}, the schema says {'|'.join(sorted(s))}",
                    )
                )
        if info.required != (name in required):
            said = "required" if info.required else "optional (has a default)"
            other = "required" if name in required else "not required"
            out.append(
                make(
                    R["C006"],
                    model_file,
                    line,
                    col,
                    f"field '{name}' is {said} in the class but {other} in the schema",
                )
            )
        if "default" in prop and info.has_default and prop["default"] != info.default:
            out.append(
                make(
                    R["C007"],
                    model_file,
                    line,
                    col,
                    f"field '{name}': default {info.default!r} in the class, {prop['default']!r} in the schema",
                )
            )
        if info.enum is not None and isinstance(prop.get("enum"), list):
            mv = {json.dumps(v) for v in info.enum if v is not None}
            sv = {json.dumps(v) for v in prop["enum"] if v is not None}
            if mv != sv:
                out.append(
                    make(
                        R["C008"],
                        model_file,
                        line,
                        col,
                        f"field '{name}': the class allows {sorted(mv)}, the schema allows {sorted(sv)}",
                    )
                )
        if info.secret and not is_marked_secret(prop):
            file, sl, sc = loc.prop([name])
            out.append(
                make(
                    R["C010"],
                    file,
                    sl,
                    sc,
                    f"field '{name}' is a SecretStr in the class but not marked secret in the schema",
                )
            )
    for name in props:
        if name not in fields and name not in base_fields:
            file, line, col = loc.prop([name])
            out.append(
                make(
                    R["C004"], file, line, col, f"schema property '{name}' is not a field of the config class"
                )
            )
    return out


def _sample_configs(project: Project) -> list[Path]:
    tests = Path(project.root) / "tests"
    if not tests.is_dir():
        return []
    out: list[Path] = []
    for pattern in ("config*.json", "sample_config*.json", "*_config.json"):
        out.extend(p for p in tests.rglob(pattern) if "cassettes" not in p.parts)
    return sorted(set(out))


def _check_samples(project: Project, schema: dict[str, Any]) -> list[Finding]:
    from cdk.validators.cache import cached

    schema_text = json.dumps(schema, sort_keys=True, default=str)
    validator: list[Any] = []

    def errors_of(data: Any) -> list[Any]:
        if not validator:
            from jsonschema import validators

            cls = validators.validator_for(schema, default=validators.Draft202012Validator)
            validator.append(cls(schema))
        return [[list(err.absolute_path), err.message] for err in validator[0].iter_errors(data)]

    out = []
    for path in _sample_configs(project):
        rel = project.rel(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, UnicodeDecodeError) as exc:
            out.append(make(R["C009"], rel, 1, 0, f"cannot read sample config: {exc}"))
            continue
        except json.JSONDecodeError as exc:
            out.append(
                make(R["C009"], rel, exc.lineno, exc.colno - 1, f"sample config is not JSON: {exc.msg}")
            )
            continue
        for err_path, message in cached("sample-config", schema_text + "\0" + text, partial(errors_of, data)):
            key = next((p for p in reversed(err_path) if isinstance(p, str)), None)
            line, col = find_key_line(text, json.dumps(key)) if key else (1, 0)
            where = ".".join(str(p) for p in err_path) or "(root)"
            out.append(make(R["C009"], rel, line, col, f"sample config at {where}: {message}"))
    return out


def check(project: Project, policy: Policy) -> list[Finding]:
    m = project.manifest
    if m is None or m.config is None:
        return []
    from cdk.sdk.config import BASE_DESTINATION_FIELDS, BASE_SOURCE_FIELDS

    base_fields = set(BASE_SOURCE_FIELDS) | set(BASE_DESTINATION_FIELDS)
    out: list[Finding] = []
    spec = m.config
    schema, problems = load_schema_file(project, spec.schema_, ("config", "schema"))
    out.extend(
        replace(p, rule=p.rule.replace("M006", "C001"), hint=R["C001"].hint, suite="config") for p in problems
    )
    loc = _Locator(project, spec.schema_)
    if isinstance(schema, dict):
        errors, unknown = meta_errors(schema)
        file, line, col = (
            (spec.schema_, 1, 0)
            if isinstance(spec.schema_, str)
            else (MANIFEST, *project.positions.locate(("config", "schema")))
        )
        if unknown:
            out.append(make(R["C002"], file, line, col, f"unknown $schema '{unknown}'; checked as 2020-12"))
        for at, message in errors[:10]:
            out.append(make(R["C001"], file, line, col, f"config schema at {at}: {message}"))
        if not errors:
            out.extend(_check_samples(project, schema))
        _secret_findings(schema, loc, [], out)
    if spec.class_:
        module, _, cls = spec.class_.partition(":")
        line, col = project.positions.locate(("config", "class"))
        path = project.module_path(module)
        tree = project.parse(path) if path else None
        if path is None:
            out.append(
                make(
                    R["C011"],
                    MANIFEST,
                    line,
                    col,
                    f"config class module '{module}' has no file in the connector",
                )
            )
        elif tree is not None and not isinstance(tree, SyntaxError):
            fields = model_fields(tree, cls, base_fields)
            if fields is None:
                from cdk.validators.manifest import class_defined

                if not class_defined(tree, cls):
                    out.append(
                        make(
                            R["C011"],
                            MANIFEST,
                            line,
                            col,
                            f"class '{cls}' is not defined in {project.rel(path)}",
                        )
                    )
            elif isinstance(schema, dict):
                out.extend(_compare(fields, schema, loc, project.rel(path), base_fields))
    return out
