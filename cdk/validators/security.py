"""Security suite: blocked imports and calls, and the known ways around a static import check.

Static checks are one layer; the sandbox of the service is the other. Every finding
points at the offending expression itself (the module name, the attribute, the argument), not at the
enclosing statement.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.findings import Finding
from cdk.validators.astutil import attr_position, import_aliases, iter_strings, resolve
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy, SecurityProfile

if TYPE_CHECKING:
    from cdk.project import Project
    from cdk.validators.engine import CodeProject

RULES = [
    Rule(
        "S001",
        "security",
        "blocked import",
        "this module is not allowed in connector code",
        "use the SDK instead: `self.session` for HTTP, the config for settings, records for output",
        bad="import os\nos.environ['TOKEN']",
        good="token = self.config.authentication.params['token']",
    ),
    Rule(
        "S002",
        "security",
        "dynamic code execution",
        "eval, exec, compile and friends run arbitrary code",
        "parse data with json/ast.literal_eval-free code paths; never build code at run time",
        bad="value = eval(response.text)",
        good="value = response.json()",
    ),
    Rule(
        "S003",
        "security",
        "dynamic import",
        "importlib and __import__ load modules around the import check",
        "import what you need at the top of the module with a plain import statement",
        bad="mod = __import__('o' + 's')",
        good="import json",
    ),
    Rule(
        "S004",
        "security",
        "file-system access",
        "connector code must not open or write files",
        "read settings from the config and return records; the runner handles state and output",
        bad="with open('/etc/passwd') as f:\n    data = f.read()",
        good="data = self.session.get(url).json()",
    ),
    Rule(
        "S005",
        "security",
        "dunder escape",
        "dunder attributes such as __subclasses__, __globals__ and __builtins__ reach outside the sandbox",
        "use the object's public API",
        bad="().__class__.__bases__[0].__subclasses__()",
        good="isinstance(value, dict)",
    ),
    Rule(
        "S006",
        "security",
        "getattr/setattr with a computed name or on builtins",
        "attribute access by a computed name hides what is reached",
        "dispatch with an explicit mapping of names to functions",
        waivable=True,
        bad="handler = getattr(self, 'parse_' + kind)",
        good="handler = {'users': self.parse_users}[kind]",
    ),
    Rule(
        "S007",
        "security",
        "frame walking",
        "frame and generator-frame attributes expose other scopes",
        "pass values explicitly instead of reading them from frames",
        bad="caller = gen.gi_frame.f_back.f_globals",
        good="def parse(page, config): ...",
    ),
    Rule(
        "S008",
        "security",
        "code or function object construction",
        "building code or function objects at run time bypasses the checks",
        "write ordinary functions",
        bad="import types\nf = types.FunctionType(code, {})",
        good="def f(x):\n    return x",
    ),
    Rule(
        "S009",
        "security",
        "import-system tampering",
        "sys.modules, sys.meta_path and sys.path change what imports load",
        "import modules normally",
        bad="import sys\nos = sys.modules['os']",
        good="import json",
    ),
    Rule(
        "S010",
        "security",
        "namespace introspection",
        "vars(), globals() and locals() expose and patch namespaces",
        "pass values explicitly",
        bad="globals()['__builtins__']",
        good="settings = dict(self.config)",
    ),
    Rule(
        "S011",
        "security",
        "non-ASCII identifier",
        "an identifier that Unicode normalisation turns into another name",
        "write identifiers in ASCII",
        waivable=True,
        bad="\uff45\uff56\uff41\uff4c('1+1')  # fullwidth letters normalise to eval",
        good="total = 1 + 1",
    ),
    Rule(
        "S012",
        "security",
        "unsafe deserialisation",
        "pickle, marshal and shelve execute code while loading",
        "exchange data as JSON",
        bad="import pickle\nobj = pickle.loads(body)",
        good="obj = json.loads(body)",
    ),
    Rule(
        "S013",
        "security",
        "process or thread spawning",
        "connectors must not start processes or threads",
        "the runner handles concurrency; return records page by page",
        bad="import subprocess\nsubprocess.run(['curl', url])",
        good="self.session.get(url)",
    ),
    Rule(
        "S014",
        "security",
        "file-system module",
        "pathlib, io, shutil, tempfile, glob and friends reach the file system",
        "keep data in memory; the runner writes state and output",
        bad="from pathlib import Path\nPath('x').write_text(data)",
        good="yield SourceRecord(id=..., data=data)",
    ),
]
R = {r.code: r for r in RULES}

BUILTIN_RULES = {"__import__": "S003", "open": "S004", "globals": "S010", "vars": "S010", "locals": "S010"}
DUNDER_ESCAPES = {
    "__subclasses__",
    "__globals__",
    "__builtins__",
    "__code__",
    "__closure__",
    "__bases__",
    "__base__",
    "__mro__",
    "__getattribute__",
    "__reduce__",
    "__reduce_ex__",
    "__loader__",
    "__spec__",
    "__import__",
    "__dict__",
    "__func__",
    "__self__",
    "__defaults__",
    "__kwdefaults__",
    "__init_subclass__",
    "__subclasshook__",
    "__set_name__",
    "__class_getitem__",
    "__objclass__",
    "__wrapped__",
}
FRAME_ATTRS = {
    "f_back",
    "f_globals",
    "f_locals",
    "f_builtins",
    "f_code",
    "f_trace",
    "gi_frame",
    "gi_code",
    "cr_frame",
    "cr_code",
    "ag_frame",
    "ag_code",
    "tb_frame",
    "tb_next",
    "_getframe",
    "currentframe",
}
CODE_ATTRS = {
    "co_code",
    "co_consts",
    "co_names",
    "co_varnames",
    "CodeType",
    "FunctionType",
    "LambdaType",
    "MethodType",
    "FrameType",
    "GeneratorType",
}
IMPORT_SYSTEM = {
    "sys.modules",
    "sys.meta_path",
    "sys.path_hooks",
    "sys.path",
    "sys.path_importer_cache",
    "sys.settrace",
    "sys.setprofile",
    "sys.addaudithook",
    "sys._getframe",
}
ATTR_FUNCS = {"getattr", "setattr", "delattr"}
FORMAT_WALK = re.compile(r"\{[^{}]*?\.(__\w+__|f_back|f_globals|f_locals|gi_frame|tb_frame)[^{}]*\}")


def _from_module_col(line_text: str, node: ast.ImportFrom) -> int:
    """Column of the module name in ``from MODULE import ...``."""
    rest = line_text[node.col_offset :]
    if rest.startswith("from"):
        after = rest[4:]
        return node.col_offset + 4 + (len(after) - len(after.lstrip()))
    return node.col_offset


def check_tree(tree: ast.Module, source: str, file: str, profile: SecurityProfile) -> list[Finding]:
    """Every security finding of one parsed file."""
    out: list[Finding] = []
    aliases = import_aliases(tree)
    lines = source.splitlines()
    blocked_builtins = profile.blocked_builtins

    def add(code: str, line: int, col: int, message: str) -> None:
        out.append(make(R[code], file, line, col, message))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                rule = profile.import_rule(alias.name)
                if rule:
                    add(
                        rule,
                        alias.lineno,
                        alias.col_offset,
                        f"import of '{alias.name}' is not allowed (policy profile {profile.name})",
                    )
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                continue
            line_text = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                rule = profile.import_rule(full)
                if rule:
                    what = node.module if profile.import_rule(node.module) else full
                    col = _from_module_col(line_text, node) if what == node.module else alias.col_offset
                    line = node.lineno if what == node.module else alias.lineno
                    add(rule, line, col, f"import of '{what}' is not allowed (policy profile {profile.name})")
                    break
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            name = node.id
            target = aliases.get(name)
            if target and target in profile.blocked_calls:
                add(
                    profile.blocked_calls[target],
                    node.lineno,
                    node.col_offset,
                    f"'{name}' is {target}, which is not allowed",
                )
            elif target is None and (name in blocked_builtins or name in ("globals", "vars", "locals")):
                rule = BUILTIN_RULES.get(name, "S002")
                add(rule, node.lineno, node.col_offset, f"use of builtin '{name}' is not allowed")
            elif name in DUNDER_ESCAPES:
                add("S005", node.lineno, node.col_offset, f"'{name}' reaches outside the sandbox")
        elif isinstance(node, ast.Attribute):
            line, col = attr_position(node)
            attr = node.attr
            full = resolve(node, aliases) or ""
            if attr in DUNDER_ESCAPES:
                add("S005", line, col, f"attribute '{attr}' reaches outside the sandbox")
            elif full in IMPORT_SYSTEM:
                rule = "S007" if attr == "_getframe" else "S009"
                add(rule, line, col, f"'{full}' is not allowed")
            elif attr in FRAME_ATTRS:
                add("S007", line, col, f"frame attribute '{attr}' walks into other scopes")
            elif attr in CODE_ATTRS:
                add("S008", line, col, f"'{attr}' builds or inspects code objects")
            elif full in profile.blocked_calls:
                add(profile.blocked_calls[full], line, col, f"'{full}' is not allowed")
            elif attr in ("mro",) and isinstance(node.value, ast.Name) and node.value.id == "type":
                add("S005", line, col, "type.mro walks the class hierarchy")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ATTR_FUNCS:
            _check_attr_call(node, add)
        elif isinstance(node, ast.Subscript):
            sl = node.slice
            if (
                isinstance(sl, ast.Constant)
                and isinstance(sl.value, str)
                and sl.value in DUNDER_ESCAPES | FRAME_ATTRS
            ):
                add("S005", sl.lineno, sl.col_offset, f"subscript '{sl.value}' reaches outside the sandbox")

    reported = {(f.line, f.column) for f in out}
    for const in iter_strings(tree):  # "{0.__globals__}".format(fn) walks attributes inside a format string
        m = FORMAT_WALK.search(str(const.value))  # iter_strings yields str constants only
        if m:
            add(
                "S005", const.lineno, const.col_offset, f"format field '{m.group(0)}' walks to '{m.group(1)}'"
            )
            reported.add((const.lineno, const.col_offset))
    for const in iter_strings(
        tree
    ):  # e.g. operator.attrgetter("__globals__"), a dunder name kept in a variable
        if const.value in DUNDER_ESCAPES | FRAME_ATTRS and (const.lineno, const.col_offset) not in reported:
            add(
                "S005",
                const.lineno,
                const.col_offset,
                f"string '{const.value}' names an attribute that reaches outside the sandbox",
            )
    if not source.isascii():
        out.extend(_unicode_identifiers(source, file))
    return _dedupe(out)


def _check_attr_call(node: ast.Call, add: Any) -> None:
    fn = node.func.id if isinstance(node.func, ast.Name) else ""  # the caller passes calls of a name
    if len(node.args) < 2:
        return
    obj, name = node.args[0], node.args[1]
    if isinstance(obj, ast.Name) and obj.id in ("__builtins__", "builtins"):
        add("S006", obj.lineno, obj.col_offset, f"{fn}() on builtins reaches blocked functions")
        return
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        if name.value in DUNDER_ESCAPES or name.value in FRAME_ATTRS or name.value.startswith("__"):
            add(
                "S005",
                name.lineno,
                name.col_offset,
                f"{fn}() with '{name.value}' reaches outside the sandbox",
            )
        return
    add("S006", name.lineno, name.col_offset, f"{fn}() with a computed attribute name")


def _unicode_identifiers(source: str, file: str) -> list[Finding]:
    out: list[Finding] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return out
    for tok in tokens:
        if tok.type == tokenize.NAME and not tok.string.isascii():
            normal = unicodedata.normalize("NFKC", tok.string)
            message = (
                f"identifier '{tok.string}' is read by Python as '{normal}'"
                if normal != tok.string
                else f"identifier '{tok.string}' is not ASCII"
            )
            out.append(make(R["S011"], file, tok.start[0], tok.start[1], message))
    return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.rule, f.line, f.column)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def check(project: Project | CodeProject, policy: Policy) -> list[Finding]:
    profile = policy.security()
    out: list[Finding] = []
    for path in project.python_files:
        tree = project.parse(path)
        if isinstance(tree, SyntaxError):
            continue
        out.extend(check_tree(tree, project.source(Path(path)), project.rel(path), profile))
    return out
