# allowed_hosts: api.dynamo-like.example
"""Key and token *names* that are not credentials: sort keys, pagination token fields, token URLs."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

SORT_KEY = "created_at"
PARTITION_KEY = "tenant_id"
NEXT_TOKEN = "nextPageToken"
TOKEN_URL = "https://api.dynamo-like.example/oauth/token"
GRANT_TYPE = "refresh_token"


class ItemsSource(AbstractSource):
    primary_key = "item_id"

    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.dynamo-like.example/v1/ping").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        params: dict[str, Any] = {"sort_key": SORT_KEY, "limit": 100}
        if pagination:
            params["page_token"] = pagination["token"]
        body = self.session.get("https://api.dynamo-like.example/v1/items", params=params).json()
        records = [SourceRecord(id=str(i[self.primary_key]), data=i) for i in body["items"]]
        token = body.get(NEXT_TOKEN)
        return SourceIteration(records=records, next_pagination={"token": token} if token else {})
