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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.findings import Finding
from cdk.validators.astutil import attr_position, dotted, import_aliases, iter_strings, resolve
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
        "dispatch with an explicit mapping of names to functions, or getattr(self, name) on your own methods",
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
    Rule(
        "S015",
        "security",
        "reaches outside through an allowed module",
        "the attribute path is not on the strict allowlist, or the reachability table shows it leads to a"
        " blocked module, a blocked function, or file, process, network or code-loading work",
        "use only the public, pure names of allowed modules (`cdk rules S015`); the SDK covers I/O",
        bad="import logging\nlogging.os.system('id')",
        good="import logging\nlog = logging.getLogger(__name__)",
    ),
    Rule(
        "S016",
        "security",
        "below cdk's public API",
        "connector code reaches cdk only through the connector API of `cdk.__all__`",
        "import from `cdk` (e.g. `from cdk import AbstractSource`); use `self.session` for HTTP",
        bad="from cdk.sdk.http import requests",
        good="from cdk import AbstractSource, SourceRecord",
    ),
    Rule(
        "S017",
        "security",
        "SDK object tampering",
        "writing to or re-wiring the session, its egress guard, adapters, proxies or SDK classes disables"
        " the guards",
        "configure hosts in connector.yaml `allowed_hosts`; leave the SDK's objects as they are",
        bad="self.session.allowed_hosts.append('evil.example')",
        good="self.session.get('https://api.example.com/v1/items')",
    ),
    Rule(
        "S018",
        "security",
        "source Python would read differently",
        "a coding cookie other than UTF-8 or Latin-1 (UTF-7 hides code in comments), or a line-separator"
        " control character that shifts line numbers between tools and the interpreter",
        "save the file as UTF-8 without a coding cookie and without control characters",
        bad="# -*- coding: utf-7 -*-",
        good="# (no cookie: UTF-8)",
    ),
    Rule(
        "S019",
        "security",
        "file that cannot be checked",
        "compiled (.pyc/.pyo) or native (.so/.pyd) files run without any source to check",
        "ship only .py sources; the wheel is built from them",
        bad="notion_connector/helpers.pyc",
        good="notion_connector/helpers.py",
    ),
]
R = {r.code: r for r in RULES}
# Rules a connector can never waive ([tool.cdk.validate] or an inline ignore), whatever the policy lists
# as waivable: each one re-opens an escape (S006: computed getattr reaches everything).
NEVER_WAIVABLE = frozenset({f"S{n:03d}" for n in range(1, 20) if n != 11} | {"P009", "P010", "P011", "P012"})

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


SUSPICIOUS_ATTRS = {
    "os",
    "sys",
    "subprocess",
    "builtins",
    "socket",
    "importlib",
    "posix",
    "ctypes",
    "_os",
    "_sys",
    "_socket",
    "_io",
    "_imp",
    "_ctypes",
    "bltns",
    "_builtins",
    "_posixsubprocess",
    "_thread",
    "__builtins__",
}
TAMPER_ATTRS = {
    "allowed_hosts",
    "proxies",
    "adapters",
    "mount",
    "get_adapter",
    "trust_env",
    "rebuild_proxies",
    "merge_environment_settings",
    "resolve_redirects",
    "_guard",
    "egress_guard",
    "_allowed_hosts",
}
SDK_OBJECT_ROOTS = ("self.session", "self._session", "self.authenticator", "self._authenticator", "self.auth")
SUPER_TAMPER = {"send", "request", "merge_environment_settings", "rebuild_proxies", "mount", "get_adapter"}
FORMAT_FIELD_ATTR = re.compile(r"\{[^{}!:]*?\.[A-Za-z_]\w*[^{}]*\}")
SAFE_CODECS = {
    "utf-8",
    "utf-8-sig",
    "latin-1",
    "iso-8859-1",
    "iso8859-1",
    "ascii",
    "cp1252",
    "iso8859-15",
    "iso-8859-15",
}
LINE_SHIFTERS = re.compile("[\x0b\x1c\x1d\x1e\x85\u2028\u2029]")


def _effects_blocking() -> tuple[str, ...]:
    from cdk.validators.reach import BLOCKING_EFFECTS

    return BLOCKING_EFFECTS


