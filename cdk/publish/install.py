"""Installing pinned connectors from a registry, and finding the installed ones (entry points)."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

from cdk.errors import CdkError, OutsideError
from cdk.publish.build import ENTRY_POINT_GROUP

if TYPE_CHECKING:
    from cdk.publish.registry import Registry


def install_connector(
    registry: Registry,
    requirement: str,
    *,
    python: str | None = None,
    extra_index_urls: list[str] | None = None,
) -> str:
    """Install ``NAME==VERSION`` from ``registry``, where NAME may be the connector's name (acme finds
    acme-connector): what ``cdk install`` does. Returns the requirement installed."""
    from cdk.errors import UsageError
    from cdk.publish.registry import find_project

    if "==" not in requirement:
        raise UsageError(
            f"{requirement!r} is not pinned: write NAME==VERSION (e.g. acme-connector==1.4.2)",
            hint="pipelines pin connector versions so that upgrades are explicit; cdk versions NAME lists them",
        )
    name, _, pin = requirement.partition("==")
    dist, files = find_project(registry, name.strip())
    if not files:
        raise CdkError(
            f"{name.strip()} is not published in {registry.display}",
            hint="cdk versions NAME lists what is; check --repository / CDK_REGISTRY_URL",
        )
    return install_pinned(
        registry, f"{dist}=={pin.strip()}", python=python, extra_index_urls=extra_index_urls
    )


def install_pinned(
    registry: Registry,
    requirement: str,
    *,
    python: str | None = None,
    extra_index_urls: list[str] | None = None,
    timeout: float = 900,
) -> str:
    """``pip install --index-url REGISTRY NAME==VERSION`` (into ``python``'s environment when given)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(requirement)
    except InvalidRequirement as exc:
        raise CdkError(f"{requirement!r} is not a requirement: {exc}") from None
    pins = [s for s in req.specifier if s.operator in ("==", "===")]
    if len(pins) != 1 or len(req.specifier) != 1:
        raise CdkError(f"{requirement!r} is not pinned to one version: write NAME==VERSION")
    # the registry is an extra index: pip's own index (PyPI or the organisation's mirror) still serves the
    # connector's public dependencies (click, pydantic, ...); connector-cdk is in the registry (cdk publish
    # uploads it when the registry lacks it)
    cmd = [sys.executable, "-m", "pip"]
    if python:
        cmd += ["--python", python]
    cmd += [
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--extra-index-url",
        registry.pip_index_url(),
    ]
    for url in extra_index_urls or []:
        cmd += ["--extra-index-url", url]
    cmd.append(str(req))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        scrub = getattr(registry, "scrub", lambda t: t)
        output = scrub(proc.stdout + proc.stderr)
        tail = "\n".join(output.strip().splitlines()[-12:])
        missing = unresolved(output)
        if missing is not None:
            from packaging.utils import canonicalize_name

            if _name_of(missing) == canonicalize_name(req.name):
                raise CdkError(
                    f"{req} is not in {registry.display}:\n{tail}",
                    hint=f"cdk versions {req.name} lists the published versions",
                )
            raise CdkError(
                f"{req} is in {registry.display}, but its dependency {missing} is in none of the indexes pip "
                f"used (the registry, and pip's own index and extra indexes):\n{tail}",
                hint=(
                    "publish the connector again with cdk (cdk publish uploads the connector-cdk it needs to "
                    "the registry)"
                    if _name_of(missing) == "connector-cdk"
                    else "pass --extra-index-url with an index that has it, or configure pip's index"
                ),
            )
        raise OutsideError(
            f"pip could not install {req} from {registry.display}:\n{tail}",
            hint="check the registry is reachable and the credentials are right",
        )
    return str(req)


def unresolved(pip_output: str) -> str | None:
    """The requirement pip could not find ("No matching distribution found for X"), or None."""
    import re

    found = re.findall(r"No matching distribution found for (\S[^\n]*)", pip_output)
    return found[-1].strip() if found else None


def _name_of(requirement: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return str(canonicalize_name(Requirement(requirement).name))
    except InvalidRequirement:
        return str(canonicalize_name(requirement.split()[0]))


def installed_connectors() -> list[dict[str, Any]]:
    """Every ``cdk.connectors`` entry point here: name, object, distribution and its version."""
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        out.append(
            {
                "name": ep.name,
                "object": ep.value,
                "distribution": dist.metadata["Name"] if dist is not None else None,
                "version": dist.version if dist is not None else None,
            }
        )
    return sorted(out, key=lambda c: c["name"])
