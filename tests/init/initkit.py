"""Helpers for `cdk init` tests: demo APIs per auth method and the expected secret fields."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cdk.testing.demo_api import DemoAPI

TEMPLATES = ("source-python", "destination-python", "source-streaming", "source-declarative")
AUTHS = ("none", "api_key", "bearer", "basic", "oauth2")
PAGINATIONS = ("offset", "page", "cursor", "next_url", "link")
DECLARATIVE_PAGINATIONS = {  # the source-declarative answer -> the sourceSpec pagination type it writes
    "offset": "OFFSET",
    "page": "PAGE",
    "continuation_token": "CONTINUATION_TOKEN",
    "pointer": "POINTER",
    "link": "LINK",
}
DECLARATIVE_PAGE_SIZE = 100  # limitValue in the template's connector.yaml
SECRETS = {  # the params each auth method must mark writeOnly in the config schema
    "none": set(),
    "api_key": {"api_key"},
    "bearer": {"token"},
    "basic": {"password"},
    "oauth2": {"client_secret", "refresh_token"},
}


def package_of(name: str) -> str:
    return name.replace("-", "_")


@contextmanager
def demo_for(auth: str, records: int = 100) -> Iterator[tuple[DemoAPI, dict[str, Any]]]:
    """A demo API that enforces the credentials of ``auth`` and the matching ``authentication`` config.

    The demo API knows API keys and bearer tokens; for basic auth it accepts anything and the test checks
    the Authorization header it received; for oauth2 it starts with a key nobody has, so data requests
    only pass with the access token obtained through POST /oauth/token with the right refresh token.
    """
    api_key = {"api_key": "key-123", "bearer": "tok-123", "oauth2": "nobody-has-this"}.get(auth)
    api = DemoAPI(records, api_key=api_key, refresh_token="refresh-1" if auth == "oauth2" else None)
    with api:
        params: dict[str, Any] = {
            "api_key": {"api_key": "key-123"},
            "bearer": {"token": "tok-123"},
            "basic": {"username": "ann", "password": "s3cret"},
            "oauth2": {
                "token_url": f"{api.url}/oauth/token",
                "client_id": "cid",
                "client_secret": "csecret",
                "refresh_token": "refresh-1",
            },
        }.get(auth, {})
        authentication = None if auth == "none" else {"type": auth, "params": params}
        yield api, authentication


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
