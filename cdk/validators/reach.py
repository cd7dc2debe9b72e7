"""The reachability table: which attribute paths of the allowed modules lead outside.

Computed, not listed. ``python -m cdk.validators.reach`` walks every module the strict profile allows
(the running interpreter's standard library and the allowlisted packages that are installed) and records:

* ``exposes``: attributes (of the module, and of its classes) whose value is a module that is not
  itself allowed (``logging.os``, ``typing.sys``, ``random._os``) or a dangerous object of a blocked module
  (``io.open`` *is* ``builtins.open``);
* ``effects``: functions and classes whose code, followed through the module's own functions and the
  other walked modules, opens files, starts processes, opens sockets, touches the environment or runs
  code from a string (``logging.FileHandler`` -> file, ``typing.get_type_hints`` -> code);
* ``native``: for C functions no source can show (``operator.attrgetter``), the short list in
  :data:`NATIVE`.

The table ships as data (``data/reachability.json``); ``cdk validate`` only loads it. A test regenerates
it and fails on a difference, so a new Python or a new version of an allowed package cannot silently
open a path.
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from cdk.validators.astutil import dotted

TABLE_FILE = Path(__file__).with_name("data") / "reachability.json"

# Modules whose objects are dangerous wherever they are re-exported: identity, not name, decides.
DANGEROUS_MODULES = (
    "os",
    "posix",
    "nt",
    "sys",
    "subprocess",
    "socket",
    "_socket",
    "shutil",
    "tempfile",
    "pathlib",
    "importlib",
    "ctypes",
    "pickle",
    "marshal",
    "glob",
    "pty",
    "webbrowser",
    "pydoc",
    "runpy",
    "tokenize",
    "linecache",
    "_imp",
    "_thread",
    "threading",
    "multiprocessing",
    "code",
    "codeop",
    "inspect",
    "gc",
)
# C modules the functions of DANGEROUS_MODULES really live in
NATIVE_HOMES = (
    "posix",
    "nt",
    "_socket",
    "_imp",
    "_thread",
    "_pickle",
    "_ctypes",
    "_posixsubprocess",
    "marshal",
)
DANGEROUS_BUILTINS = (
    "open",
    "eval",
    "exec",
    "compile",
    "__import__",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "vars",
    "locals",
    "breakpoint",
    "input",
    "help",
)
# Pure functions of those modules that are referenced everywhere (reading the clock or random bytes).
PURE_OF_DANGEROUS = {
    "os.urandom",
    "os.fspath",
    "os.PathLike",
    "os.getpid",
    "os.cpu_count",
    "os.sep",
    "os.linesep",
    "os.name",
    "os.path.join",
    "os.path.basename",
    "os.path.dirname",
    "os.path.splitext",
    "os.path.normcase",
    "os.path.normpath",
    "os.path.split",
    "os.path.isabs",
    "sys.intern",
    "sys.maxsize",
    "sys.getrecursionlimit",
    "sys.exc_info",
    "sys.byteorder",
    "sys.version_info",
    "sys.float_info",
    "sys.hash_info",
    "sys.implementation",
    "sys.getsizeof",
    "sys.platform",
    "sys.flags",
    "sys.getdefaultencoding",
    "sys.getfilesystemencoding",
    "sys.is_finalizing",
    "sys.audit",
    "sys.exception",
    "_thread.allocate_lock",
    "_thread.RLock",
    "_thread.get_ident",
    "threading.RLock",
    "threading.Lock",
    "threading.local",
    "threading.get_ident",
    "threading.current_thread",
    "inspect.isclass",
    "inspect.signature",
    "inspect.Parameter",
    "inspect.Signature",
    "inspect.iscoroutinefunction",
    "inspect.isfunction",
    "inspect.ismethod",
    "inspect.isabstract",
    "inspect.cleandoc",
    "inspect.getattr_static",
    "gc.collect",
}
# What a reference to a dotted name does. The first matching prefix wins; PURE_OF_DANGEROUS first.
EFFECT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("builtins.open", "file"),
    ("io.open", "file"),
    ("_io.open", "file"),
    ("io.FileIO", "file"),
    ("_io.FileIO", "file"),
    ("io.open_code", "file"),
    ("os.environ", "env"),
    ("os.getenv", "env"),
    ("os.putenv", "env"),
    ("os.system", "process"),
    ("os.popen", "process"),
    ("os.exec", "process"),
    ("os.spawn", "process"),
    ("os.fork", "process"),
    ("os.posix_spawn", "process"),
    ("os.kill", "process"),
    ("os.", "file"),
    ("posix.", "file"),
    ("nt.", "file"),
    ("shutil.", "file"),
    ("tempfile.", "file"),
    ("pathlib.", "file"),
    ("glob.", "file"),
    ("linecache.", "file"),
    ("tokenize.open", "file"),
    ("subprocess.", "process"),
    ("_posixsubprocess.", "process"),
    ("pty.", "process"),
    ("webbrowser.", "process"),
    ("multiprocessing.", "process"),
    ("socket.", "network"),
    ("_socket.", "network"),
    ("ssl.", "network"),
    ("http.client.", "network"),
    ("urllib.request.", "network"),
    ("ftplib.", "network"),
    ("smtplib.", "network"),
    ("xmlrpc.", "network"),
    ("builtins.eval", "code"),
    ("builtins.exec", "code"),
    ("builtins.compile", "code"),
    ("builtins.__import__", "code"),
    ("importlib.", "code"),
    ("_imp.", "code"),
    ("runpy.", "code"),
    ("pydoc.locate", "code"),
    ("marshal.", "code"),
    ("pickle.", "code"),
    ("sys.modules", "code"),
    ("sys.path", "code"),
    ("sys._getframe", "code"),
    ("ctypes.", "native"),
    ("_ctypes.", "native"),
)
BUILTIN_EFFECTS = {
    "open": "file",
    "eval": "code",
    "exec": "code",
    "compile": "code",
    "__import__": "code",
    "breakpoint": "code",
    "input": "file",
}
# C functions whose source nothing can read: what they do, from their documentation.
NATIVE: dict[str, str] = {
    "operator.attrgetter": "attribute by name",
    "operator.methodcaller": "attribute by name",
    "functools.partial": "",  # listed to document that it is pure; an empty effect is not recorded
    "pydantic.ImportString": "code",
    "pydantic.types.ImportString": "code",
    "pydantic.validate_call": "",
    "yaml.unsafe_load": "code",
    "yaml.unsafe_load_all": "code",
    "yaml.load": "code",
    "yaml.load_all": "code",
    "yaml.full_load": "code",
    "yaml.full_load_all": "code",
    "yaml.Loader": "code",
    "yaml.UnsafeLoader": "code",
    "yaml.FullLoader": "code",
    "yaml.add_constructor": "code",
    "yaml.add_multi_constructor": "code",
    "string.Formatter": "attribute by name",
    "jsonschema.RefResolver": "network",
    "typing.get_type_hints": "code",
    "typing.ForwardRef": "code",
    "typing_extensions.get_type_hints": "code",
    "typing_extensions.ForwardRef": "code",
}
# Effects that close an attribute path of a "*" module (computed "code" effects are mostly the
# interpreter's own bookkeeping, sys.modules and frames; the code routes that matter are in NATIVE).
BLOCKING_EFFECTS = ("file", "process", "network", "code", "attribute by name", "native")


def _module_source(name: str) -> tuple[Any, ast.Module | None]:
    import inspect

    try:
        module = importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a module that is not installed has no entry
        return None, None
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return module, None
    try:
        return module, ast.parse(source)
    except SyntaxError:
        return module, None


def _aliases(tree: ast.Module, module: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            base = node.module
            if node.level:
                parent = module.split(".")
                parent = parent[: len(parent) - node.level + (1 if _is_package(module) else 0)]
                base = ".".join([*parent, node.module]) if node.module else ".".join(parent)
            for a in node.names:
                if a.name != "*":
                    out[a.asname or a.name] = f"{base}.{a.name}"
    return out


def _is_package(module: str) -> bool:
    mod = sys.modules.get(module)
    return bool(mod is not None and hasattr(mod, "__path__"))


def _effect_of(name: str) -> str | None:
    if name in PURE_OF_DANGEROUS or any(name.startswith(p + ".") for p in PURE_OF_DANGEROUS):
        return None
    for prefix, effect in EFFECT_PREFIXES:
        if name == prefix.rstrip(".") or name.startswith(prefix):
            return effect
    return None


class _Module:
    """One module's top-level definitions, their direct effects and their references."""

    def __init__(self, name: str, tree: ast.Module) -> None:
        self.name = name
        self.aliases = _aliases(tree, name)
        self.defs: dict[str, list[ast.AST]] = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.defs.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        self.defs.setdefault(t.id, []).append(node.value)
        self.direct: dict[str, set[str]] = {}
        self.refs: dict[str, set[str]] = {}
        for def_name, nodes in self.defs.items():
            effects: set[str] = set()
            refs: set[str] = set()
            for n in nodes:
                self._scan(n, effects, refs)
            self.direct[def_name] = effects
            self.refs[def_name] = refs

    def _scan(self, root: ast.AST, effects: set[str], refs: set[str]) -> None:
        for node in ast.walk(root):
            if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "ctx", None), ast.Store):
                name = dotted(node)
                if name is None:
                    continue
                head, _, rest = name.partition(".")
                if head in self.aliases:
                    full = self.aliases[head] + ("." + rest if rest else "")
                    e = _effect_of(full)
                    if e:
                        effects.add(e)
                    refs.add(full)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                n = node.id
                if n in self.defs:
                    refs.add(f"{self.name}.{n}")
                elif n in self.aliases:
                    full = self.aliases[n]
                    e = _effect_of(full)
                    if e:
                        effects.add(e)
                    refs.add(full)
                elif n in BUILTIN_EFFECTS:
                    effects.add(BUILTIN_EFFECTS[n])
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ("getattr", "setattr") and len(node.args) >= 2:
                    if not isinstance(node.args[1], ast.Constant) and node.func.id not in self.defs:
                        pass  # implementation code dispatches by name everywhere; not an effect