def attr_path_problem(profile: SecurityProfile, dotted: str, depth: int = 0) -> tuple[str, str, int] | None:
    """Why the attribute path ``dotted`` (aliases resolved) leaves the strict allowlist, as
    ``(rule, message, index of the offending part)``; None when it stays inside."""
    from cdk.validators.reach import load_table

    mod, rest = profile.module_prefix(dotted)
    parts = dotted.split(".")
    if mod is None:
        known = 0  # `import urllib.parse` binds urllib: `urllib.request` is refused at `.request`
        for i in range(1, len(parts)):
            head = ".".join(parts[:i])
            if any(m.startswith(head + ".") for m in profile.modules):
                known = i
        what = ".".join(parts[: known + 1])
        return profile.category_rule(what), f"module '{what}' is not on the allowlist", known
    if not rest or depth > 8:
        return None
    index = len(parts) - len(rest)
    attr = rest[0]
    sdk = mod == "cdk" or mod.startswith("cdk.")
    table = load_table().get("modules", {}).get(mod, {})
    exposes = table.get("exposes", {})
    reason = exposes.get(attr) or (exposes.get(f"{attr}.{rest[1]}") if len(rest) > 1 else None)
    if reason:
        if reason.startswith("module ") and profile.allowed_module(reason[7:]):
            inner = attr_path_problem(profile, ".".join([reason[7:], *rest[1:]]), depth + 1)
            if inner is None:
                return None
            return inner[0], inner[1], index + max(inner[2] - len(reason[7:].split(".")) + 1, 0)
        return ("S016" if sdk else "S015"), f"'{mod}.{attr}' is {reason}: it leads outside the sandbox", index
    entry = profile.modules[mod]
    if attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__")):
        return ("S016" if sdk else "S015"), f"'{mod}.{attr}' is private", index
    if entry != "*" and attr not in entry:
        if profile.allowed_module(f"{mod}.{attr}"):
            return attr_path_problem(profile, ".".join([f"{mod}.{attr}", *rest[1:]]), depth + 1)
        if sdk:
            return "S016", f"'{mod}.{attr}' is not part of cdk's connector API", index
        return "S015", f"'{mod}.{attr}' is not on the allowlist of '{mod}'", index
    if entry == "*":
        effects = [e for e in table.get("effects", {}).get(attr, []) if e in _effects_blocking()]
        if effects:
            return "S015", f"'{mod}.{attr}' does {' and '.join(effects)} work (reachability table)", index
    if profile.allowed_module(f"{mod}.{attr}") and len(rest) > 1:
        return attr_path_problem(profile, ".".join([f"{mod}.{attr}", *rest[1:]]), depth + 1)
    return None


def _chain(node: ast.Attribute) -> tuple[ast.AST, list[ast.Attribute]]:
    """The root of an attribute chain and its Attribute nodes, innermost first."""
    nodes: list[ast.Attribute] = []
    cur: ast.AST = node
    while isinstance(cur, ast.Attribute):
        nodes.append(cur)
        cur = cur.value
    return cur, list(reversed(nodes))


def _string_annotation_problem(const: ast.Constant) -> str | None:
    """A string annotation that typing.get_type_hints or pydantic would evaluate into more than a type."""
    try:
        expr = ast.parse(str(const.value).strip(), mode="eval")
    except SyntaxError:
        return "is not a type expression"
    allowed = (
        ast.Expression,
        ast.Name,
        ast.Attribute,
        ast.Subscript,
        ast.Tuple,
        ast.List,
        ast.Load,
        ast.Constant,
        ast.BinOp,
        ast.BitOr,
        ast.Slice,
    )
    for n in ast.walk(expr):
        if not isinstance(n, allowed):
            return f"contains {type(n).__name__}, which typing/pydantic would evaluate as code"
        if isinstance(n, ast.Attribute) and n.attr.startswith("_"):
            return f"reaches '{n.attr}'"
        if isinstance(n, ast.Name) and (n.id.startswith("__") or n.id in ("eval", "exec", "open", "getattr")):
            return f"names '{n.id}'"
    return None


def _annotation_strings(tree: ast.AST) -> list[ast.Constant]:
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    out = []
    for root in roots:
        for n in ast.walk(root):
            if isinstance(n, ast.Constant) and isinstance(n.value, str):
                out.append(n)
    return out


def python_lines(source: str) -> list[str]:
    """Lines as the interpreter numbers them (only \\n, \\r\\n and \\r end a line; str.splitlines()
    also splits on \\x1c, \\x85, \\u2028 and friends, which would shift inline ignores)."""
    return re.split(r"\r\n|\r|\n", source)


