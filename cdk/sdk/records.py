"""Records and iterations: what a source hands back (the shapes of the Python source guide).

Plain slotted dataclasses rather than pydantic models: a read creates one per record, and validation
here would cost more than the HTTP call that fetched it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson


@dataclass(slots=True)
class SourceRecord:
    """One record. ``destination_id`` routes it to a specific destination table when set."""

    id: str
    data: dict[str, Any]
    timestamp: datetime | None = None
    destination_id: str | None = None


@dataclass(slots=True)
class SourceIteration:
    """One page: its records and the pagination that fetches the next page (empty: no more pages).

    ``state`` (optional) is the source's own incremental state after this page, e.g. a cursor per
    partition of a child stream; the runner keeps the last one given when the read completes and passes
    it back as :attr:`SourceIncrementalState.state` on the next incremental run.
    """

    records: list[SourceRecord]
    next_pagination: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] | None = None


@dataclass(slots=True)
class SourceIncrementalState:
    """What an incremental read starts from: the cursor reached by the previous successful run."""

    last_run: datetime
    state: dict[str, Any] = field(default_factory=dict)
    cursor_field: str | None = None


@dataclass(slots=True)
class WriteResult:
    """What a destination's ``write`` reports for one batch."""

    written: int
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def data_json(value: Any) -> bytes:
    """A record's data as JSON: what is no JSON value as its ``str`` (a datetime as ISO text, a Decimal as
    its digits; NaN and infinities become null), keys that are not strings as strings, as ``json.dumps``
    makes them (``{1: "a"}`` → ``{"1":"a"}``). Raises ``TypeError`` for what has no JSON text at all (a lone
    surrogate in a string): :func:`not_json` says which record."""
    try:
        return orjson.dumps(value, default=str)
    except TypeError:  # the rare data with non-string keys: the slower option only then
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)


def not_json(stream: str, records: list[SourceRecord], exc: Exception) -> Exception:
    """The error for a page whose serialisation raised ``exc``: names the first record that cannot be JSON
    (the source's doing, not the destination's)."""
    from cdk.errors import ConnectorError

    for r in records:
        try:
            orjson.dumps([r.id, r.destination_id])
            data_json(r.data)
        except TypeError as bad:
            return ConnectorError(
                f"stream '{stream}', record id {r.id!r}: it cannot be written as JSON: {bad}",
                hint="fix the source so the record holds text, numbers, booleans, null, lists and objects "
                "(bytes: decode or base64 them; strings: valid Unicode)",
            )
    return exc
