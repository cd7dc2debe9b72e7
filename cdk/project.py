"""A connector folder, loaded once: manifest, pyproject, schemas, and each Python file parsed once.

Validators, run commands, tests and publishing all take a :class:`Project`, so no file is read or
parsed twice in one command.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cdk.errors import ManifestError
from cdk.manifest import MANIFEST_FILE, Manifest, Positions, load_manifest

# never Python a connector ships
ALWAYS_SKIP = {
    ".git",
    ".hg",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
}
# skipped at the top level unless they are packages (a wheel may ship a package called build or env)
SKIP_DIRS = {
    ".git",
    ".hg",
    ".venv",
    "venv",
    "env",
    "build",
    "dist",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    "secrets",
}


@dataclass
class Project:
    """A connector folder. Create with :meth:`Project.load`."""

    root: Path
    manifest: Manifest
    positions: Positions
    _asts: dict[Path, ast.Module | SyntaxError] = field(default_factory=dict, repr=False)
    _json: dict[Path, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path = ".") -> Project:
        """Load the connector at ``path`` (a folder or its connector.yaml); raises ManifestError."""
        path = Path(path)
        root = path.parent if path.name == MANIFEST_FILE else path
        if not root.exists():
            raise ManifestError(f"no such folder: {root}")
        manifest, positions = load_manifest(root / MANIFEST_FILE)
        return cls(root=root.resolve(), manifest=manifest, positions=positions)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_FILE

    def rel(self, path: Path) -> str:
        """Path relative to the connector root, for messages."""
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)

    # --- pyproject ------------------------------------------------------------------------------
    @cached_property
    def pyproject_path(self) -> Path:
        return self.root / "pyproject.toml"

    @cached_property
    def pyproject(self) -> dict[str, Any] | None:
        """Parsed pyproject.toml, or None when absent. A TOML error raises ManifestError with line:col."""
        from cdk.errors import InputError
        from cdk.fsutil import parse_toml, read_input_text

        if not self.pyproject_path.exists() and not self.pyproject_path.is_symlink():
            return None
        try:
            return parse_toml(read_input_text(self.pyproject_path, shown="pyproject.toml"), "pyproject.toml")
        except InputError as exc:
            raise ManifestError(
                "pyproject.toml cannot be read"
                if not exc.problem or not exc.problem.line
                else "pyproject.toml is not valid TOML",
                problems=[exc.problem] if exc.problem and exc.problem.line else [],
                hint=exc.hint,
            ) from None

    @property
    def tool_settings(self) -> dict[str, Any]:
        """The connector's ``[tool.cdk]`` table (empty when absent)."""
        return ((self.pyproject or {}).get("tool") or {}).get("cdk") or {}

    # --- Python files ---------------------------------------------------------------------------
    @cached_property
    def python_files(self) -> list[Path]:
        """Every .py file Python could run from the connector: the package, tests/ (conftest.py runs
        during `cdk test`) and folders such as build/ or env/ when they are packages a wheel would ship;
        skipped are VCS and cache folders, virtual environments (a pyvenv.cfg) and top-level build
        output that is not a package. Symlinks are never followed."""
        return self._walk()[0]

    @cached_property
    def unchecked_files(self) -> list[Path]:
        """Compiled (.pyc/.pyo outside __pycache__) and native (.so/.pyd) files: code with no source."""
        return self._walk()[1]

    def _walk(self) -> tuple[list[Path], list[Path]]:
        cached = self.__dict__.get("_walked")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        import os

        sources: list[Path] = []
        compiled: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            here = Path(dirpath)
            rel = here.relative_to(self.root).parts
            keep = []
            for d in sorted(dirnames):
                sub = here / d
                if sub.is_symlink() or d in ALWAYS_SKIP or (d.startswith(".") and d != ".cdk"):
                    continue
                if (sub / "pyvenv.cfg").exists():
                    continue  # a virtual environment: installed packages, not the connector's code
                if not rel and d in SKIP_DIRS and not (sub / "__init__.py").is_file():
                    continue  # top-level build output, env/ or secrets/: not a package a wheel ships
                keep.append(d)
            dirnames[:] = keep
            for name in sorted(filenames):
                path = here / name
                if path.is_symlink():
                    continue
                if name.endswith(".py"):
                    sources.append(path)
                elif name.endswith((".pyc", ".pyo")) and "__pycache__" not in rel:
                    compiled.append(path)
                elif name.endswith((".so", ".pyd")):
                    compiled.append(path)
        result = (sorted(sources), sorted(compiled))
        self.__dict__["_walked"] = result
        return result

    def source(self, path: Path) -> str:
        """The text of a Python file as the interpreter decodes it (BOM and coding cookie honoured;
        a cookie the security suite refuses still decodes here so that it can be reported).
        Regular files only, within the input size limit: InputError otherwise."""
        import io
        import tokenize

        from cdk.fsutil import read_input_bytes

        raw = read_input_bytes(path, shown=self.rel(path))
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except SyntaxError:
            encoding = "utf-8"
        return raw.decode(encoding)

    def parse(self, path: Path) -> ast.Module | SyntaxError:
        """The AST of a Python file (parsed once), or the SyntaxError it raised; a file that cannot be
        read or parsed safely (not UTF-8, a FIFO, nested too deeply) is a SyntaxError with a position too."""
        from cdk.errors import InputError
        from cdk.fsutil import parse_python

        path = Path(path)
        if path not in self._asts:
            try:
                tree = parse_python(self.source(path), str(path))
                assert isinstance(tree, ast.Module)
                self._asts[path] = tree
            except SyntaxError as exc:
                self._asts[path] = exc
            except (UnicodeDecodeError, LookupError) as exc:  # bytes that its encoding cannot decode
                self._asts[path] = SyntaxError(f"cannot decode the file: {exc}", (str(path), 1, 1, None))
            except InputError as exc:
                p = exc.problem
                self._asts[path] = SyntaxError(
                    p.message if p else str(exc),
                    (str(path), max(p.line if p else 1, 1), (p.column if p else 0) + 1, None),
                )
        return self._asts[path]

    def module_path(self, module: str) -> Path | None:
        """The file that defines ``module`` inside the connector (package/__init__.py or module.py)."""
        base = self.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        src = self.root / "src"
        if src.is_dir():
            base = src.joinpath(*module.split("."))
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    # --- schemas ----------------------------------------------------------------------------------
    def load_json(self, ref: str | dict[str, Any] | None) -> Any:
        """A schema given inline or as a path relative to the root (parsed once). Raises ManifestError."""
        if ref is None or isinstance(ref, dict):
            return ref
        path = (self.root / ref).resolve()
        if path not in self._json:
            from cdk.errors import InputError
            from cdk.fsutil import parse_json, read_input_text

            if not path.exists():
                raise ManifestError(f"{ref}: file not found (named in {MANIFEST_FILE})")
            try:
                self._json[path] = parse_json(read_input_text(path, shown=str(ref)), str(ref))
            except InputError as exc:
                raise ManifestError(
                    str(exc) if not exc.problem or not exc.problem.line else f"{ref} is not valid JSON",
                    problems=[exc.problem] if exc.problem and exc.problem.line else [],
                ) from None
        return self._json[path]

    def stream_schema(self, stream: str) -> dict[str, Any] | None:
        schema: dict[str, Any] | None = self.load_json(self.manifest.stream(stream).schema_)
        return schema

    def config_schema(self) -> dict[str, Any] | None:
        """The config JSON Schema: the manifest's file/inline schema, else generated from config.class."""
        spec = self.manifest.config
        if spec and spec.schema_ is not None:
            schema: dict[str, Any] | None = self.load_json(spec.schema_)
            return schema
        return None


