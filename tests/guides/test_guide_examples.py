"""Code written from the product documents runs and validates unchanged apart from its import lines.

One test per example of the Python source guide and of the custom-sources API: the example becomes a
connector folder, passes `cdk validate` with the default policy, and `cdk read` (a real subprocess)
reads the right records from a local imitation API.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import jsonl, run_cdk
from tests.guides import examples
from tests.guides.guide_api import GuideAPI


@pytest.fixture
def api():
    with GuideAPI() as server:
        yield server


def make_connector(
    root: Path,
    code: str,
    *,
    cls: str = "MySource",
    config_cls: str | None = "MySourceConfig",
    incremental=False,
) -> Path:
    folder = root / "guide-source"
    (folder / "guide_source").mkdir(parents=True)
    (folder / "guide_source" / "__init__.py").write_text("")
    (folder / "guide_source" / "source.py").write_text(code)
    deps = ['"connector-cdk>=0.1,<1"'] + (['"pytz>=2023.3"'] if "pytz" in code else [])
    (folder / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "guide-source"
version = "0.1.0"
description = "An example of the Python source guide"
requires-python = ">=3.10"
dependencies = [{", ".join(deps)}]

[project.entry-points."cdk.connectors"]
guide-source = "guide_source.source:{cls}"

[tool.hatch.build.targets.wheel]
packages = ["guide_source"]

[tool.hatch.build.targets.wheel.force-include]
"connector.yaml" = "guide_source/connector.yaml"
"""
    )
    cursor = "    cursor_field: updated_at\n" if incremental else ""
    streams = "".join(
        f"  - name: {s}\n    primary_key: [id]\n{cursor}" for s in ("users", "orders", "products")
    )
    config = f"config:\n  class: guide_source.source:{config_cls}\n" if config_cls else ""
    (folder / "connector.yaml").write_text(
        f"""manifest_version: 1
name: guide-source
version: 0.1.0
description: An example of the Python source guide
kind: source
capabilities: [batch_extract{", incremental" if incremental else ""}]
entrypoint: guide_source.source:{cls}
{config}streams:
{streams}allowed_hosts: [127.0.0.1]
"""
    )
    return folder


def validate_ok(folder: Path) -> None:
    result = run_cdk("validate", "--format", "json", cwd=folder)
    assert result.stdout, result.stderr.decode()
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["valid"], report["errors"]


def read(folder: Path, config: dict, *args: str) -> list[dict]:
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    result = run_cdk("read", "--config", str(path), *args, cwd=folder)
    assert result.returncode == 0, result.stderr.decode()
    return jsonl(result.stdout)


def ids(rows: list[dict]) -> list[int]:
    return [int(r["id"]) for r in rows]


def test_quickstart_source(tmp_path, api):
    folder = make_connector(tmp_path, examples.QUICKSTART)
    validate_ok(folder)
    rows = read(folder, {"name": "my_source", "stream": "users", "api_url": api.url, "page_size": 30})
    assert ids(rows) == list(range(1, 96)) and {r["stream"] for r in rows} == {"users"}


def test_config_stream_is_the_stream_read_and_labelled(tmp_path, api):
    """`stream: orders` in the config and no --stream: /orders is read and every record is labelled orders."""
    folder = make_connector(tmp_path, examples.QUICKSTART)
    rows = read(folder, {"name": "my_source", "stream": "orders", "api_url": api.url, "page_size": 10})
    assert ids(rows) == list(range(1, 43)) and {r["stream"] for r in rows} == {"orders"}
    assert {r["path"] for r in api.requests} == {"/orders"}


@pytest.mark.parametrize(
    "get", [examples.CURSOR_GET, examples.OFFSET_GET, examples.PAGE_GET], ids=["cursor", "offset", "page"]
)
def test_required_methods_with_each_pagination_example(tmp_path, api, get):
    folder = make_connector(tmp_path, examples.REQUIRED_METHODS_HEAD + get)
    validate_ok(folder)
    rows = read(folder, {"name": "my_source", "stream": "users", "api_url": api.url, "page_size": 20})
    assert ids(rows) == list(range(1, 96))


def test_incremental_example_reads_only_newer_records(tmp_path, api):
    folder = make_connector(tmp_path, examples.INCREMENTAL, incremental=True)
    validate_ok(folder)
    config = {
        "name": "my_source",
        "stream": "users",
        "sync_mode": "incremental",
        "api_url": api.url,
        "page_size": 25,
    }
    state = str(folder / "state.json")
    assert ids(read(folder, config, "--state", state)) == list(range(1, 96))
    api.counts["users"] = 100
    assert ids(read(folder, config, "--state", state)) == [96, 97, 98, 99, 100]


def test_destination_routing_example(tmp_path, api):
    folder = make_connector(tmp_path, examples.ROUTING)
    validate_ok(folder)
    rows = read(folder, {"name": "my_source", "stream": "orders", "api_url": api.url})
    assert ids(rows) == list(range(1, 43))
    assert {r["destination_id"] for r in rows} == {
        "project.dataset.click_events",
        "project.dataset.view_events",
    }


def test_custom_authenticator_example(tmp_path, api):
    api.api_key, api.signing_secret = "k-123456", "s3cret-signing"
    folder = make_connector(tmp_path, examples.CUSTOM_AUTH)
    validate_ok(folder)
    config = {
        "name": "my_source",
        "stream": "users",
        "api_url": api.url,
        "page_size": 50,
        "api_key": "k-123456",
        "api_secret": "s3cret-signing",
    }
    assert ids(read(folder, config)) == list(range(1, 96))


def test_error_handling_example(tmp_path, api):
    folder = make_connector(tmp_path, examples.ERROR_HANDLING)
    validate_ok(folder)
    assert ids(read(folder, {"name": "my_source", "stream": "products", "api_url": api.url})) == list(
        range(1, 8)
    )
    api.api_key = "wanted"  # the example's own error path: a clear failure, not an internal error
    path = folder / "config.json"
    result = run_cdk("read", "--config", str(path), cwd=folder)
    assert result.returncode != 0 and b"internal error" not in result.stderr
    assert b"401" in result.stderr


def test_full_rest_api_source_example(tmp_path, api):
    folder = make_connector(
        tmp_path, examples.FULL_REST, cls="RestApiSource", config_cls="RestApiSourceConfig", incremental=True
    )
    validate_ok(folder)
    config = {"name": "rest", "stream": "users", "base_url": api.url, "page_size": 40}
    rows = read(folder, config)
    assert ids(rows) == list(range(1, 96)) and rows[0]["timestamp"] == "2024-01-01T00:01:00+00:00"
    state = str(folder / "state.json")
    inc = {**config, "sync_mode": "incremental"}
    assert len(read(folder, inc, "--state", state)) == 95
    api.counts["users"] = 97
    assert ids(read(folder, inc, "--state", state)) == [96, 97]


def test_custom_sources_api_simple_contract_example(tmp_path):
    folder = make_connector(tmp_path, examples.SIMPLE_CONTRACT, config_cls=None)
    validate_ok(folder)
    rows = read(folder, {"name": "mine", "stream": "users"})
    assert [(r["id"], r["data"]["name"]) for r in rows] == [("1", "Alice"), ("2", "Bob")]
    assert read(folder, {"name": "mine", "stream": "orders"}) == []
    check = run_cdk("check", "--config", str(folder / "config.json"), cwd=folder)
    assert check.returncode == 0 and b"Connection successful" in check.stdout
