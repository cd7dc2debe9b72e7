"""Custom sources sent as one code string (the service of ``cdk serve``): validate and describe them.

``check_source(code)`` runs the same code suites as ``cdk validate`` (through
:func:`cdk.validators.engine.validate_code`; the code is parsed, never imported or run) and extracts
what the service stores next to the code: the source class, its name, its streams and its config
schema. A finding's ``column`` points at the statement that holds the problem, as the reference JSON
does (``import os`` at column 0), so an editor can underline the whole statement.
"""

from __future__ import annotations

import ast
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cdk.findings import Finding
from cdk.validators.engine import validate_code
from cdk.validators.findings import Report

# ast.parse is not safe in concurrent threads on some CPython versions ("AST constructor recursion depth
# mismatch", CPython gh-106905, seen on 3.11.7 under 20 concurrent validate requests): checks that parse
# run one at a time. They hold the GIL throughout anyway, so threads gained nothing.
_PARSE_LOCK = threading.Lock()

# the documented limit of one source's code, in bytes of UTF-8 (the service answers 413 above it)
MAX_CODE_BYTES = 256 * 1024

SOURCE_BASES = ("AbstractSource", "StreamingSource")
SIMPLE_METHODS = ("get_streams", "check_connection", "get_records")


@dataclass
class SourceCheck:
    """The validation report of one code string plus what could be read from it without running it."""

    report: Report
    class_name: str | None = None
    source_name: str | None = None
    streams: list[str] = field(default_factory=list)
    config_schema: dict[str, Any] | None = None
    allowed_hosts: list[str] | None = None  # a sourceSpec's hosts (code states its own)

    @property
    def valid(self) -> bool:
        return self.report.valid and self.class_name is not None

    def to_dict(self) -> dict[str, Any]:
        """The reference shape ``{valid, errors, warnings}`` plus the extracted description."""
        out = self.report.to_dict()
        out["valid"] = self.valid
        out["source_name"] = self.source_name
        out["class_name"] = self.class_name
        out["streams"] = self.streams
        out["config_schema"] = self.config_schema
        return out


def _statement_columns(tree: ast.Module) -> dict[int, int]:
    """line -> column of the outermost-but-one statement starting on it (the one an editor underlines)."""
    cols: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            line = node.lineno
            if line not in cols or node.col_offset < cols[line]:
                cols[line] = node.col_offset
    return cols


def _statement_at(tree: ast.Module, line: int) -> int | None:
    """The column of the innermost statement whose lines span ``line``."""
    best: ast.stmt | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            end = getattr(node, "end_lineno", node.lineno) or node.lineno
            if node.lineno <= line <= end and (best is None or node.col_offset >= best.col_offset):
                if (
                    isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                    and node.lineno != line
                ):
                    if best is None:
                        best = node
                    continue
                best = node
    return best.col_offset if best is not None else None


def _to_statement(findings: list[Finding], tree: ast.Module) -> list[Finding]:
    starts = _statement_columns(tree)
    out = []
    for f in findings:
        col = starts.get(f.line)
        if col is None:
            col = _statement_at(tree, f.line)
        out.append(replace(f, column=col) if col is not None else f)
    return out


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def find_source_class(tree: ast.Module) -> ast.ClassDef | None:
    """The source class: a subclass of AbstractSource/StreamingSource, else one with the simple contract."""
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    for cls in classes:
        if any(_base_name(b) in SOURCE_BASES for b in cls.bases):
            return cls
    for cls in classes:
        names = {n.name for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        if all(m in names for m in SIMPLE_METHODS):
            return cls
    return None


def _returned_strings(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.List | ast.Tuple):
            values = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
            if values and all(isinstance(v, str) for v in values):
                return [str(v) for v in values]
    return []


def _streams(cls: ast.ClassDef) -> list[str]:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in (
            "streams",
            "get_streams",
        ):
            return _returned_strings(node)
    return []


def _config_class_name(tree: ast.Module, cls: ast.ClassDef) -> str | None:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "get_config_class":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Return) and isinstance(sub.value, ast.Name):
                    return sub.value.id
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(_base_name(b) == "SourceConfig" for b in node.bases):
            return node.name
    return None


def _config_schema(tree: ast.Module, cls: ast.ClassDef) -> dict[str, Any]:
    from cdk.sdk.config import BASE_SOURCE_FIELDS
    from cdk.validators.config import model_fields

    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    name = _config_class_name(tree, cls)
    fields = model_fields(tree, name, set(BASE_SOURCE_FIELDS)) if name else None
    for fname, info in (fields or {}).items():
        prop: dict[str, Any] = {}
        if info.types:
            types = sorted(info.types)
            prop["type"] = types[0] if len(types) == 1 else types
        if info.enum is not None:
            prop["enum"] = info.enum
        if info.has_default:
            prop["default"] = info.default
        if info.secret:
            prop["secret"] = True
        schema["properties"][fname] = prop
        if info.required:
            schema["required"].append(fname)
    return schema