class Analyzer:
    """Effects of dotted names, followed across the walked modules to a fixed point."""

    def __init__(self, modules: Iterable[str]) -> None:
        self.modules: dict[str, _Module] = {}
        self.objects: dict[str, Any] = {}
        for name in modules:
            obj, tree = _module_source(name)
            if obj is None:
                continue
            self.objects[name] = obj
            if tree is not None:
                self.modules[name] = _Module(name, tree)
        self._effects: dict[str, set[str]] = {}
        self._solve()

    def _solve(self) -> None:
        for mod in self.modules.values():
            for d, eff in mod.direct.items():
                self._effects[f"{mod.name}.{d}"] = set(eff)
        for mod in self.modules.values():  # computed "code" is kept only where NATIVE names it
            for d in mod.direct:
                mod.direct[d].discard("code")
                self._effects[f"{mod.name}.{d}"].discard("code")
        changed = True
        while changed:
            changed = False
            for mod in self.modules.values():
                for d in mod.defs:
                    key = f"{mod.name}.{d}"
                    cur = self._effects[key]
                    before = len(cur)
                    for ref in mod.refs[d]:
                        if not ref.startswith(mod.name + "."):
                            continue  # followed inside a module only: across modules it over-approximates
                        other = self._effects.get(ref)
                        if other:
                            cur |= other
                    if len(cur) != before:
                        changed = True
        for name, effect in NATIVE.items():  # marks of the named object only; not propagated
            if effect:
                self._effects.setdefault(name, set()).add(effect)

    def effects(self, name: str) -> set[str]:
        return self._effects.get(name, set())


