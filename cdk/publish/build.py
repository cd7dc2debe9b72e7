"""``cdk build``: sdist and wheel through PyPA ``build``, reproducible, offline when it must be.

Why the care:

* an isolated build installs its backend from the package index every time, so without a network it
  fails; when the index cannot be reached and the backend is already importable here, we build without
  isolation and say so in the result's notes;
* a wheel is reproducible when SOURCE_DATE_EPOCH is fixed: we take it from the environment, else the
  last git commit, else 1980-01-01 (the earliest time a zip can hold), so the same commit gives a
  byte-identical wheel;
* a connector wheel is only useful if it carries connector.yaml and its schemas next to each other and
  declares the ``cdk.connectors`` entry point; :func:`check_wheel` refuses a wheel that does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from cdk.errors import (
    OutsideError,
    PackagingError,
)
from cdk.manifest import MANIFEST_FILE

ENTRY_POINT_GROUP = "cdk.connectors"
DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest timestamp a zip file can store
Isolation = Literal["auto", "isolated", "none"]
Distribution = Literal["wheel", "sdist"]


@dataclass
class BuildResult:
    """What a build produced, and how."""

    artifacts: list[Path]
    isolated: bool
    source_date_epoch: int
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def wheel(self) -> Path | None:
        return next((p for p in self.artifacts if p.suffix == ".whl"), None)

    @property
    def sdist(self) -> Path | None:
        return next((p for p in self.artifacts if p.name.endswith(".tar.gz")), None)


def source_date_epoch(root: Path, env: Mapping[str, str] | None = None) -> int:
    """SOURCE_DATE_EPOCH from the environment, else the last git commit's time, else 1980-01-01."""
    env = os.environ if env is None else env
    value = env.get("SOURCE_DATE_EPOCH", "").strip()
    if value.isdigit():
        return int(value)
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_EPOCH
    stamp = out.stdout.strip()
    return max(int(stamp), DEFAULT_EPOCH) if out.returncode == 0 and stamp.isdigit() else DEFAULT_EPOCH


def package_index_url(env: Mapping[str, str] | None = None) -> str | None:
    """The index pip would use (PIP_INDEX_URL, else PyPI), or None when pip is told not to use one."""
    env = os.environ if env is None else env
    if env.get("PIP_NO_INDEX", "").lower() in {"1", "true", "yes", "on"}:
        return None
    return env.get("PIP_INDEX_URL") or "https://pypi.org/simple/"