def snake(name: str) -> str:
    """``MyNotionSource`` -> ``my_notion``: the source name a class gives when none is stated."""
    base = re.sub(r"Source$", "", name) or name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


def check_source(code: str, *, allowed_hosts: list[str] | None = None) -> SourceCheck:
    """Validate ``code`` with the code suites of ``cdk validate`` and describe it (never runs it)."""
    with _PARSE_LOCK:
        return _check_source(code, allowed_hosts)


def _check_source(code: str, allowed_hosts: list[str] | None) -> SourceCheck:
    from cdk.validators.findings import Rule, make

    report = validate_code(code, allowed_hosts=allowed_hosts)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return SourceCheck(report=report)
    report.findings = _to_statement(report.findings, tree)
    cls = find_source_class(tree)
    if cls is None and report.valid:
        rule = Rule(
            "C000",
            "capabilities",
            "no source class",
            "the code defines no source class",
            "define a class that extends AbstractSource (or has get_streams, check_connection, get_records)",
        )
        report.findings.append(
            make(
                rule,
                "source.py",
                1,
                0,
                "no source class: nothing extends AbstractSource or has "
                "get_streams, check_connection and get_records",
            )
        )
        return SourceCheck(report=report)
    if cls is None:
        return SourceCheck(report=report)
    return SourceCheck(
        report=report,
        class_name=cls.name,
        source_name=snake(cls.name),
        streams=_streams(cls),
        config_schema=_config_schema(tree, cls),
    )


def describe_source(code: str) -> SourceCheck:
    """What :func:`check_source` extracts, without the security suites: for running code whose static
    validation is switched off (the sandbox's own tests). Syntax errors and a missing class still fail."""
    with _PARSE_LOCK:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            tree = None
    cls = find_source_class(tree) if tree is not None else None
    if tree is None or cls is None:
        return check_source(code)
    return SourceCheck(
        report=Report(root="source.py"),
        class_name=cls.name,
        source_name=snake(cls.name),
        streams=_streams(cls),
        config_schema=_config_schema(tree, cls),
    )


DECLARATIVE = "declarative"


def materialise_spec(spec: dict[str, Any], out: Path, *, name: str | None = None) -> Any:
    """Write the connector folder of a sourceSpec document (``cdk import source-spec``) into ``out``.

    Returns the importer's result. Only a manifest and JSON schemas are written: no code runs."""
    import json
    import tempfile

    from cdk.declarative.importer import import_source_spec

    with tempfile.TemporaryDirectory(prefix="cdk-spec-") as d:
        path = Path(d) / "spec.json"
        path.write_text(json.dumps(spec), encoding="utf-8")
        return import_source_spec(path, out, name=name, force=True)


def _untemp(message: str) -> str:
    """A message without the temporary file the importer read (the user sent a document, not a file)."""
    return re.sub(r"\S*/cdk-spec-[^/\s]+/spec\.json:?\s*", "", message)


def check_source_spec(spec: dict[str, Any], *, name: str | None = None) -> SourceCheck:
    """Validate a declarative sourceSpec as ``cdk validate`` validates the folder ``cdk import`` makes of
    it; extract its name, streams, config schema and allowed hosts."""
    import json
    import tempfile

    from cdk.errors import CdkError, ManifestError
    from cdk.validators.engine import validate_project
    from cdk.validators.findings import Rule, make

    rule = Rule(
        "D000",
        "declarative",
        "sourceSpec cannot be imported",
        "the sourceSpec does not fit",
        "see docs/declarative.md",
    )
    with tempfile.TemporaryDirectory(prefix="cdk-spec-") as d:
        out = Path(d) / "connector"
        try:
            result = materialise_spec(spec, out, name=name)
        except CdkError as exc:
            problems = exc.problems if isinstance(exc, ManifestError) else []
            findings = [
                make(rule, "source_spec", p.line or 1, p.column, _untemp(p.message)) for p in problems
            ]
            findings = findings or [make(rule, "source_spec", 1, 0, _untemp(exc.message))]
            return SourceCheck(report=Report(root="source_spec", findings=findings))
        report = validate_project(out)
        schema_path = out / "schemas" / "config.json"
        schema = json.loads(schema_path.read_text(encoding="utf-8")) if schema_path.exists() else None
        from cdk.manifest import load_manifest

        try:
            manifest, _ = load_manifest(out / "connector.yaml")
            hosts = list(manifest.allowed_hosts)
            streams = manifest.stream_names
        except CdkError:
            hosts, streams = [], [result.stream]
    check = SourceCheck(
        report=report, class_name=DECLARATIVE, source_name=result.name, streams=streams, config_schema=schema
    )
    check.allowed_hosts = hosts
    return check


__all__ = [
    "DECLARATIVE",
    "MAX_CODE_BYTES",
    "SourceCheck",
    "check_source",
    "check_source_spec",
    "describe_source",
    "find_source_class",
    "materialise_spec",
    "snake",
]
