"""The pieces of publishing that the publish workflow (:mod:`cdk.workflows.publish`) puts in order:
the breaking-change diff against the latest published wheel, resuming an interrupted upload, and the
release commit and tag. Each is one step; the order and the undo on failure live in the workflow.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.errors import AlreadyPublished, CdkError, OutsideError, PackagingError, VersionRefused
from cdk.publish.versions import Bump, Version

if TYPE_CHECKING:
    from cdk.project import Project
    from cdk.publish.registry import Registry, RegistryFile

COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    "dist",
    "build",
    ".venv",
    "venv",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".tox",
    "secrets",
)


def bumped(latest: str, part: Bump) -> str:
    from cdk.publish.versions import from_pep440

    base = from_pep440(latest)
    return str(base.bump(part)) if base else part


def diff_against(
    registry: Registry,
    files: list[RegistryFile],
    latest: str,
    project: Project,
    new_version: str,
    notes: list[str],
) -> dict[str, Any] | None:
    from cdk.manifest import manifest_from_data, parse_yaml_with_positions
    from cdk.publish.build import read_wheel_connector
    from cdk.publish.diff import diff, snapshot
    from cdk.publish.versions import parse_version

    wheel_file = next((f for f in files if f.version == latest and f.filename.endswith(".whl")), None)
    if wheel_file is None:
        notes.append(f"no wheel of {latest} in the registry: the breaking-change diff was skipped")
        return None
    with tempfile.TemporaryDirectory(prefix="cdk-diff-") as tmp:
        path = Path(tmp) / wheel_file.filename
        path.write_bytes(registry.fetch(wheel_file))
        try:
            old = read_wheel_connector(path)
        except PackagingError as exc:
            notes.append(
                f"{wheel_file.filename} has no readable connector.yaml ({exc.message}): diff skipped"
            )
            return None
        data, pos = parse_yaml_with_positions(old.manifest_text, wheel_file.filename)
        old_snap = snapshot(manifest_from_data(data, pos, wheel_file.filename), old.load_json, latest)
    report = diff(old_snap, snapshot(project.manifest, project.load_json, new_version))
    out = report.as_dict()
    out["breaking_refused"] = not report.allows(parse_version(new_version))
    return out


def resume_upload(
    registry: Registry, same: list[RegistryFile], artifacts: list[Path], resumed: list[str], notes: list[str]
) -> list[Path]:
    """The artifacts still to upload when ``same`` (files of this version) are already in the registry;
    AlreadyPublished when one of them differs from what was just built."""
    from cdk.publish.registry import sha256_file

    by_name = {a.name: a for a in artifacts}
    for f in same:
        local = by_name.get(f.filename)
        if local is None or (f.sha256 and f.sha256 != sha256_file(local)):
            raise AlreadyPublished(f.filename, identical=False, registry=registry.display)
        resumed.append(f.filename)
    notes.append(f"resuming an interrupted publish: {', '.join(resumed)} already there, identical")
    return [a for a in artifacts if a.name not in {f.filename for f in same}]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60, check=False
    )


def check_tag_free(root: Path, tag: str) -> None:
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise CdkError(f"--tag needs a git repository, and {root} is not in one")
    if _git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}").returncode == 0:
        raise VersionRefused(f"the git tag {tag} already exists", hint="publish a greater version")


def tag_release(root: Path, version: Version, changed: list[Path]) -> str:
    """Commit the version bump (only those two files) and tag it, as `npm version` does."""
    tag = f"v{version}"
    if changed:
        paths = [str(p) for p in changed]
        add = _git(root, "add", "--", *paths)
        commit = _git(root, "commit", "-m", f"Release {version}", "--", *paths)
        if add.returncode or commit.returncode:
            raise OutsideError(
                f"published, but committing the version bump failed: {(commit.stderr or add.stderr).strip()}",
                hint=f"commit connector.yaml and pyproject.toml, then git tag {tag}",
            )
    made = _git(root, "tag", "-a", tag, "-m", f"{root.name} {version}")
    if made.returncode:
        raise OutsideError(
            f"published, but creating the git tag {tag} failed: {made.stderr.strip()}",
            hint=f"create it by hand: git tag -a {tag}",
        )
    return tag
