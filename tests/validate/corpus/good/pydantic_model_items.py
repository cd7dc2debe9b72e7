# allowed_hosts: api.models.io
"""Items validated with a pydantic model."""
from __future__ import annotations

from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from pydantic import BaseModel, Field


class Item(BaseModel):
    id: int
    title: str = Field(default='')


class PydanticModelItemsSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.models.io/v1/ping").ok, None

    def valid(self, item: dict[str, Any]) -> dict[str, Any]:
        return Item.model_validate(item).model_dump()

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        resp = self.session.get("https://api.models.io/v1/items", params=pagination or {})
        items = [self.valid(item) for item in resp.json()["items"]]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