def _toml_position(message: str) -> tuple[int, int]:
    import re

    m = re.search(r"at line (\d+), column (\d+)", message)
    return (int(m.group(1)), int(m.group(2)) - 1) if m else (1, 0)


_NOT_CONNECTOR_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", "site-packages"}
)


def connector_of(path: Path) -> Path | None:
    """The connector folder that holds ``path`` (the nearest ancestor with a connector.yaml), or None."""
    here = path.resolve().parent if not path.is_dir() else path.resolve()
    for folder in (here, *here.parents):
        if (folder / "connector.yaml").is_file():
            return folder
    return None


def _shown(folder: Path) -> str:
    """``folder`` relative to the current directory when it is below it (as the user would type it)."""
    try:
        return str(folder.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(folder)


def connectors_below(folder: Path) -> list[Path]:
    """Connector folders at any depth below ``folder`` (a monorepo's connectors/*), not inside one
    another, skipping VCS, virtualenv and build folders."""
    found: list[Path] = []
    stack = [folder]
    while stack:
        here = stack.pop()
        try:
            children = sorted(here.iterdir())
        except OSError:
            continue
        for child in children:
            if not child.is_dir() or child.is_symlink() or child.name in _NOT_CONNECTOR_DIRS:
                continue
            if child.name.startswith(".") or child.name.endswith(".egg-info"):
                continue
            if (child / "connector.yaml").is_file():
                found.append(child)
            else:
                stack.append(child)
    return sorted(found)


def find_connectors(paths: tuple[str, ...] | list[str]) -> list[str]:
    """Connector folders named by PATHs: folders, connector.yaml files, globs, a folder of connectors
    (at any depth: a monorepo's root), or any file inside a connector (as pre-commit passes them:
    the connector that holds it). Files outside every connector are ignored; when PATHs were only
    such files the result is empty (nothing to check). A folder that is no connector and holds none
    is a usage error."""
    import glob

    from cdk.errors import UsageError

    out: list[str] = []
    only_loose_files = bool(paths)
    for raw in paths or (".",):
        matches = sorted(glob.glob(raw)) if glob.has_magic(raw) else [raw]
        if not matches:
            raise UsageError(f"no path matches {raw!r}")
        for item in matches:
            p = Path(item)
            if p.name == "connector.yaml" and p.is_file():
                out.append(str(p.parent))
                only_loose_files = False
            elif (p / "connector.yaml").is_file():
                out.append(item)
                only_loose_files = False
            elif p.is_dir():
                only_loose_files = False
                owner = connector_of(p)
                inner = [str(c) for c in connectors_below(p)] if owner is None else [_shown(owner)]
                if not inner:
                    raise UsageError(
                        f"{item} is not a connector (no connector.yaml in it or above it) and holds none",
                        hint="run it in a connector folder, or pass connector folders or files inside them",
                    )
                out.extend(inner)
            elif p.is_file() or p.is_symlink():
                owner = connector_of(p)
                if owner is not None:
                    out.append(_shown(owner))
            elif not glob.has_magic(raw):
                raise UsageError(
                    f"no such connector folder or file: {item}",
                    hint="pass a folder that holds a connector.yaml, or a file inside one",
                )
    if only_loose_files and not out:
        return []
    seen: set[Path] = set()
    unique: list[str] = []
    for folder in out:
        key = Path(folder).resolve()
        if key not in seen:
            seen.add(key)
            unique.append(folder)
    if not unique:
        raise UsageError(
            f"no connector found in {' '.join(paths)}", hint="pass folders that hold a connector.yaml"
        )
    return unique
