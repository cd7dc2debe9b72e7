"""Fixtures of the declarative tests: real servers on 127.0.0.1 and connector folders written to tmp_path."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from decl_fake_apis import FakeAPIs  # noqa: E402

from cdk.testing.demo_api import DemoAPI  # noqa: E402


@pytest.fixture(scope="module")
def demo() -> Any:
    with DemoAPI({"users": 237, "orders": 200}) as api:
        yield api


@pytest.fixture(scope="module")
def fake_server() -> Any:
    with FakeAPIs() as api:
        yield api


@pytest.fixture()
def fake(fake_server: Any) -> Any:
    """The module's fake APIs with default record counts and an empty request log."""
    fake_server.__init__()
    fake_server.requests.clear()
    return fake_server
