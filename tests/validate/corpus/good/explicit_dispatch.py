# allowed_hosts: api.trello.com
"""Trello: per-stream parsing dispatched through an explicit mapping (not getattr)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


def parse_board(item: dict[str, Any]) -> SourceRecord:
    return SourceRecord(id=item["id"], data={"name": item["name"], "closed": item["closed"]})


def parse_card(item: dict[str, Any]) -> SourceRecord:
    return SourceRecord(id=item["id"], data={"name": item["name"], "list": item["idList"]})


PARSERS: dict[str, Callable[[dict[str, Any]], SourceRecord]] = {"boards": parse_board, "cards": parse_card}


class TrelloSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return list(PARSERS)

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.trello.com/1/members/me").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        parse = PARSERS[self.config.stream]
        items = self.session.get(f"https://api.trello.com/1/members/me/{self.config.stream}").json()
        return SourceIteration(records=[parse(i) for i in items], next_pagination={})
