"""The realistic connector the validate tests start from (files by relative path)."""

from __future__ import annotations

CONNECTOR_FILES: dict[str, str] = {
    "connector.yaml": """\
manifest_version: 1
name: demo
version: 1.0.0
display_name: Demo
kind: source
capabilities: [batch_extract, incremental]
entrypoint: demo_connector.source:DemoSource
config:
  class: demo_connector.source:DemoConfig
  schema: schemas/config.json
streams:
  - name: users
    primary_key: [id]
    cursor_field: updated_at
    schema: schemas/users.json
allowed_hosts: [api.demo.io]
""",
    "schemas/users.json": """\
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "id": {"type": "string"},
    "name": {"type": "string"},
    "updated_at": {"type": "string", "format": "date-time"}
  }
}
""",
    "schemas/config.json": """\
{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "base_url": {"type": "string", "default": "https://api.demo.io"},
    "page_size": {"type": "integer", "default": 100},
    "region": {"type": "string", "enum": ["us", "eu"], "default": "us"},
    "api_token": {"type": "string", "writeOnly": true}
  },
  "required": ["api_token"]
}
""",
    "demo_connector/__init__.py": '"""Demo connector."""\n',
    "demo_connector/source.py": '''\
"""A demo source: pages through /users with a cursor."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import SecretStr

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class DemoConfig(SourceConfig):
    base_url: str = "https://api.demo.io"
    page_size: int = 100
    region: Literal["us", "eu"] = "us"
    api_token: SecretStr


class DemoSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["users"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return DemoConfig

    def check_connection(self) -> tuple[bool, str | None]:
        r = self.session.get(f"{self.config.base_url}/me")
        return r.ok, None if r.ok else r.text

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        params = {"limit": self.config.page_size, **(pagination or {})}
        body = self.session.get(f"{self.config.base_url}/users", params=params).json()
        records = [SourceRecord(id=str(u["id"]), data=u) for u in body["items"]]
        nxt = {"cursor": body["next"]} if body.get("next") else {}
        return SourceIteration(records=records, next_pagination=nxt)

    def get_records_after(self, source_state, pagination=None) -> SourceIteration:
        return self.get(pagination)
''',
    "pyproject.toml": """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "demo-connector"
version = "1.0.0"
dependencies = [
  "connector-cdk>=0.1,<1",
  "python-dateutil>=2.8.2,<3",
]

[project.entry-points."cdk.connectors"]
demo = "demo_connector.source:DemoSource"

[tool.hatch.build.targets.wheel]
packages = ["demo_connector"]

[tool.hatch.build.targets.wheel.force-include]
"connector.yaml" = "demo_connector/connector.yaml"
"schemas" = "demo_connector/schemas"
""",
    "tests/config.json": '{"name": "demo", "stream": "users", "page_size": 50, "api_token": "CDK_ENV_DEMO_TOKEN"}\n',
    "tests/cassettes/test_read.yaml": """\
interactions:
- request:
    method: GET
    uri: https://api.demo.io/users?limit=50
    headers:
      Authorization:
      - REDACTED
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type:
      - application/json
    body:
      string: '{"items": [{"id": "1", "name": "Ada"}], "next": null}'
version: 1
""",
}
