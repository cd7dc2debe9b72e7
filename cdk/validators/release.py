"""Release suite: the connector's version against what its registry already holds (rules V0xx).

Not part of ``cdk validate`` (it needs a registry); ``cdk ci`` runs it when a registry is configured,
and ``cdk publish`` enforces the same rules before it uploads anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from cdk.findings import Finding
from cdk.validators.findings import Rule, make

if TYPE_CHECKING:
    from cdk.project import Project
    from cdk.validators.policy import Policy

RULES = [
    Rule(
        "V001",
        "release",
        "version not greater than the published one",
        "connector.yaml's version is not greater than the latest version in the registry",
        "bump the version (cdk publish patch|minor|major does it for you); a published version is never overwritten",
        bad="version: 1.4.2   # the registry has 1.4.2",
        good="version: 1.4.3   # the registry has 1.4.2",
    ),
    Rule(
        "V002",
        "release",
        "breaking change without a major bump",
        "the connector changed incompatibly since the latest published version and the version bump is too small",
        "publish a major version (a minor one while 0.x), or undo the change",
        bad="version: 1.5.0   # stream 'orders' removed since 1.4.2",
        good="version: 2.0.0   # stream 'orders' removed since 1.4.2",
    ),
    Rule(
        "V003",
        "release",
        "registry unreachable",
        "the registry could not be read, so the version rules were not checked",
        "check CDK_REGISTRY_URL and the credentials, or run without a registry",
        bad="CDK_REGISTRY_URL=https://registry.invalid/",
        good="CDK_REGISTRY_URL=https://pypi.internal.example/",
    ),
]
R = {r.code: r for r in RULES}


def check(project: Project, policy: Policy) -> list[Finding]:
    """``cdk validate`` does not run this suite: it needs a registry (see :func:`check_release`)."""
    return []


class ReleaseHistory(Protocol):
    """What the release rules need to know of a registry; the caller adapts its registry client.

    Both methods raise :class:`cdk.errors.CdkError` when the registry cannot be read.
    """

    @property
    def display(self) -> str:
        """How the registry is named in messages (never with credentials)."""
        ...

    def published_versions(self, dist: str) -> list[str]:
        """The versions of ``dist`` already in the registry (PEP 440 strings)."""
        ...

    def breaking_changes(
        self, dist: str, latest: str, project: Project, new_version: str
    ) -> dict[str, Any] | None:
        """The breaking-change diff of ``project`` (as ``new_version``) against the published ``latest``
        (:meth:`cdk.publish.diff.DiffReport.as_dict` plus ``breaking_refused``), or None if unknown."""
        ...


def check_release(project: Project, history: ReleaseHistory) -> list[Finding]:
    """V001/V002 findings for ``project`` against what ``history`` says its registry holds (V003 when
    the registry cannot be read)."""
    from cdk.errors import CdkError
    from cdk.publish import versions as v

    line, col = project.positions.locate(("version",))
    dist = ((project.pyproject or {}).get("project") or {}).get("name") or project.manifest.name
    try:
        published = history.published_versions(dist)
    except CdkError as exc:
        return [make(R["V003"], "connector.yaml", line, col, f"{history.display}: {exc.message}")]
    latest = v.latest(published)
    if latest is None:
        return []
    current = v.parse_version(project.manifest.version)
    if not v.is_greater(current, latest):
        return [
            make(
                R["V001"],
                "connector.yaml",
                line,
                col,
                f"version {current} is not greater than {latest}, the latest {dist} in {history.display}",
            )
        ]
    report = history.breaking_changes(dist, latest, project, str(current))
    if report and report["breaking_refused"]:
        changes = "; ".join(
            f"{c['where']}: {c['message']}" for c in report["changes"] if c["severity"] == "breaking"
        )
        return [
            make(
                R["V002"],
                "connector.yaml",
                line,
                col,
                f"{current} needs a {report['required_bump']} bump over {latest}: {changes}",
            )
        ]
    return []
