"""Declarative requests go through the connector session: auth from the config, retries on the session clock."""

from __future__ import annotations

from typing import Any

import pytest
from decl_helpers import Run, write_connector

from cdk.errors import AuthenticationError
from cdk.testing.demo_api import DemoAPI

SPEC = {
    "spec": {"type": "object", "properties": {"base": {"type": "string"}}},
    "streams": {
        "users": {
            "urlParams": {"host": "${base}", "path": "/users"},
            "contentPath": {"path": "$.items", "overrideWrapperAttribute": ""},
            "paginationParams": {
                "type": "OFFSET",
                "limitName": "limit",
                "limitValue": 40,
                "offSetName": "offset",
            },
        }
    },
}


@pytest.fixture(scope="module")
def locked() -> Any:
    with DemoAPI(90, api_key="s3cret") as api:
        yield api


def test_authentication_of_the_config_is_sent(tmp_path: Any, locked: Any) -> None:
    folder = write_connector(tmp_path / "c", SPEC, streams=[{"name": "users", "primary_key": ["id"]}])
    run = Run(
        folder, {"base": locked.url, "authentication": {"type": "bearer", "params": {"token": "s3cret"}}}
    )
    assert [r.id for r in run.records] == [str(i) for i in range(1, 91)]
    with pytest.raises(AuthenticationError):
        Run(folder, {"base": locked.url, "authentication": {"type": "bearer", "params": {"token": "wrong"}}})


def test_429_with_retry_after_is_retried_on_the_session_clock(tmp_path: Any, demo: Any) -> None:
    demo.reset()
    demo.script("/users", {"status": 429, "headers": {"Retry-After": "7"}}, {"status": 503})
    folder = write_connector(tmp_path / "c", SPEC, streams=[{"name": "users", "primary_key": ["id"]}])
    run = Run(folder, {"base": demo.url})
    assert len(run.records) == 237
    assert (
        run.clock.sleeps[0] == 7.0 and len(run.clock.sleeps) == 2
    )  # Retry-After, then a backoff; never slept
