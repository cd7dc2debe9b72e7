# allowed_hosts: api.ledger.example
"""Ledger entries: amounts converted with decimal, statistics for a summary record."""
from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

CENT = Decimal("0.01")


class LedgerSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["entries"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        return self.session.get("https://api.ledger.example/ping").ok, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        body = self.session.get("https://api.ledger.example/entries", params=pagination or {}).json()
        records = []
        for e in body["entries"]:
            amount = (Decimal(e["amount_minor"]) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            records.append(SourceRecord(id=e["id"], data={**e, "amount": str(amount)}))
        if records:
            mean = statistics.fmean(float(r.data["amount"]) for r in records)
            records.append(SourceRecord(id=f"summary-{body['page']}", data={"mean": round(mean, 2)}))
        return SourceIteration(records=records, next_pagination={"page": body["page"] + 1} if body["more"] else {})
