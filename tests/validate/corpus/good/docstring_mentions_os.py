# allowed_hosts: api.weather.gov
"""Weather alerts.

Why not ``import os`` to read the API key? Connector code must not touch the environment: write
``CDK_ENV_WEATHER_KEY`` in the config and the runner resolves it. Likewise ``open()`` and
``subprocess`` are not available here; ``eval`` never is.
"""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class WeatherSource(AbstractSource):
    """Reads /alerts/active. Example (not code): ``exec(open('x').read())`` is what we block."""

    @staticmethod
    def streams() -> list[str]:
        return ["alerts"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        """Calls the API root; ``import sys`` is never needed."""
        return self.session.get("https://api.weather.gov/").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        body = self.session.get("https://api.weather.gov/alerts/active").json()
        records = [SourceRecord(id=f["id"], data=f["properties"]) for f in body["features"]]
        return SourceIteration(records=records, next_pagination={})
