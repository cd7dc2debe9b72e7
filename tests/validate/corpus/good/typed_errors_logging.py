# allowed_hosts: api.mailchimp.com, *.api.mailchimp.com
"""Mailchimp lists: typed SDK errors and standard logging."""
from __future__ import annotations

import logging
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord
from cdk.errors import AuthenticationError, InvalidResponseError

log = logging.getLogger(__name__)


class MailchimpConfig(SourceConfig):
    data_center: str = "us1"


class MailchimpSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["lists"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return MailchimpConfig

    def _base(self) -> str:
        return f"https://{self.config.data_center}.api.mailchimp.com/3.0"

    def check_connection(self) -> tuple[bool, str | None]:
        r = self.session.get(f"{self._base()}/ping")
        if r.status_code in (401, 403):
            raise AuthenticationError("Mailchimp refused the API key", hint="check authentication.params.api_key")
        return r.ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        offset = (pagination or {}).get("offset", 0)
        r = self.session.get(f"{self._base()}/lists", params={"offset": offset, "count": 100})
        try:
            body = r.json()
        except ValueError as exc:
            raise InvalidResponseError(f"Mailchimp answered non-JSON: {r.text[:80]!r}") from exc
        log.debug("fetched %d lists at offset %d", len(body["lists"]), offset)
        records = [SourceRecord(id=item["id"], data=item) for item in body["lists"]]
        done = offset + len(records) >= body["total_items"]
        return SourceIteration(records=records, next_pagination={} if done else {"offset": offset + len(records)})
