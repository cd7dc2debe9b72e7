"""``publish``: the steps of ``cdk publish``, in order, each timed (``PublishResult.steps``).

1. read the registry index and resolve the version (VERSION or patch|minor|major); refuse a version
   already published (never overwritten) or not greater than the latest — before anything else;
2. diff against the latest published wheel's connector.yaml and schemas; refuse a breaking change
   without the bump it needs;
3. the gate: validate, test in replay (:func:`cdk.workflows.gate.publish_gate`);
4. write the version into connector.yaml and pyproject.toml (restored if a later step fails);
5. build (reproducible), check the wheel, ``twine check``, scan for secrets
   (:func:`cdk.workflows.gate.build_and_check`, the same check ``cdk ci`` runs);
6. upload, tag ``vVERSION`` (with a release commit of the two files) when asked.

``dry_run`` does everything but upload, tag and write: the version is written into a copy of the
connector that is built instead. A publish interrupted mid-upload leaves files the index lists by
sha256; publishing the same version again resumes the missing files (reproducible builds give the same
bytes) or refuses with "already published, different".
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.errors import CdkError, VersionRefused

if TYPE_CHECKING:
    from cdk.publish.build import Isolation

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
    isolation: Isolation = "auto"


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
    sdk_uploaded: str | None = None  # the connector-cdk wheel uploaded because the registry lacked it
    install_index: str = ""  # the registry's simple index for pip (never with credentials)
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


def publish(
    root: str | Path,
    options: PublishOptions,
    *,
    progress: Progress = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    from cdk.project import Project
    from cdk.publish import versions as v
    from cdk.publish.publish import (
        COPY_IGNORE,
        bumped,
        check_tag_free,
        diff_against,
        resume_upload,
        tag_release,
    )
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
            registry.sleep = sleep

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
                    hint=_greater_hint(latest),
                )
            resume = True  # an interrupted publish left part of this version: finish it if the bytes match
        elif latest is not None and not v.is_greater(version, latest):
            raise VersionRefused(
                f"{dist_name} {version} is not greater than the latest published version {latest} "
                f"in {registry.display}",
                hint=_greater_hint(latest),
            )
    if options.tag and not options.dry_run:
        check_tag_free(project.root, f"v{version}")

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
                    hint=f"publish {bumped(latest, need)} (cdk publish {need}), or undo the changes",
                )

    # 3. the gate ---------------------------------------------------------------------------------
    from cdk.workflows.gate import build_and_check, publish_gate

    with timer.step("gate", "running the gate (validate, test in replay)"):
        result.gate = publish_gate(
            project.root, skip_validate=options.skip_validate, skip_tests=options.skip_tests
        )
        result.notes += [
            f"gate: {s['step']} skipped on request" for s in result.gate if s["status"] == "skipped"
        ]

    # 4.-6. write, build, check, scan, upload, tag — undone on failure ----------------------------
    from cdk.publish.edit import VersionWrite
    from cdk.publish.sdk import ensure_sdk, sdk_requirement

    workdir = tempfile.mkdtemp(prefix="cdk-publish-")
    build_root = project.root
    writer = VersionWrite(project.root)
    try:
        with timer.step("write", "writing the version into connector.yaml and pyproject.toml"):
            if options.dry_run:
                build_root = Path(workdir) / project.root.name
                shutil.copytree(project.root, build_root, ignore=COPY_IGNORE, symlinks=True)
                VersionWrite(build_root).apply(version)
            else:
                writer.apply(version)
        password = getattr(getattr(registry, "credentials", None), "password", None) or ""
        built = build_and_check(
            project,
            Path(workdir) / "dist",
            build_root=build_root,
            isolation=options.isolation,
            version=version,
            extra_secrets={"the registry password": password},
            step=timer.step,
        )
        result.notes += built.notes
        artifacts = built.artifacts
        result.artifacts = [p.name for p in artifacts]
        if resume:
            artifacts = resume_upload(registry, same, artifacts, result.resumed, result.notes)
        sdk_req = sdk_requirement(pyproject)
        if sdk_req is not None:
            with timer.step("sdk", f"checking that {registry.display} serves {sdk_req}"):
                sdk = ensure_sdk(
                    registry, sdk_req, Path(workdir) / "sdk", upload=not options.dry_run, progress=progress
                )
                result.sdk_uploaded = sdk.uploaded
                if sdk.note:
                    result.notes.append(sdk.note)
        if not options.dry_run:
            with timer.step("upload", f"uploading to {registry.display}"):
                report = registry.upload(
                    artifacts, progress=progress, guard=_still_new(dist_name, version, registry.display)
                )
                result.uploaded = report.uploaded
                result.resumed += report.already_identical
            result.install_index = _public_index(registry)
            changed = list(writer.originals)
            writer.originals.clear()  # published: from here on the new version stays written
            if options.tag:
                with timer.step("tag", f"tagging v{version}"):
                    result.tag = tag_release(project.root, version, changed)
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


def _greater_hint(latest: str | None) -> str:
    """A hint naming a version that is really free: the next patch after the latest published."""
    from cdk.publish.publish import bumped

    if latest is None:
        return "publish a greater version"
    return f"publish a version greater than {latest}, e.g. cdk publish patch ({bumped(latest, 'patch')})"


def _still_new(dist_name: str, version: Any, display: str) -> Callable[[list[Any]], None]:
    """The version check again, on the index read under the registry lock right before the upload: a
    concurrent publish of a greater version since step 1 refuses this one (exit 1)."""

    def guard(listed: list[Any]) -> None:
        from cdk.publish import versions as v
        from cdk.publish.registry import versions_of

        others = [f for f in listed if f.version != version.pep440]
        latest = v.latest(versions_of(others))
        if latest is not None and not v.is_greater(version, latest):
            raise VersionRefused(
                f"{dist_name} {version} is not greater than {latest}, which another publish put into "
                f"{display} while this one ran; nothing was uploaded",
                hint=_greater_hint(latest),
            )

    return guard


def _public_index(registry: Any) -> str:
    """The registry's simple index as pip takes it, with the user name but never the password."""
    from urllib.parse import quote, urlsplit, urlunsplit

    index = str(registry.index_url)
    user = getattr(getattr(registry, "credentials", None), "username", None)
    if not user or not index.startswith(("http://", "https://")):
        return index
    parts = urlsplit(index)
    return urlunsplit((parts.scheme, f"{quote(user, safe='')}@{parts.netloc}", parts.path, "", ""))
