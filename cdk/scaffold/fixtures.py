"""Recorded HTTP fixtures for a freshly rendered connector, so that `cdk test` passes offline at once.

Nothing real is called: an in-process demo API (:class:`cdk.testing.demo_api.DemoAPI`) stands in for
the connector's API, with credentials of the connector's auth method. ``cdk test --record`` records the
standard tests against it (redaction applies as always), and the cassettes are then re-addressed from
the demo API's URL to the connector's base URL, the ``api_url`` of ``tests/sample_config.json`` that
replay uses. A declarative connector has its base URL in connector.yaml instead (``urlParams.host`` under
``declarative:``): while recording, that host is pointed at the demo API, and the cassettes are
re-addressed back to it. The connector's README says so: once the code talks to the real API, re-record with
``cdk test --record``.

A template opts in with ``"_cdk_fixtures": "demo"`` in its cookiecutter.json, and its connector must
talk to the demo API's routes (ours do; the author then adapts them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cdk.errors import CdkError
from cdk.fsutil import atomic_write_text

DEMO_RECORDS = 120  # two pages at the templates' page size of 100
DEMO_SECRET = "demo-secret-7f3a"  # what the demo API wants; redacted from every cassette
DEMO_REFRESH = "demo-refresh-5c1e"
SAMPLE_CONFIG = Path("tests") / "sample_config.json"
CASSETTES = Path("tests") / "cassettes"


def wants_demo_fixtures(context: dict[str, Any]) -> bool:
    return context.get("_cdk_fixtures") == "demo"


def demo_config(sample: dict[str, Any], url: str) -> dict[str, Any]:
    """The sample config pointed at the demo API, with credentials it accepts."""
    config: dict[str, Any] = json.loads(json.dumps(sample))
    if "api_url" in config:
        config["api_url"] = url
    auth = config.get("authentication") or {}
    params = auth.get("params") or {}
    kind = auth.get("type")
    if kind == "api_key":
        params["api_key"] = DEMO_SECRET
    elif kind == "bearer":
        params["token"] = DEMO_SECRET
    elif kind == "basic":
        params["password"] = DEMO_SECRET
    elif kind == "oauth2":
        params.update(token_url=f"{url}/oauth/token", client_secret=DEMO_SECRET, refresh_token=DEMO_REFRESH)
    return config


def _declarative_hosts(data: Any) -> list[dict[str, Any]]:
    """Every ``urlParams`` mapping under ``declarative:`` (defaults and streams) that names a host."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            url = node.get("urlParams")
            if isinstance(url, dict) and isinstance(url.get("host"), str):
                found.append(url)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data.get("declarative") if isinstance(data, dict) else None)
    return found


def base_url(folder: Path, sample: dict[str, Any]) -> str:
    """Where replay sends requests: the sample config's ``api_url``, else the declarative spec's one host."""
    if sample.get("api_url"):
        return str(sample["api_url"]).rstrip("/")
    from cdk.yamlio import read_yaml

    data, _ = read_yaml(folder / "connector.yaml", shown="connector.yaml")
    hosts = {str(u["host"]).rstrip("/") for u in _declarative_hosts(data)}
    if len(hosts) != 1 or "{" in next(iter(hosts)):
        raise CdkError(
            "cannot tell the base URL of the new connector: tests/sample_config.json has no api_url "
            f"and connector.yaml's declarative urlParams.host is not one literal URL ({sorted(hosts)})",
            hint="pass --no-fixtures and record later with `cdk test --record`",
        )
    return hosts.pop()


@contextmanager
def demo_manifest(folder: Path, base_url: str, demo_url: str) -> Iterator[None]:
    """While recording, the demo API's host joins allowed_hosts and declarative requests go to the demo
    API instead of the base URL; connector.yaml is restored byte for byte."""
    import yaml

    manifest = folder / "connector.yaml"
    from cdk.yamlio import load_yaml

    original = manifest.read_bytes()
    data = load_yaml(original.decode("utf-8"), "connector.yaml")
    hosts = list(data.get("allowed_hosts") or [])
    changed = False
    if "127.0.0.1" not in hosts:
        data["allowed_hosts"] = [*hosts, "127.0.0.1"]
        changed = True
    for url in _declarative_hosts(data):
        if str(url["host"]).rstrip("/") == base_url:
            url["host"] = demo_url
            changed = True
    if changed:
        manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    try:
        yield
    finally:
        manifest.write_bytes(original)


def readdress_cassettes(folder: Path, demo_url: str, base_url: str) -> list[str]:
    """Point every cassette in ``folder``'s tests/cassettes from the demo API at ``base_url``; returns
    the cassette files (relative to ``folder``)."""
    written = []
    port = demo_url.rsplit(":", 1)[1]
    for cassette in sorted((folder / CASSETTES).glob("*")):
        if not cassette.is_file():
            continue
        text = cassette.read_text(encoding="utf-8")
        readdressed = text.replace(demo_url, base_url)
        if f"127.0.0.1:{port}" in readdressed:
            raise CdkError(
                f"{cassette.name}: the demo API's address survives in a form cdk init cannot re-address"
            )
        if readdressed != text:
            atomic_write_text(cassette, readdressed)
        written.append(str(cassette.relative_to(folder)))
    return written


def remove_run_debris(folder: Path, before: set[Path]) -> None:
    """Drop what the recording run left besides cassettes (.pytest_cache, __pycache__)."""
    import shutil

    cassettes = folder / CASSETTES
    for path in sorted(set(folder.rglob("*")) - before, key=lambda p: len(p.parts)):
        if path == cassettes or cassettes in path.parents or not path.exists():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
