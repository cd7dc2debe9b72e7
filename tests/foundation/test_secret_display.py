"""A token in a URL path or query never reaches the console: failure messages, retry warnings and
`--debug` tracebacks are masked with the secret vocabulary (issue 19 item 6)."""

from __future__ import annotations

import json
from urllib.parse import quote

from cdk.secrets import spellings
from tests.conftest import run_cdk
from tests.guides.test_guide_examples import make_connector

TOKEN = "tok/Secret+9f8e7d6c5b"

CODE = """from typing import List, Optional, Tuple, Type
from pydantic import Field
from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class MySourceConfig(SourceConfig):
    api_url: str = Field(...)
    bot_token: str = Field(..., json_schema_extra={"writeOnly": True})


class MySource(AbstractSource):
    @staticmethod
    def streams() -> List[str]:
        return ["users"]

    @staticmethod
    def get_config_class() -> Type[SourceConfig]:
        return MySourceConfig

    def check_connection(self) -> Tuple[bool, Optional[str]]:
        return True, None

    def get(self, pagination: dict = None) -> SourceIteration:
        from urllib.parse import quote
        token = quote(self.config.bot_token, safe="")
        response = self.session.get(f"{self.config.api_url}/bot{token}/users", params={"access_token": "x" + token})
        response.raise_for_status()
        return SourceIteration(records=[], next_pagination={})
"""


def test_token_in_url_path_and_query_is_masked_everywhere(demo_api, tmp_path):
    folder = make_connector(tmp_path, CODE)
    path = f"/bot{quote(TOKEN, safe='')}/users"
    demo_api.script(path, {"status": 503}, {"status": 404})  # one retry warning, then a failure
    cfg = folder / "config.json"
    cfg.write_text(json.dumps({"name": "s", "stream": "users", "api_url": demo_api.url, "bot_token": TOKEN}))
    result = run_cdk("--debug", "read", "--config", str(cfg), cwd=folder)
    err = result.stderr.decode()
    assert result.returncode == 1
    assert "503 from" in err and "Traceback" in err and "404" in err  # the warning, the traceback, the error
    for form in spellings(TOKEN):
        assert form not in err, form
    assert "access_token=REDACTED" in err


CHATTY = """import logging
from typing import List, Optional, Tuple, Type
from pydantic import Field
from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

log = logging.getLogger("chatty")


class MySourceConfig(SourceConfig):
    api_url: str = Field(...)
    bot_token: str = Field(..., json_schema_extra={"writeOnly": True})


class MySource(AbstractSource):
    @staticmethod
    def streams() -> List[str]:
        return ["users"]

    @staticmethod
    def get_config_class() -> Type[SourceConfig]:
        return MySourceConfig

    def check_connection(self) -> Tuple[bool, Optional[str]]:
        return True, None

    def get(self, pagination: dict = None) -> SourceIteration:
        log.warning("connecting with token %s", self.config.bot_token)
        return SourceIteration(records=[SourceRecord(id="1", data={"id": 1})], next_pagination={})
"""


def test_cdk_read_masks_a_secret_that_connector_code_logs(tmp_path):
    """`cdk read` logs through the masking formatter too (as `cdk run` does), not only its own messages."""
    folder = make_connector(tmp_path, CHATTY)
    cfg = folder / "config.json"
    cfg.write_text(
        json.dumps({"name": "s", "stream": "users", "api_url": "http://127.0.0.1:9", "bot_token": TOKEN})
    )
    result = run_cdk("read", "--config", str(cfg), cwd=folder)
    err = result.stderr.decode()
    assert result.returncode == 0, err
    assert "connecting with token REDACTED" in err
    for form in spellings(TOKEN):
        assert form not in err, form
