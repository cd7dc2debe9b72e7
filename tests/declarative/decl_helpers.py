"""Helpers of the declarative tests (a module with a unique name: conftest modules share the name 'conftest')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_connector(
    folder: Path,
    declarative: dict[str, Any],
    *,
    streams: list[dict[str, Any]] | None = None,
    allowed_hosts: list[str] | None = None,
    capabilities: list[str] | None = None,
) -> Path:
    """A connector folder whose connector.yaml holds ``declarative``."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "manifest_version": 1,
        "name": "decl-test",
        "version": "0.1.0",
        "kind": "source",
        "capabilities": capabilities or ["batch_extract"],
        "allowed_hosts": allowed_hosts if allowed_hosts is not None else ["127.0.0.1"],
        "declarative": declarative,
    }
    if streams is not None:
        manifest["streams"] = streams
    (folder / "connector.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return folder


class Run:
    """One read through the real runner, with a virtual clock (delays are recorded, never slept)."""

    def __init__(
        self,
        folder: Path,
        config: dict[str, Any],
        *,
        stream: str | None = None,
        incremental: bool = False,
        state: Any = None,
        max_iterations: int | None = None,
        allow_partial: bool = False,
        out: list[Any] | None = None,
    ) -> None:
        from cdk.connector import instantiate, load_connector_class
        from cdk.project import Project
        from cdk.sdk import runner
        from cdk.sdk.http import ConnectorSession, VirtualClock

        project = Project.load(folder)
        cls = load_connector_class(project)
        self.clock = VirtualClock(start=1_767_225_600.0)  # 2026-01-01T00:00:00Z
        session = ConnectorSession(allowed_hosts=project.manifest.allowed_hosts, clock=self.clock)
        stream = stream or cls.streams()[0]
        self.source = instantiate(project, cls, {"name": "t", **config}, stream=stream, session=session)
        self.records: list[Any] = out if out is not None else []  # `out` keeps the records of a failed run
        cursor = None
        try:
            cursor = project.manifest.stream(stream).cursor_field
        except KeyError:
            pass
        self.summary = runner.read(
            self.source,
            stream,
            lambda s, recs: self.records.extend(recs),
            state=state,
            incremental=incremental,
            cursor_field=cursor,
            max_iterations=max_iterations,
            allow_partial=allow_partial,
        )

    @property
    def data(self) -> list[dict[str, Any]]:
        return [r.data for r in self.records]
