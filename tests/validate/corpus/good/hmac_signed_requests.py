# allowed_hosts: api.exchange.example
"""An exchange API that signs each request with HMAC-SHA256 over the query string."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class ExchangeConfig(SourceConfig):
    api_key: SecretStr
    api_secret: SecretStr


class ExchangeSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["trades"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return ExchangeConfig

    def _signed(self, params: dict[str, Any]) -> dict[str, str]:
        query = urlencode({**params, "ts": int(time.time() * 1000)})
        secret = self.config.api_secret.get_secret_value().encode()
        signature = base64.b64encode(hmac.new(secret, query.encode(), hashlib.sha256).digest()).decode()
        return {"X-Key": self.config.api_key.get_secret_value(), "X-Signature": signature}

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.exchange.example/v1/account", headers=self._signed({})).ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        params = {"from_id": (pagination or {}).get("from_id", 0)}
        trades = self.session.get("https://api.exchange.example/v1/trades", params=params, headers=self._signed(params)).json()
        records = [SourceRecord(id=str(t["id"]), data=t) for t in trades]
        return SourceIteration(records=records, next_pagination={"from_id": trades[-1]["id"] + 1} if trades else {})
