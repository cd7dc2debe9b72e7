"""``cdk publish``: the steps of issue 6, in order, each timed (``PublishResult.steps``).

1. read the registry index and resolve the version (VERSION or patch|minor|major); refuse a version
   already published (never overwritten) or not greater than the latest — before anything else;
2. diff against the latest published wheel's connector.yaml and schemas; refuse a breaking change
   without the bump it needs;
3. the gate: validate, test in replay (see :mod:`cdk.publish.gate`);
4. write the version into connector.yaml and pyproject.toml (restored if a later step fails);
5. build (reproducible), check the wheel, ``twine check``, scan for secrets;
6. upload, tag ``vVERSION`` (with a release commit of the two files) when asked; print the pin.

``dry_run`` does everything but upload, tag and write: the version is written into a copy of the
connector that is built instead. A publish interrupted mid-upload leaves files the index lists by
sha256; publishing the same version again resumes the missing files (reproducible builds give the same
bytes) or refuses with "already published, different".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk.errors import AlreadyPublished, CdkError, OutsideError, PackagingError, VersionRefused
from cdk.publish.versions import Version

Progress = Callable[[str], None]


@dataclass
class PublishOptions:
    spec: str
    repository: str | None = None
    username: str | None = None
    password: str | None = None
    index_url: str | None = None
    dry_run: bool = False
    tag: bool = False
    skip_tests: bool = False
    skip_validate: bool = False
    isolation: str = "auto"


@dataclass
class PublishResult:
    name: str
    version: str
    pep440: str
    registry: str
    dry_run: bool
    requirement: str
    artifacts: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    diff: dict[str, Any] | None = None
    gate: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tag: str | None = None
    steps: list[tuple[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["steps"] = [{"step": s, "seconds": round(t, 4)} for s, t in self.steps]
        return out


class _Timer:
    def __init__(self, result_steps: list[tuple[str, float]], progress: Progress) -> None:
        self.steps = result_steps
        self.progress = progress

    @contextmanager
    def step(self, name: str, message: str) -> Iterator[None]:
        self.progress(message)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps.append((name, time.perf_counter() - started))


_COPY_IGNORE = shutil.ignore_patterns(
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


def publish(
    root: str | Path,
    options: PublishOptions,
    *,
    progress: Progress = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    from cdk.project import Project
    from cdk.publish import versions as v
    from cdk.publish.registry import open_registry, versions_of

    steps: list[tuple[str, float]] = []
    timer = _Timer(steps, progress)
    with timer.step("load", "loading the connector"):
        project = Project.load(root)
        pyproject = project.pyproject or {}
        dist_name = (pyproject.get("project") or {}).get("name")
        if not dist_name:
            raise CdkError(
                f"{project.root / 'pyproject.toml'}: no [project].name, so there is nothing to publish"
            )
        registry = open_registry(
            options.repository,
            username=options.username,
            password=options.password,
            index_url=options.index_url,
        )
        if hasattr(registry, "sleep"):
            registry.sleep = sleep  # type: ignore[union-attr]

    # 1. the registry index and the version ------------------------------------------------------
    with timer.step("index", f"reading the index of {registry.display}"):
        files = registry.files(dist_name)
        published = versions_of(files)
        latest = v.latest(published)
    with timer.step("version", "checking the version"):
        version = v.resolve(options.spec, published_latest=latest, current=project.manifest.version)
        same = [f for f in files if f.version == version.pep440]
        resume = False
        if same:
            kinds = {"wheel" if f.filename.endswith(".whl") else "sdist" for f in same}
            if kinds >= {"wheel", "sdist"}:
                raise VersionRefused(
                    f"{dist_name} {version} is already published in {registry.display} "
                    f"({', '.join(sorted(f.filename for f in same))}); a published version is never overwritten",
                    hint=f"publish a greater version, e.g. cdk publish {version.bump('patch')}",
                )
            resume = True  # an interrupted publish left part of this version: finish it if the bytes match
        elif latest is not None and not v.is_greater(version, latest):
            raise VersionRefused(
                f"{dist_name} {version} is not greater than the latest published version {latest} "
                f"in {registry.display}",
                hint=f"publish a greater version, e.g. cdk publish patch ({_bumped(latest, 'patch')})",
            )
    if options.tag and not options.dry_run:
        _check_tag_free(project.root, f"v{version}")

    result = PublishResult(
        dist_name,
        str(version),
        version.pep440,
        registry.display,
        options.dry_run,
        f"{dist_name}=={version.pep440}",
        steps=steps,
    )

    # 2. the breaking-change diff ----------------------------------------------------------------
    if latest is not None and not resume:
        with timer.step("diff", f"comparing with {dist_name} {latest}"):
            result.diff = diff_against(registry, files, latest, project, str(version), result.notes)
            if result.diff is not None and result.diff["breaking_refused"]:
                breaking = [c for c in result.diff["changes"] if c["severity"] == "breaking"]
                listing = "\n".join(f"  ! {c['where']}: {c['message']}" for c in breaking)
                need = result.diff["required_bump"]
                raise VersionRefused(
                    f"{version} does not allow these breaking changes since {latest}; they need a {need} bump:\n{listing}",
                    hint=f"publish {_bumped(latest, need)} (cdk publish {need}), or undo the changes",
                )

    # 3. the gate ---------------------------------------------------------------------------------
    from cdk.publish import gate

    with timer.step("gate", "running the gate (validate, test in replay)"):
        for name, skipped, run in (
            ("validate", options.skip_validate, gate.run_validate),
            ("test", options.skip_tests, gate.run_tests),
        ):
            if skipped:
                result.gate.append({"step": name, "status": "skipped"})
                result.notes.append(f"gate: {name} skipped on request")
                continue
            step = run(project.root)
            result.gate.append({"step": step.name, "status": step.status, "details": step.details})

    # 4.-6. write, build, check, scan, upload, tag — undone on failure ----------------------------
    from cdk.publish.edit import VersionWrite

    workdir = tempfile.mkdtemp(prefix="cdk-publish-")
    build_root = project.root
    writer = VersionWrite(project.root)
    try:
        with timer.step("write", "writing the version into connector.yaml and pyproject.toml"):
            if options.dry_run:
                build_root = Path(workdir) / project.root.name
                shutil.copytree(project.root, build_root, ignore=_COPY_IGNORE, symlinks=True)
                VersionWrite(build_root).apply(version)
            else:
                writer.apply(version)
        artifacts = _build_and_check(
            project, build_root, Path(workdir) / "dist", version, options, registry, timer, result
        )
        if resume:
            artifacts = _resume(registry, same, artifacts, result)
        if not options.dry_run:
            with timer.step("upload", f"uploading to {registry.display}"):
                report = registry.upload(artifacts, progress=progress)
                result.uploaded = report.uploaded
                result.resumed += report.already_identical
            changed = list(writer.originals)
            writer.originals.clear()  # published: from here on the new version stays written
            if options.tag:
                with timer.step("tag", f"tagging v{version}"):
                    result.tag = _tag(project.root, version, changed)
            dist = project.root / "dist"
            dist.mkdir(exist_ok=True)
            for art in Path(workdir, "dist").iterdir():
                shutil.copy2(art, dist / art.name)
    except BaseException:
        writer.restore()
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _bumped(latest: str, part: str) -> str:
    from cdk.publish.versions import from_pep440

    base = from_pep440(latest)
    return str(base.bump(part)) if base else part  # type: ignore[arg-type]


def diff_against(
    registry: Any, files: list[Any], latest: str, project: Any, new_version: str, notes: list[str]
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


def _build_and_check(
    project: Any,
    build_root: Path,
    out: Path,
    version: Version,
    options: PublishOptions,
    registry: Any,
    timer: _Timer,
    result: PublishResult,
) -> list[Path]:
    from cdk.publish.build import build_project, check_wheel, source_date_epoch

    with timer.step("build", "building sdist and wheel"):
        built = build_project(
            build_root,
            out,
            isolation=options.isolation,  # type: ignore[arg-type]
            epoch=source_date_epoch(project.root),
        )
        result.notes += built.notes
        artifacts = built.artifacts
        result.artifacts = [p.name for p in artifacts]
        from packaging.utils import parse_wheel_filename

        wheel = built.wheel
        if wheel is None or str(parse_wheel_filename(wheel.name)[1]) != version.pep440:
            raise PackagingError(
                f"the build did not produce a wheel of version {version.pep440} ({result.artifacts})"
            )
        check_wheel(wheel, project.manifest.name)
    with timer.step("twine-check", "checking the artifacts (twine check)"):
        twine_check(artifacts)
    with timer.step("scan", "scanning the artifacts for secrets"):
        extra = {
            "the registry password": getattr(getattr(registry, "credentials", None), "password", None) or ""
        }
        refuse_secrets(artifacts, project.root, extra)
    return artifacts


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


def refuse_secrets(artifacts: list[Path], root: Path, extra: dict[str, str] | None = None) -> None:
    """Scan the artifacts for secrets; PackagingError naming file and kind (never the value) if any."""
    from cdk.publish.scan import scan_artifacts

    findings = scan_artifacts(artifacts, root=root, extra_secrets=extra or {})
    if findings:
        listing = "\n".join(f"  {f}" for f in findings[:20])
        raise PackagingError(
            f"the artifacts contain secrets; nothing was uploaded:\n{listing}",
            hint="remove them from the package (and rotate them if they were ever shared)",
        )


def _resume(registry: Any, same: list[Any], artifacts: list[Path], result: PublishResult) -> list[Path]:
    from cdk.publish.registry import sha256_file

    by_name = {a.name: a for a in artifacts}
    for f in same:
        local = by_name.get(f.filename)
        if local is None or (f.sha256 and f.sha256 != sha256_file(local)):
            raise AlreadyPublished(f.filename, identical=False, registry=registry.display)
        result.resumed.append(f.filename)
    result.notes.append(
        f"resuming an interrupted publish: {', '.join(result.resumed)} already there, identical"
    )
    return [a for a in artifacts if a.name not in {f.filename for f in same}]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60, check=False
    )


def _check_tag_free(root: Path, tag: str) -> None:
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise CdkError(f"--tag needs a git repository, and {root} is not in one")
    if _git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}").returncode == 0:
        raise VersionRefused(f"the git tag {tag} already exists", hint="publish a greater version")


def _tag(root: Path, version: Version, changed: list[Path]) -> str:
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