def index_reachable(url: str | None, timeout: float = 3.0) -> bool:
    """A quick probe: does the package index answer at all? (Any HTTP answer counts.)"""
    if not url:
        return False
    if url.startswith("file:"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        return Path(url2pathname(urlparse(url).path)).exists()
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


class _Runner:
    """Runs backend hooks quietly with SOURCE_DATE_EPOCH set, keeping the output for error messages."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.output: list[str] = []

    def __call__(
        self, cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {**os.environ, **(extra_environ or {}), "SOURCE_DATE_EPOCH": str(self.epoch)}
        proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False)
        self.output.append(proc.stdout + proc.stderr)
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)


def _refuse_special_files(root: Path) -> None:
    """Symlinks (and FIFOs, sockets, devices) are never built: the wheel would carry what a link points
    to (``/etc/passwd``), the sdist the link itself."""
    from cdk.fsutil import special_files
    from cdk.project import SKIP_DIRS

    found = special_files(root, set(SKIP_DIRS))
    if found:
        shown = ", ".join(
            f"{rel} -> {detail}" if kind == "symlink" else f"{rel} ({kind})"
            for rel, kind, detail in found[:5]
        )
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise PackagingError(
            f"{root}: will not build a connector holding symlinks or special files: {shown}{more}",
            hint="replace each link with the file it points to; `cdk validate` reports them as I001/I002",
        )


def build_project(
    root: str | Path,
    out: str | Path | None = None,
    *,
    distributions: Sequence[Distribution] = ("sdist", "wheel"),
    isolation: Isolation = "auto",
    epoch: int | None = None,
    env: Mapping[str, str] | None = None,
) -> BuildResult:
    """Build ``distributions`` of the project at ``root`` into ``out`` (default ``root/dist``)."""
    import build as pypa_build
    from build import ProjectBuilder

    started = time.perf_counter()
    root = Path(root).resolve()
    out_dir = Path(out).resolve() if out else root / "dist"
    out_dir.mkdir(parents=True, exist_ok=True)
    if not (root / "pyproject.toml").is_file():
        raise PackagingError(
            f"{root}: no pyproject.toml, so there is nothing to build",
            hint="cdk init creates one; or add [build-system] and [project] tables",
        )
    _refuse_special_files(root)
    stamp = source_date_epoch(root, env) if epoch is None else epoch
    runner = _Runner(stamp)
    notes: list[str] = []
    try:
        local = ProjectBuilder(root, python_executable=sys.executable, runner=runner)
    except pypa_build.BuildException as exc:
        raise PackagingError(f"pyproject.toml cannot be built: {exc}") from None
    missing = sorted(
        " -> ".join(m) for d in local.build_system_requires for m in pypa_build.check_dependency(d)
    )

    isolated = isolation == "isolated"
    if isolation == "auto":
        index = package_index_url(env)
        isolated = index_reachable(index)
        if not isolated:
            if missing:
                raise OutsideError(
                    f"the package index ({index or 'disabled by PIP_NO_INDEX'}) cannot be reached and the build "
                    f"backend is not installed here (missing: {', '.join(missing)})",
                    hint="connect to the index, or install the backend (e.g. pip install hatchling) to build offline",
                )
            notes.append(
                f"the package index ({index or 'disabled'}) cannot be reached: built without isolation, "
                f"with the build backend installed here ({local.build_system_requires and ', '.join(sorted(local.build_system_requires))})"
            )
    elif isolation == "none" and missing:
        raise OutsideError(
            f"the build backend is not installed here (missing: {', '.join(missing)})",
            hint="install it, or build with isolation",
        )

    artifacts: list[Path] = []
    try:
        if isolated:
            from build.env import DefaultIsolatedEnv

            with DefaultIsolatedEnv() as venv:
                builder = ProjectBuilder.from_isolated_env(venv, root, runner=runner)
                venv.install(builder.build_system_requires)
                for dist in distributions:
                    venv.install(builder.get_requires_for_build(dist))
                    artifacts.append(Path(builder.build(dist, out_dir)))
        else:
            for dist in distributions:
                artifacts.append(Path(local.build(dist, out_dir)))
    except pypa_build.BuildBackendException as exc:
        tail = "\n".join("".join(runner.output).strip().splitlines()[-15:])
        raise PackagingError(
            f"the build backend failed while building {root.name}: {exc.exception!r}\n{tail}",
            hint="fix pyproject.toml / the package layout, then run cdk build again",
        ) from None
    except pypa_build.BuildException as exc:
        raise OutsideError(
            f"could not prepare the build environment: {exc}",
            hint="check the package index is reachable, or build offline with the backend installed",
        ) from None
    except subprocess.CalledProcessError as exc:  # installing backend requirements into the isolated env
        raise OutsideError(
            f"could not install the build backend into an isolated environment: {exc}",
            hint="check the package index is reachable (PIP_INDEX_URL)",
        ) from None
    return BuildResult(artifacts, isolated, stamp, notes, time.perf_counter() - started)


# --- what a connector wheel must contain -------------------------------------------------------


@dataclass
class WheelConnector:
    """connector.yaml and the schema files it names, as found inside a wheel."""

    wheel: Path
    prefix: str  # folder of connector.yaml inside the wheel ("my_connector/")
    manifest_text: str
    files: dict[str, bytes]  # schema refs (as named in connector.yaml) -> bytes
    entry_points: dict[str, str]  # cdk.connectors name -> object reference

    def load_json(self, ref: str | dict[str, Any] | None) -> Any:
        import json

        if ref is None or isinstance(ref, dict):
            return ref
        return json.loads(self.files[ref])


def _schema_refs(manifest: Any) -> list[str]:
    refs = [s.schema_ for s in manifest.streams if isinstance(s.schema_, str)]
    if manifest.config and isinstance(manifest.config.schema_, str):
        refs.append(manifest.config.schema_)
    return refs


def _entry_points(zf: zipfile.ZipFile) -> dict[str, str]:
    import configparser

    name = next((n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")), None)
    if name is None:
        return {}
    parser = configparser.ConfigParser(delimiters=("=",))
    # ignored below: assigning optionxform is configparser's documented way to keep keys' case; typeshed types it as a method
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(zf.read(name).decode("utf-8"))
    return dict(parser[ENTRY_POINT_GROUP]) if parser.has_section(ENTRY_POINT_GROUP) else {}


def read_wheel_connector(wheel: str | Path) -> WheelConnector:
    """Find connector.yaml, its schemas and the entry points in ``wheel``; raise PackagingError if absent."""
    from cdk.manifest import manifest_from_data, parse_yaml_with_positions

    wheel = Path(wheel)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        candidates = sorted((n for n in names if PurePosixPath(n).name == MANIFEST_FILE), key=len)
        if not candidates:
            raise PackagingError(
                f"{wheel.name} does not contain {MANIFEST_FILE}",
                hint="ship it inside the package, e.g. in pyproject.toml: [tool.hatch.build.targets.wheel.force-include] "
                '"connector.yaml" = "<package>/connector.yaml" and "schemas" = "<package>/schemas"',
            )
        path = candidates[0]
        prefix = path[: -len(MANIFEST_FILE)]
        text = zf.read(path).decode("utf-8")
        data, positions = parse_yaml_with_positions(text, f"{wheel.name}/{path}")
        manifest = manifest_from_data(data, positions, f"{wheel.name}/{path}")
        files: dict[str, bytes] = {}
        missing = []
        for ref in _schema_refs(manifest):
            member = str(PurePosixPath(prefix) / PurePosixPath(ref)) if prefix else str(PurePosixPath(ref))
            member = os.path.normpath(member).replace(os.sep, "/")
            if member in names:
                files[ref] = zf.read(member)
            else:
                missing.append(f"{ref} (expected at {member})")
        if missing:
            raise PackagingError(
                f"{wheel.name} lacks schema files named in {MANIFEST_FILE}: {', '.join(missing)}",
                hint="include the schemas folder next to connector.yaml in the wheel (hatch force-include)",
            )
        eps = _entry_points(zf)
    return WheelConnector(wheel, prefix, text, files, eps)


def check_wheel(wheel: str | Path, connector_name: str) -> WheelConnector:
    """Refuse a wheel that cdk could not find or load after ``pip install`` (exit 1, with the fix)."""
    found = read_wheel_connector(wheel)
    from packaging.utils import canonicalize_name

    names = {canonicalize_name(n) for n in found.entry_points}
    if canonicalize_name(connector_name) not in names:
        declared = f" (declared: {', '.join(sorted(found.entry_points))})" if found.entry_points else ""
        raise PackagingError(
            f"{Path(wheel).name} does not register the connector {connector_name!r} under the "
            f"'{ENTRY_POINT_GROUP}' entry point group{declared}",
            hint=f'add to pyproject.toml: [project.entry-points."{ENTRY_POINT_GROUP}"] '
            f'{connector_name} = "<package>.<module>:<ConnectorClass>"',
        )
    return found


def twine_check(artifacts: list[Path]) -> None:
    """``twine check`` the artifacts; PackagingError with its output when it fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", *map(str, artifacts)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if proc.returncode != 0:
        raise PackagingError(
            f"twine check failed:\n{(proc.stdout + proc.stderr).strip()[-2000:]}",
            hint="fix the package metadata (README, description) and publish again",
        )
