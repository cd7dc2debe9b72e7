"""`cdk read --sandbox`: the same records as `cdk read`, with the connector's code run in the sandbox."""

from __future__ import annotations

import pytest

from cdk.sandbox import available
from tests.conftest import jsonl, run_cdk

pytestmark = pytest.mark.skipif(available() is not None, reason=f"no sandbox here: {available()}")


def test_read_in_the_sandbox_gives_the_records_of_a_plain_read(
    demo_api, connector_copy, write_config
) -> None:
    source = connector_copy("demo_source")
    demo_api.counts["users"] = 37
    cfg = write_config({"api_url": demo_api.url, "page_size": 10})
    plain = run_cdk("read", "--config", str(cfg), "--stream", "users", cwd=source)
    boxed = run_cdk("read", "--sandbox", "--config", str(cfg), "--stream", "users", cwd=source)
    assert plain.returncode == 0 and boxed.returncode == 0, boxed.stderr
    assert jsonl(boxed.stdout) == jsonl(plain.stdout) and len(jsonl(plain.stdout)) == 37
    assert b"sandboxed: bubblewrap" in boxed.stderr and b"GET http://127.0.0.1" in boxed.stderr


def test_read_in_the_sandbox_refuses_hosts_outside_the_manifest(
    demo_api, connector_copy, write_config
) -> None:
    source = connector_copy("demo_source")
    manifest = source / "connector.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "allowed_hosts: [127.0.0.1, localhost]", "allowed_hosts: [api.example.com]"
        )
    )
    cfg = write_config({"api_url": demo_api.url})
    boxed = run_cdk("read", "--sandbox", "--config", str(cfg), "--stream", "users", cwd=source)
    assert boxed.returncode == 1 and b"127.0.0.1" in boxed.stderr and b"allowed_hosts" in boxed.stderr
    assert demo_api.count("/users") == 0
