"""``build``: the connector's sdist and wheel (PyPA build), reproducible, with the wheel checked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdk.publish.build import BuildResult, Distribution, Isolation


def build(
    connector: str | Path,
    out: str | Path | None = None,
    *,
    distributions: Sequence[Distribution] = ("sdist", "wheel"),
    isolation: Isolation = "auto",
) -> BuildResult:
    """Build ``distributions`` of the connector in ``connector`` into ``out`` (default CONNECTOR/dist);
    a wheel must carry connector.yaml, its schemas and the ``cdk.connectors`` entry point."""
    from cdk.project import Project
    from cdk.publish.build import build_project, check_wheel

    project = Project.load(connector)
    result = build_project(project.root, out, distributions=distributions, isolation=isolation)
    if result.wheel:
        check_wheel(result.wheel, project.manifest.name)
    return result