def _dangerous_objects() -> dict[int, str]:
    import builtins

    out: dict[int, str] = {}
    for name in DANGEROUS_BUILTINS:
        out[id(getattr(builtins, name))] = f"builtins.{name}"
    for mod_name in DANGEROUS_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except Exception:  # noqa: BLE001, S112 - not on this platform
            continue
        for attr in dir(mod):
            full = f"{mod_name}.{attr}"
            if full in PURE_OF_DANGEROUS or attr.startswith("__"):
                continue
            value = getattr(mod, attr, None)
            origin = str(getattr(value, "__module__", None) or "").split(".")[0]
            if origin not in DANGEROUS_MODULES and origin not in NATIVE_HOMES:
                continue  # a pure function the module merely imported (pickle.islice is itertools.islice)
            if callable(value) and not isinstance(value, type(builtins)):
                if isinstance(value, type) and value.__module__ in ("builtins", "typing", "abc"):
                    continue
                if getattr(builtins, getattr(value, "__name__", ""), None) is value:
                    continue  # a plain builtin re-exported (os.open is not builtins.open; str is str)
                out.setdefault(id(value), full)
    import io

    out[id(io.open)] = "builtins.open"
    out[id(io.FileIO)] = "io.FileIO"
    out[id(io.open_code)] = "io.open_code"
    return out


