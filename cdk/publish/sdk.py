"""The SDK a published connector depends on: making ``connector-cdk`` installable from the registry.

A generated connector requires ``connector-cdk>=X,<Y``, which no public index serves. So that a pin
installs on a clean machine from the registry alone (plus the machine's usual index for click, pydantic
and the rest), ``cdk publish`` uploads the wheel of the connector-cdk that is running it when the registry
holds no version satisfying the connector's requirement. The wheel comes from the source checkout when
cdk is installed from one (editable), else it is re-assembled from the installed files (the RECORD of
the installed distribution), which is what pip installed from the original wheel.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from cdk.errors import AlreadyPublished, OutsideError

SDK_DIST = "connector-cdk"


@dataclass
class SdkResult:
    """What :func:`ensure_sdk` found or did: ``uploaded`` names the wheel uploaded now."""

    requirement: str
    present: str | None = None  # a version in the registry that satisfies the requirement
    uploaded: str | None = None
    note: str | None = None


def sdk_requirement(pyproject: dict[str, Any]) -> Any:
    """The connector's requirement on connector-cdk (a packaging Requirement), or None."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    for text in (pyproject.get("project") or {}).get("dependencies") or []:
        try:
            req = Requirement(str(text))
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) == SDK_DIST and (req.marker is None or req.marker.evaluate()):
            return req
    return None


def running_version() -> str:
    from cdk._version import __version__

    return __version__


def ensure_sdk(
    registry: Any,
    requirement: Any,
    workdir: Path,
    *,
    upload: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> SdkResult:
    """Make sure ``registry`` serves a connector-cdk satisfying ``requirement``: if none of the versions
    it lists does, upload the running cdk's wheel (when it satisfies the requirement)."""
    from packaging.version import InvalidVersion, Version

    result = SdkResult(str(requirement))
    listed = registry.files(SDK_DIST)
    satisfying = []
    for f in listed:
        try:
            if requirement.specifier.contains(Version(f.version), prereleases=True):
                satisfying.append(f.version)
        except InvalidVersion:
            continue
    if satisfying:
        result.present = max(satisfying, key=Version)
        return result
    mine = running_version()
    if not requirement.specifier.contains(Version(mine), prereleases=True):
        result.note = (
            f"the connector requires {requirement}, which {registry.display} does not hold, and this cdk is "
            f"connector-cdk {mine}: installs from the registry alone will fail until a connector-cdk "
            f"satisfying {requirement.specifier} is uploaded there"
        )
        return result
    if not upload:
        result.note = (
            f"would upload connector-cdk {mine} (the connector requires {requirement}) to {registry.display}"
        )
        return result
    progress(f"building the connector-cdk {mine} wheel the connector depends on")
    wheel = sdk_wheel(workdir)
    try:
        registry.upload([wheel], progress=progress)
    except AlreadyPublished as exc:  # a concurrent publish uploaded it since the index was read
        result.present = mine
        result.note = f"connector-cdk {mine} arrived in {registry.display} from another publish meanwhile" + (
            "" if exc.identical else " (a different build of the same version)"
        )
        return result
    result.uploaded = wheel.name
    result.note = (
        f"uploaded {wheel.name} to {registry.display}: the connector requires {requirement}, which the "
        "registry did not hold"
    )
    return result


def sdk_wheel(out: Path) -> Path:
    """A wheel of the running connector-cdk in ``out``: built from its source checkout when installed
    editable (or run from a checkout), else re-assembled from the installed distribution's files."""
    out.mkdir(parents=True, exist_ok=True)
    source = source_checkout()
    if source is not None:
        from cdk.publish.build import build_project

        built = build_project(source, out, distributions=("wheel",), isolation="auto")
        if built.wheel is None:
            raise OutsideError(f"building the connector-cdk wheel from {source} produced no wheel")
        return built.wheel
    return wheel_from_installed(out)


def source_checkout() -> Path | None:
    """The source tree of the running cdk when it is one (pyproject.toml naming connector-cdk)."""
    import cdk

    root = Path(cdk.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    from cdk._compat import tomllib

    try:
        name = (tomllib.loads(text).get("project") or {}).get("name")
    except tomllib.TOMLDecodeError:
        return None
    return root if name == SDK_DIST else None


_SKIP = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def wheel_from_installed(out: Path) -> Path:
    """Re-assemble the wheel of the installed connector-cdk from the files its RECORD lists (minus
    bytecode, scripts outside site-packages and installer metadata), with a fresh RECORD."""
    try:
        dist = metadata.distribution(SDK_DIST)
    except metadata.PackageNotFoundError:
        raise OutsideError(
            "connector-cdk is not installed as a distribution, so its wheel cannot be assembled",
            hint="install cdk with pip (pip install connector-cdk or pip install -e CHECKOUT)",
        ) from None
    version = dist.version
    name = f"connector_cdk-{version}-py3-none-any.whl"
    site = Path(str(dist.locate_file("")))
    records: list[tuple[str, str, str]] = []
    target = out / name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        info_dir = None
        for entry in sorted(dist.files or [], key=str):
            rel = str(entry)
            parts = Path(rel).parts
            if rel.startswith("..") or "__pycache__" in parts or rel.endswith(".pyc"):
                continue
            if parts[0].endswith(".dist-info"):
                info_dir = parts[0]
                if parts[-1] in _SKIP:
                    continue
            data = (site / rel).read_bytes()
            zf.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append((rel, f"sha256={digest}", str(len(data))))
        if info_dir is None:
            raise OutsideError("the installed connector-cdk has no .dist-info in its RECORD")
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerows(records)
        writer.writerow((f"{info_dir}/RECORD", "", ""))
        zf.writestr(f"{info_dir}/RECORD", buf.getvalue())
    return target
