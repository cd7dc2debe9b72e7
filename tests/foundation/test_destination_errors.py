"""A destination's exception is a clear error naming the destination and the batch (issue 14 item 12)."""

from __future__ import annotations

import json

from tests.conftest import run_cdk

ROWS = b"".join(json.dumps({"id": i, "name": f"n{i}"}).encode() + b"\n" for i in range(1, 8))


def test_exception_in_write_names_destination_and_batch_exit_1(demo_api, connector_copy, write_config):
    folder = connector_copy("demo_destination")
    code = folder / "demo_destination" / "destination.py"
    code.write_text(
        code.read_text().replace(
            "        response = self.session.post(",
            "        if records[0].data['id'] > 3:\n"
            "            raise KeyError('column name')\n"
            "        response = self.session.post(",
        )
    )
    cfg = write_config({"name": "d", "api_url": demo_api.url})
    result = run_cdk(
        "write", "--config", str(cfg), "-s", "users", "--batch-size", "3", cwd=folder, input=ROWS
    )
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "internal error" not in err and "Traceback" not in err
    assert "destination DemoDestination, stream 'users', batch 2 (records 4-6)" in err
    assert "KeyError" in err and "column name" in err


def test_post_503_in_write_is_an_outside_failure_exit_3_and_not_duplicated(
    demo_api, connector_copy, write_config
):
    folder = connector_copy("demo_destination")
    demo_api.script("/ingest/users", {"status": 503})
    cfg = write_config({"name": "d", "api_url": demo_api.url})
    result = run_cdk("write", "--config", str(cfg), "-s", "users", cwd=folder, input=ROWS)
    err = result.stderr.decode()
    assert result.returncode == 3, err
    assert "destination DemoDestination, stream 'users', batch 1" in err and "answered 503" in err
    assert sum(1 for r in demo_api.requests if r["path"] == "/ingest/users") == 1