def compute(allowed: dict[str, Any]) -> dict[str, Any]:
    """The table for the modules named in ``allowed`` (module -> "*" or attribute list) and the running
    interpreter."""
    import inspect

    names = sorted(m for m in allowed if not m.endswith(".*"))
    analyzer = Analyzer(names)
    dangerous = _dangerous_objects()
    allowed_set = set(names)
    modules: dict[str, Any] = {}
    for name in names:
        module = analyzer.objects.get(name)
        if module is None:
            continue
        exposes: dict[str, str] = {}
        effects: dict[str, list[str]] = {}
        for attr in sorted(vars(module)):
            if attr.startswith("__") and attr.endswith("__"):
                continue
            value = vars(module)[attr]
            reason = _exposure(value, dangerous if name not in DANGEROUS_MODULES else {}, allowed_set)
            if inspect.ismodule(value) and value.__name__.startswith(name + "."):
                reason = None  # a submodule: recorded below from the file system, loaded or not
                if allowed[name] != "*":
                    continue
            if reason:
                exposes[attr] = reason
            eff = analyzer.effects(f"{name}.{attr}") or analyzer.effects(_origin(value) or "")
            if eff:
                effects[attr] = sorted(eff)
            if isinstance(value, type) and getattr(value, "__module__", "") == name:
                for cattr, cvalue in sorted(vars(value).items()):
                    if cattr.startswith("__") and cattr.endswith("__"):
                        continue
                    reason = _exposure(cvalue, dangerous, allowed_set)
                    if reason:
                        exposes[f"{attr}.{cattr}"] = reason
        if hasattr(module, "__path__") and allowed[name] == "*":
            # every submodule, loaded or not, is an attribute once imported (for an explicit list the
            # list decides, so a new submodule of cdk does not change the table)
            import pkgutil

            for info in pkgutil.iter_modules(module.__path__):
                sub = f"{name}.{info.name}"
                if sub not in allowed_set:
                    exposes[info.name] = f"module {sub}"
                else:
                    exposes.pop(info.name, None)
        for native, effect in NATIVE.items():  # lazy attributes (pydantic) are not in vars()
            owner, _, attr = native.rpartition(".")
            if owner == name and effect and attr not in effects:
                effects[attr] = [effect]
        modules[name] = {
            "exposes": dict(sorted(exposes.items())),
            "effects": dict(sorted(effects.items())),
            "version": _version_of(name),
        }
    return {
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "generator": "python -m cdk.validators.reach",
        "modules": modules,
    }


def _origin(value: Any) -> str | None:
    mod = getattr(value, "__module__", None)
    qual = getattr(value, "__qualname__", None)
    if isinstance(mod, str) and isinstance(qual, str) and "." not in qual:
        return f"{mod}.{qual}"
    return None


def _exposure(value: Any, dangerous: dict[int, str], allowed: set[str]) -> str | None:
    import inspect

    if inspect.ismodule(value):
        return None if value.__name__ in allowed else f"module {value.__name__}"
    hit = dangerous.get(id(value))
    if hit:
        return hit
    fn = getattr(value, "__func__", None)  # staticmethod/classmethod wrappers
    if fn is not None and id(fn) in dangerous:
        return dangerous[id(fn)]
    return None


def _version_of(module: str) -> str:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        return f"python {sys.version_info.major}.{sys.version_info.minor}"
    if top == "cdk":
        from cdk._version import __version__

        return f"connector-cdk {__version__}"
    from importlib import metadata

    dist_names = metadata.packages_distributions().get(top, [])
    for dist in dist_names:
        try:
            return f"{dist} {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def allowed_modules() -> dict[str, Any]:
    """The union of the module allowlists of the default policy's profiles."""
    from cdk.validators.policy import load_policy_data

    data = load_policy_data()
    out: dict[str, Any] = {}
    for profile in (data.get("profiles") or {}).values():
        out.update(profile.get("modules") or {})
    return out


@lru_cache(maxsize=1)
def load_table() -> dict[str, Any]:
    """The shipped table (loaded once per process; never computed at validate time)."""
    try:
        data: dict[str, Any] = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"modules": {}}
    return data


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    table = compute(allowed_modules())
    text = render(table)
    if args and args[0] == "--check":
        current = TABLE_FILE.read_text(encoding="utf-8") if TABLE_FILE.is_file() else ""
        return 0 if current == text else 1
    TABLE_FILE.parent.mkdir(parents=True, exist_ok=True)
    TABLE_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {TABLE_FILE} ({len(table['modules'])} modules)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
