# allowed_hosts: *.myshopify.com
"""Shopify orders through GraphQL with cursor pagination."""
from __future__ import annotations

import re
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

GID = re.compile(r"gid://shopify/\w+/(\d+)")
QUERY = """
query($cursor: String) { orders(first: 50, after: $cursor) {
  pageInfo { hasNextPage endCursor } edges { node { id name createdAt } } } }
"""


class ShopifyConfig(SourceConfig):
    shop: str
    api_version: str = "2024-04"


class ShopifySource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["orders"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return ShopifyConfig

    def _endpoint(self) -> str:
        return f"https://{self.config.shop}.myshopify.com/admin/api/{self.config.api_version}/graphql.json"

    def check_connection(self) -> tuple[bool, str | None]:
        r = self.session.post(self._endpoint(), json={"query": "{ shop { name } }"})
        return r.ok and "errors" not in r.json(), None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        variables = {"cursor": (pagination or {}).get("cursor")}
        data = self.session.post(self._endpoint(), json={"query": QUERY, "variables": variables}).json()
        orders = data["data"]["orders"]
        records = []
        for edge in orders["edges"]:
            node = edge["node"]
            m = GID.match(node["id"])
            records.append(SourceRecord(id=m.group(1) if m else node["id"], data=node))
        info = orders["pageInfo"]
        return SourceIteration(records=records, next_pagination={"cursor": info["endCursor"]} if info["hasNextPage"] else {})
