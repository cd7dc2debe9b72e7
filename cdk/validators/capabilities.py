"""Capabilities suite, by AST: every declared capability has its methods, defined by the connector.

A method counts only when it is defined on the connector class or on a base class inside the connector
package; the SDK's abstract stubs never count. Signatures are checked (parameters, static vs
instance). The custom-sources API's simpler contract (``get_streams``, ``check_connection``, ``get_records``) is
recognised and adapted by the SDK.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdk.findings import Finding
from cdk.validators.astutil import import_aliases, module_of
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy

if TYPE_CHECKING:
    from cdk.project import Project
    from cdk.validators.engine import CodeProject

RULES = [
    Rule(
        "A001",
        "capabilities",
        "required method missing",
        "a declared capability needs a method the connector does not define",
        "define the method on the connector class (the SDK's abstract stub does not count)",
        bad="capabilities: [incremental]\nclass S(AbstractSource):  # no get_records_after",
        good="class S(AbstractSource):\n    def get_records_after(self, source_state, pagination=None): ...",
    ),
    Rule(
        "A002",
        "capabilities",
        "incompatible signature",
        "the method's signature does not fit how the runner calls it",
        "match the SDK's signature: parameters and @staticmethod as in cdk.sdk.source",
        bad="def get(self):  # the runner passes pagination",
        good="def get(self, pagination=None):",
    ),
    Rule(
        "A003",
        "capabilities",
        "capability implemented but not declared",
        "the connector implements a capability its manifest does not declare",
        "add the capability to connector.yaml, or remove the method",
        severity="warning",
        waivable=True,
        bad="capabilities: [batch_extract]\n    def get_records_after(...): ...",
        good="capabilities: [batch_extract, incremental]",
    ),
    Rule(
        "A004",
        "capabilities",
        "no connector class",
        "no class extends AbstractSource, StreamingSource or AbstractDestination",
        "subclass one of the SDK's base classes",
        bad="class MySource:\n    ...",
        good="class MySource(AbstractSource):\n    ...",
    ),
]
R = {r.code: r for r in RULES}


@dataclass(frozen=True)
class Expect:
    static: bool | None  # True: @staticmethod/@classmethod; False: instance method; None: either
    params: int  # positional parameters after self/cls that the runner passes


REQUIRED: dict[str, dict[str, Expect]] = {
    "batch_extract": {
        "streams": Expect(True, 0),
        "get_config_class": Expect(True, 0),
        "check_connection": Expect(False, 0),
        "get": Expect(False, 1),
    },
    "incremental": {
        "streams": Expect(True, 0),
        "get_config_class": Expect(True, 0),
        "check_connection": Expect(False, 0),
        "get": Expect(False, 1),
        "get_records_after": Expect(False, 2),
    },
    "streaming": {
        "streams": Expect(True, 0),
        "get_config_class": Expect(True, 0),
        "check_connection": Expect(False, 0),
        "read_stream": Expect(False, 2),
        "commit": Expect(False, 1),
    },
    "load": {
        "get_config_class": Expect(True, 0),
        "check_connection": Expect(False, 0),
        "write": Expect(False, 2),
    },
}
SEED_CONTRACT = {
    "get_streams": Expect(False, 0),
    "check_connection": Expect(False, 0),
    "get_records": Expect(False, 1),
}
MARKERS = {"incremental": ("get_records_after",), "streaming": ("read_stream", "commit"), "load": ("write",)}
SDK_BASES = {"AbstractSource", "StreamingSource", "AbstractDestination", "SimpleSourceAdapter"}


@dataclass
class Method:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    file: str
    owner: str


class ClassIndex:
    """Every class of the connector package, found by module and name, with import aliases resolved."""

    def __init__(self, project: Project | CodeProject):
        self.project = project
        self.modules: dict[str, tuple[ast.Module, str]] = {}
        for path in project.python_files:
            tree = project.parse(path)
            if isinstance(tree, SyntaxError):
                continue
            name = module_of(project.root, path) if not getattr(project, "code_only", False) else "__code__"
            self.modules[name] = (tree, project.rel(path))

    def find(self, module: str, name: str, depth: int = 0) -> tuple[ast.ClassDef, str, str] | None:
        entry = self.modules.get(module)
        if entry is None or depth > 10:
            return None
        tree, file = entry
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return node, file, module
        target = import_aliases(tree).get(name)
        if target:
            mod, _, cls = target.rpartition(".")
            return self.find(mod, cls, depth + 1)
        for node in tree.body:  # relative imports: from .base import X
            if isinstance(node, ast.ImportFrom) and node.level:
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        package = module if file.endswith("__init__.py") else module.rpartition(".")[0]
                        parts = package.split(".") if package else []
                        parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                        target_mod = ".".join(parts + ([node.module] if node.module else []))
                        return self.find(target_mod, alias.name, depth + 1)
        return None

    def methods(self, cls: ast.ClassDef, file: str, module: str) -> tuple[dict[str, Method], set[str]]:
        """Methods by name along the bases inside the package (first definition wins), and SDK base names met."""
        out: dict[str, Method] = {}
        sdk: set[str] = set()
        seen: set[int] = set()
        todo = [(cls, file, module)]
        while todo:
            node, f, mod = todo.pop(0)
            if id(node) in seen:
                continue
            seen.add(id(node))
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name not in out:
                    out[stmt.name] = Method(stmt, f, node.name)
            for b in node.bases:
                name = b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else None
                if name is None:
                    continue
                found = self.find(mod, name)
                if found is not None:
                    todo.append(found)
                elif name in SDK_BASES or name.endswith("Source") or name.endswith("Destination"):
                    sdk.add(name)
        return out, sdk


def _is_static(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool | None:
    names = {getattr(d, "id", getattr(d, "attr", None)) for d in fn.decorator_list}
    if "staticmethod" in names:
        return True
    if "classmethod" in names:
        return None  # callable on the class and the instance
    return False


def _signature_problem(method: Method, expect: Expect, name: str) -> str | None:
    fn = method.node
    static = _is_static(fn)
    if expect.static is True and static is False:
        return f"{name}() must be a @staticmethod (or @classmethod): the runner calls it on the class"
    if expect.static is False and static is True:
        return f"{name}() must be an instance method (it uses self), not a @staticmethod"
    args = fn.args
    positional = list(args.posonlyargs) + list(args.args)
    if static is not True and positional:
        positional = positional[1:]  # self / cls
    n_defaults = len(args.defaults)
    required = len(positional) - n_defaults
    required_kwonly = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=False) if d is None]
    if required > expect.params:
        return f"{name}() requires {required} argument(s) but the runner passes {expect.params}"
    if len(positional) < expect.params and args.vararg is None:
        return f"{name}() accepts {len(positional)} argument(s) but the runner passes {expect.params}"
    if required_kwonly:
        return f"{name}() requires keyword-only argument(s) {required_kwonly} that the runner never passes"
    return None


def _class_line(cls: ast.ClassDef) -> tuple[int, int]:
    return cls.lineno, cls.col_offset + len("class ")


def _stub(method: Method) -> bool:
    """A placeholder body: only ``...`` or ``raise NotImplementedError`` (``pass`` is a deliberate no-op)."""
    body = method.node.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if not body:
        return True
    if len(body) != 1:
        return False
    stmt = body[0]
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
        return True
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return getattr(exc, "id", None) == "NotImplementedError"
    return False


def check_class(
    index: ClassIndex, cls: ast.ClassDef, file: str, module: str, capabilities: list[str] | None
) -> list[Finding]:
    out: list[Finding] = []
    methods, _ = index.methods(cls, file, module)
    line, col = _class_line(cls)
    seed = ("get_records" in methods or "get_streams" in methods) and "get" not in methods
    declared = (
        capabilities
        if capabilities is not None
        else (
            ["batch_extract"]
            if not any(m in methods for m in ("write", "read_stream"))
            else [c for c, ms in MARKERS.items() if all(x in methods for x in ms)]
        )
    )
    for cap in declared:
        required = dict(REQUIRED.get(cap, {}))
        if seed and cap in ("batch_extract", "incremental"):
            extra = {"get_records_after": required["get_records_after"]} if cap == "incremental" else {}
            required = {**SEED_CONTRACT, **extra}
        for name, expect in required.items():
            method = methods.get(name)
            if method is None or _stub(method):
                why = (
                    "is not defined (an SDK abstract stub does not count)"
                    if method is None
                    else f"is only a stub in {method.owner}"
                )
                out.append(
                    make(
                        R["A001"],
                        file,
                        line,
                        col,
                        f"capability '{cap}' needs {name}() on {cls.name}; it {why}",
                    )
                )
                continue
            problem = _signature_problem(method, expect, name)
            if problem:
                out.append(make(R["A002"], method.file, method.node.lineno, method.node.col_offset, problem))
    if capabilities is not None:
        for cap, names in MARKERS.items():
            if cap not in capabilities and all(n in methods and not _stub(methods[n]) for n in names):
                m = methods[names[0]]
                out.append(
                    make(
                        R["A003"],
                        m.file,
                        m.node.lineno,
                        m.node.col_offset,
                        f"{cls.name} implements {', '.join(n + '()' for n in names)} (capability '{cap}') but connector.yaml does not declare '{cap}'",
                    )
                )
    return _dedupe(out)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        if (f.rule, f.file, f.line, f.message) not in seen:
            seen.add((f.rule, f.file, f.line, f.message))
            out.append(f)
    return out


def check(project: Project | CodeProject, policy: Policy) -> list[Finding]:
    index = ClassIndex(project)
    m = project.manifest
    if getattr(project, "code_only", False):
        out: list[Finding] = []
        candidates = []
        for module, (tree, file) in index.modules.items():
            classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
            used_as_base = {getattr(b, "id", None) for n in classes.values() for b in n.bases}

            def reaches_sdk(
                node: ast.ClassDef, depth: int = 0, classes: dict[str, ast.ClassDef] = classes
            ) -> bool:
                names = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                return bool(names & SDK_BASES) or (
                    depth < 10
                    and any(
                        reaches_sdk(classes[n], depth + 1, classes)
                        for n in names
                        if n in classes and classes[n] is not node
                    )
                )

            for node in classes.values():
                if node.name not in used_as_base and reaches_sdk(node):
                    candidates.append((node, file, module))
        if not candidates and index.modules:
            file = next(iter(index.modules.values()))[1]
            return [make(R["A004"], file, 1, 0)]
        for node, file, module in candidates:
            out.extend(check_class(index, node, file, module, None))
        return out
    if m is None or not m.entrypoint:
        return []
    module, _, name = m.entrypoint.partition(":")
    found = index.find(module, name)
    if found is None:
        return []  # the manifest suite reports a missing module or class
    cls, file, mod = found
    return check_class(index, cls, file, mod, list(m.capabilities))
