# allowed_hosts: api.github.com
"""GitHub issues: follows the Link header; builds query strings with urllib.parse."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class GithubConfig(SourceConfig):
    owner: str
    repo: str
    state: str = "all"


class GithubSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["issues"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return GithubConfig

    def check_connection(self) -> tuple[bool, str | None]:
        r = self.session.get(f"https://api.github.com/repos/{self.config.owner}/{self.config.repo}")
        return r.ok, None if r.ok else r.json().get("message")

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        page = int((pagination or {}).get("page", 1))
        query = urlencode({"state": self.config.state, "per_page": 100, "page": page})
        r = self.session.get(f"https://api.github.com/repos/{self.config.owner}/{self.config.repo}/issues?{query}")
        records = [SourceRecord(id=str(i["id"]), data=i) for i in r.json()]
        nxt_url = r.links.get("next", {}).get("url")
        nxt = {"page": parse_qs(urlsplit(nxt_url).query)["page"][0]} if nxt_url else {}
        return SourceIteration(records=records, next_pagination=nxt)