def encoding_findings(source: str | bytes, file: str) -> list[Finding]:
    """S018: a coding cookie Python would honour with a codec that is not an ASCII superset we read
    the same way, and line-separator control characters."""
    out: list[Finding] = []
    head = source[:400] if isinstance(source, str) else source[:400].decode("latin-1")
    for i, line in enumerate(python_lines(head)[:2], 1):
        m = re.match(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", line)
        if m:
            import codecs

            try:
                name = codecs.lookup(m.group(1)).name
            except LookupError:
                name = m.group(1).lower()
            if name not in SAFE_CODECS and name.replace("_", "-") not in SAFE_CODECS:
                out.append(
                    make(
                        R["S018"],
                        file,
                        i,
                        m.start(1),
                        f"coding cookie '{m.group(1)}': the interpreter"
                        f" decodes this file as {name}, which can hide code from every reader",
                    )
                )
            break
        if line.strip() and not line.lstrip().startswith("#"):
            break
    text = source if isinstance(source, str) else source.decode("utf-8", "replace")
    for shift in LINE_SHIFTERS.finditer(text):
        lineno = text.count("\n", 0, shift.start()) + 1
        col = shift.start() - (text.rfind("\n", 0, shift.start()) + 1)
        out.append(
            make(
                R["S018"],
                file,
                lineno,
                col,
                f"control character {shift.group(0)!r} splits lines differently"
                " for tools than for the interpreter",
            )
        )
        break
    return out


def _from_module_col(line_text: str, node: ast.ImportFrom) -> int:
    """Column of the module name in ``from MODULE import ...``."""
    rest = line_text[node.col_offset :]
    if rest.startswith("from"):
        after = rest[4:]
        return node.col_offset + 4 + (len(after) - len(after.lstrip()))
    return node.col_offset


def check_tree(
    tree: ast.Module,
    source: str,
    file: str,
    profile: SecurityProfile,
    siblings: Any = None,
) -> list[Finding]:
    """Every security finding of one parsed file. ``siblings(module, level)`` returns the import aliases
    of another module of the connector (``None`` when it is not the connector's), so re-exports through
    the connector's own modules resolve to what they stand for."""
    out: list[Finding] = []
    aliases = import_aliases(tree)
    lines = python_lines(source)
    blocked_builtins = profile.blocked_builtins
    allowlist = bool(profile.modules)

    def add(code: str, line: int, col: int, message: str) -> None:
        out.append(make(R[code], file, line, col, message))

    # re-exports: `from .helpers import lg` where helpers did `import logging as lg`
    if siblings is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                node.level or siblings(node.module or "", 0) is not None
            ):
                inner = siblings(node.module or "", node.level)
                if inner is None:
                    continue
                for alias in node.names:
                    target = inner.get(alias.name)
                    if target:
                        aliases[alias.asname or alias.name] = target
                        if allowlist:
                            problem = attr_path_problem(profile, target)
                            if problem:
                                add(
                                    problem[0],
                                    alias.lineno,
                                    alias.col_offset,
                                    f"'{alias.name}' re-exports '{target}': {problem[1]}",
                                )

    # one pass over the tree collects what the checks below look up (a walk per question was most of
    # the suite's time)
    nodes = list(ast.walk(tree))
    inner_attrs: set[int] = set()
    call_funcs: set[int] = set()
    format_receivers: dict[str, ast.Constant] = {}
    for node in nodes:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner_attrs.add(id(node.value))
        elif isinstance(node, ast.Call):
            call_funcs.add(id(node.func))
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            format_receivers[node.targets[0].id] = node.value

    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if allowlist:
                    if not profile.allowed_module(alias.name):
                        add(
                            profile.category_rule(alias.name),
                            alias.lineno,
                            alias.col_offset,
                            f"import of '{alias.name}' is not allowed: it is not on the allowlist of policy"
                            f" profile {profile.name}",
                        )
                    continue
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
            if siblings is not None and siblings(node.module, 0) is not None:
                continue  # the connector's own module: checked on its own, re-exports resolved above
            line_text = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
            if allowlist:
                if not profile.allowed_module(node.module) and not any(
                    profile.allowed_module(f"{node.module}.{a.name}") for a in node.names
                ):
                    rule = (
                        "S016" if node.module.split(".")[0] == "cdk" else profile.category_rule(node.module)
                    )
                    add(
                        rule,
                        node.lineno,
                        _from_module_col(line_text, node),
                        f"import of '{node.module}' is not allowed: it is not on the allowlist of policy"
                        f" profile {profile.name}",
                    )
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        add(
                            "S015",
                            alias.lineno,
                            alias.col_offset,
                            f"'from {node.module} import *' hides which names are reached",
                        )
                        continue
                    full = f"{node.module}.{alias.name}"
                    if profile.allowed_module(full):
                        continue
                    problem = attr_path_problem(profile, full)
                    if problem:
                        add(problem[0], alias.lineno, alias.col_offset, f"import of '{full}': {problem[1]}")
                continue
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
            elif target is None and name in ATTR_FUNCS and id(node) not in call_funcs:
                add(
                    "S006",
                    node.lineno,
                    node.col_offset,
                    f"'{name}' passed around as a value reaches attributes by computed names",
                )
        elif isinstance(node, ast.Attribute):
            line, col = attr_position(node)
            attr = node.attr
            resolved = resolve(node, aliases)
            if attr in DUNDER_ESCAPES:
                add("S005", line, col, f"attribute '{attr}' reaches outside the sandbox")
            elif resolved in IMPORT_SYSTEM:
                rule = "S007" if attr == "_getframe" else "S009"
                add(rule, line, col, f"'{resolved}' is not allowed")
            elif attr in FRAME_ATTRS:
                add("S007", line, col, f"frame attribute '{attr}' walks into other scopes")
            elif attr in CODE_ATTRS:
                add("S008", line, col, f"'{attr}' builds or inspects code objects")
            elif resolved in profile.blocked_calls:
                add(profile.blocked_calls[resolved], line, col, f"'{resolved}' is not allowed")
            elif attr in ("mro",) and isinstance(node.value, ast.Name) and node.value.id == "type":
                add("S005", line, col, "type.mro walks the class hierarchy")
            elif attr in TAMPER_ATTRS:
                add("S017", line, col, f"'{attr}' is part of the SDK's egress guard and transport")
            elif (
                attr in SUPER_TAMPER
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "super"
            ):
                add("S017", line, col, f"super().{attr} goes around the SDK session's guard")
            elif id(node) not in inner_attrs:
                root, chain = _chain(node)
                if allowlist and isinstance(root, ast.Name) and root.id in aliases:
                    dotted_full = resolve(node, aliases) or ""
                    alias_len = len(aliases[root.id].split("."))
                    problem = attr_path_problem(profile, dotted_full)
                    if problem and problem[2] >= alias_len:
                        at = chain[min(problem[2] - alias_len, len(chain) - 1)]
                        pl, pc = attr_position(at)
                        add(problem[0], pl, pc, problem[1])
                        continue
                for at in chain:
                    if at.attr in SUSPICIOUS_ATTRS:
                        pl, pc = attr_position(at)
                        add("S015", pl, pc, f"attribute '{at.attr}' reaches a blocked module")
                        break
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ATTR_FUNCS:
            _check_attr_call(node, add)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("format", "format_map")
        ):
            recv = node.func.value
            const = (
                recv
                if isinstance(recv, ast.Constant)
                else (format_receivers.get(recv.id) if isinstance(recv, ast.Name) else None)
            )
            if isinstance(const, ast.Constant) and isinstance(const.value, str):
                m = FORMAT_FIELD_ATTR.search(const.value)
                if m:
                    add(
                        "S005",
                        const.lineno,
                        const.col_offset,
                        f"format field '{m.group(0)}' reads attributes of the arguments",
                    )
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for t in targets:
                _check_tamper_target(t, aliases, add)
        elif isinstance(node, ast.Subscript):
            sl = node.slice
            if (
                isinstance(sl, ast.Constant)
                and isinstance(sl.value, str)
                and sl.value in DUNDER_ESCAPES | FRAME_ATTRS
            ):
                add("S005", sl.lineno, sl.col_offset, f"subscript '{sl.value}' reaches outside the sandbox")

    reported = {(f.line, f.column) for f in out}
    escapes = DUNDER_ESCAPES | FRAME_ATTRS
    for const in iter_strings(tree):
        # "{0.__globals__}".format(fn) walks attributes inside a format string
        m = FORMAT_WALK.search(str(const.value))
        where = (const.lineno, const.col_offset)
        if m and where not in reported:
            add(
                "S005", const.lineno, const.col_offset, f"format field '{m.group(0)}' walks to '{m.group(1)}'"
            )
            reported.add(where)
        elif const.value in escapes and where not in reported:
            # e.g. operator.attrgetter("__globals__"), a dunder name kept in a variable
            add(
                "S005",
                const.lineno,
                const.col_offset,
                f"string '{const.value}' names an attribute that reaches outside the sandbox",
            )
    for const in _annotation_strings(tree):
        why = _string_annotation_problem(const)
        if why:
            add("S002", const.lineno, const.col_offset, f"string annotation {why}")
    if not source.isascii():
        out.extend(_unicode_identifiers(source, file))
    out.extend(encoding_findings(source, file))
    return _dedupe(out)


