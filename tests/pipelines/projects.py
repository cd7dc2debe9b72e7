"""Tiny connector projects for the pipeline tests: a source whose streams have primary keys (one nested,
one composite, one none) and a destination that keeps what it receives in a JSON file. Each is a folder
with connector.yaml and a pyproject.toml that builds a wheel registering its ``cdk.connectors`` entry
point, so a test can run it as a folder or install it into a fresh virtualenv."""

from __future__ import annotations

from pathlib import Path

MEMBERS_SOURCE = '''"""Members of organisations, generated: the record id changes every run, the primary key does not."""

import base64
import json
from urllib.parse import quote

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class MembersConfig(SourceConfig):
    count: int = 12
    run: int = 1
    page_size: int = 5
    api_key: str | None = None


class MembersSource(AbstractSource):
    config: MembersConfig

    @staticmethod
    def streams():
        return ["members", "memberships", "events"]

    @staticmethod
    def get_config_class():
        return MembersConfig

    def check_connection(self):
        return True, None

    def get_total_records_count(self):
        return self.config.count * (2 if self.config.stream == "memberships" else 1)

    def _rows(self):
        n, run = self.config.count, self.config.run
        if self.config.stream == "members":
            return [{"member": {"id": i}, "name": f"member {i} run {run}"} for i in range(1, n + 1)]
        if self.config.stream == "memberships":
            return [
                {"org": org, "id": i, "role": f"role {run}"} for org in ("acme", "globex") for i in range(1, n + 1)
            ]
        key = self.config.api_key or ""
        echoes = [key, base64.b64encode(key.encode()).decode(), quote(key, safe=""), json.dumps(key)]
        link = f"https://api.example.com/v1/events?page=2&api_key={quote(key, safe='')}"
        return [{"kind": "event", "n": i, "echo": echoes[i % 4], "link": link} for i in range(1, n + 1)]

    def get(self, pagination=None):
        offset = (pagination or {}).get("offset", 0)
        rows = self._rows()
        window = rows[offset : offset + self.config.page_size]
        records = [
            SourceRecord(id=f"r{self.config.run}-{offset + k}", data=row) for k, row in enumerate(window)
        ]
        more = offset + self.config.page_size < len(rows)
        return SourceIteration(records=records, next_pagination={"offset": offset + len(window)} if more else {})
'''

MEMBERS_MANIFEST = """manifest_version: 1
name: {name}
version: {version}
description: Members of organisations
kind: source
capabilities: [batch_extract]
entrypoint: {package}.source:MembersSource
streams:
  - name: members
    primary_key: [member.id]
  - name: memberships
    primary_key: [org, id]
  - name: events
"""

FILE_DESTINATION = '''"""Appends every batch it receives to a JSON-lines file, one line per batch: what the tests inspect."""

import json
from pathlib import Path

from pydantic import Field

from cdk import AbstractDestination, DestinationConfig, WriteResult


class FileConfig(DestinationConfig):
    path: str = Field(..., description="File of the batches")


class FileDestination(AbstractDestination):
    config: FileConfig
    max_batch_records = 7
    max_batch_bytes = None

    @staticmethod
    def get_config_class():
        return FileConfig

    def check_connection(self):
        return True, None

    def write(self, stream, records):
        with open(self.config.path, "a") as out:
            out.write(json.dumps({"stream": stream, "ids": [r.id for r in records],
                                  "bytes": sum(len(json.dumps(r.data)) for r in records)}) + "\\n")
        return WriteResult(written=len(records))
'''

FILE_MANIFEST = """manifest_version: 1
name: {name}
version: {version}
description: Batches into a file
kind: destination
capabilities: [load]
entrypoint: {package}.destination:FileDestination
{load}"""

PYPROJECT = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "{version}"
requires-python = ">=3.10"
dependencies = []

[project.entry-points."cdk.connectors"]
{name} = "{package}.{module}:{cls}"

[tool.hatch.build.targets.wheel]
packages = ["{package}"]

[tool.hatch.build.targets.wheel.force-include]
"connector.yaml" = "{package}/connector.yaml"
"""


def _project(root: Path, name: str, version: str, module: str, cls: str, code: str, manifest: str) -> Path:
    package = name.replace("-", "_")
    folder = root / name
    (folder / package).mkdir(parents=True)
    (folder / package / "__init__.py").write_text("")
    (folder / package / f"{module}.py").write_text(code)
    (folder / "connector.yaml").write_text(manifest.format(name=name, version=version, package=package))
    (folder / "pyproject.toml").write_text(
        PYPROJECT.format(name=name, version=version, package=package, module=module, cls=cls)
    )
    return folder


def members_source(root: Path, name: str = "members-source", version: str = "0.1.0") -> Path:
    return _project(root, name, version, "source", "MembersSource", MEMBERS_SOURCE, MEMBERS_MANIFEST)


def file_destination(
    root: Path, name: str = "file-destination", version: str = "0.1.0", load: str = ""
) -> Path:
    manifest = FILE_MANIFEST.replace("{load}", load)
    return _project(root, name, version, "destination", "FileDestination", FILE_DESTINATION, manifest)