def _check_tamper_target(target: ast.AST, aliases: dict[str, str], add: Any) -> None:
    """Writes to the session, its guard and auth objects, and to classes imported from cdk."""
    if isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            _check_tamper_target(elt, aliases, add)
        return
    if isinstance(target, ast.Subscript):
        target = target.value
        if not isinstance(target, ast.Attribute):
            return
        if target.attr in ("headers", "params"):
            return  # self.session.headers["X-Api-Version"] = "2" configures a request, it does not re-wire
    if not isinstance(target, ast.Attribute):
        return
    line, col = attr_position(target)
    name = dotted(target) or ""
    root, _ = _chain(target)
    if any(name == r or name.startswith(r + ".") for r in SDK_OBJECT_ROOTS) and name not in SDK_OBJECT_ROOTS:
        add("S017", line, col, f"assignment to '{name}' re-wires an SDK object")
    elif name in ("self.session", "self._session"):
        add("S017", line, col, f"assignment to '{name}' replaces the guarded session")
    elif isinstance(root, ast.Name) and (aliases.get(root.id) or "").split(".")[0] == "cdk":
        add("S017", line, col, f"assignment to '{name}' patches the SDK")
    elif isinstance(root, ast.Call) and isinstance(root.func, ast.Name) and root.func.id == "type":
        add("S017", line, col, "assignment to an attribute of type(...) patches a class at run time")


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
    if (
        fn == "getattr"
        and isinstance(obj, ast.Name)
        and obj.id in ("self", "cls")
        and not any(
            isinstance(c, ast.Constant) and isinstance(c.value, str) and "_" in c.value[:1]
            for c in ast.walk(name)
        )
    ):
        return  # getattr(self, "parse_" + kind): dispatch over the connector's own public methods
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


def _sibling_resolver(project: Project | CodeProject, path: Path) -> Any:
    """``(module, level) -> aliases`` of the connector's own modules, or None for outside modules."""
    root = Path(project.root)
    cache: dict[Path, dict[str, str]] = {}

    def aliases_of(file: Path) -> dict[str, str]:
        if file not in cache:
            tree = project.parse(file)
            cache[file] = {} if isinstance(tree, SyntaxError) else import_aliases(tree)
        return cache[file]

    def resolve_module(module: str, level: int) -> dict[str, str] | None:
        if level:
            base = Path(path).parent
            for _ in range(level - 1):
                base = base.parent
            target = base.joinpath(*module.split(".")) if module else base
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate.is_file() and candidate.resolve() != Path(path).resolve():
                    return aliases_of(candidate)
            return {}
        if not module or not (root / module.split(".")[0]).exists() and not (root / "src").is_dir():
            return None
        found = project.module_path(module)
        if found is None or Path(found).resolve() == Path(path).resolve():
            return None
        return aliases_of(Path(found))

    return resolve_module


def check(project: Project | CodeProject, policy: Policy) -> list[Finding]:
    profile = policy.security()
    out: list[Finding] = []
    code_only = getattr(project, "code_only", False)
    for path in project.python_files:
        tree = project.parse(path)
        if isinstance(tree, SyntaxError):
            continue
        siblings = None if code_only else _sibling_resolver(project, Path(path))
        rel = project.rel(path)
        used = profile
        if profile.test_modules and (rel.startswith("tests/") or Path(rel).name == "conftest.py"):
            used = replace(profile, modules={**profile.modules, **profile.test_modules})
        out.extend(check_tree(tree, project.source(Path(path)), rel, used, siblings))
    for path in getattr(project, "unchecked_files", []):
        out.append(
            make(R["S019"], project.rel(path), 1, 0, f"'{project.rel(path)}' runs without source to check")
        )
    return out
