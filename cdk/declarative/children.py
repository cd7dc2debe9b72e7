"""Child streams: a stream read once per record of a parent stream (``parent:`` in its spec).

Each parent record gives one *partition*: the values its requests take from that record
(``fields: {campaignId: id}`` fills ``${campaignId}``, ``${parent.id}`` reads ``id`` directly). The child's
``next_pagination`` — what the runner checkpoints after every page — is keyed by those values::

    {"parent": <the parent's pagination of the parent page being worked through; null: its first page>,
     "partitions": {'{"campaignId":"c2"}': {"done": true},
                    '{"campaignId":"c3"}': {"pagination": {<the child's own pagination>}, "cursor": "..."}},
     "cursors": {'{"campaignId":"c1"}': "2024-01-05T00:00:00+00:00"},   # incremental reads only
     "window_end": "2026-01-01T00:00:00+00:00"}                          # with scheduleParams

so a resumed read fetches the parent page again, skips the partitions marked done (by value, so a
parent record that moved on that page is still recognised), continues the one in progress at its page,
and reads no child page twice except the one whose checkpoint was not yet saved. ``partitions`` holds
the current parent page's partitions only, so the checkpoint stays the size of one parent page.

Incremental reads keep a cursor per partition (``cursors``, the highest cursor of the child records
read for that parent value); the runner saves it as ``incremental.state`` when the read completes and
each partition's next window starts there. A partition without a cursor starts at the stream's
``last_run`` (state from before per-partition cursors existed) or, once the state has cursors, at the
epoch: a new parent is read in full.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from cdk.declarative.engine import PARENT_PREFIX, StreamPlan, _getter
from cdk.errors import ConfigError, InvalidResponseError, MaximumRequestReached
from cdk.sdk.records import SourceIncrementalState, SourceIteration, SourceRecord

if TYPE_CHECKING:
    from cdk.declarative.engine import DeclarativeSource

log = logging.getLogger("cdk.declarative")
#: child requests one page may make while they return nothing (see :meth:`ChildReader.page`)
EMPTY_RUN = 100


def partition_key(partition: dict[str, Any]) -> str:
    """The canonical text of a partition's values: the key of its state."""
    return json.dumps(partition, sort_keys=True, separators=(",", ":"), default=str)


class ChildReader:
    """Reads a child stream partition by partition; all its state is in the pagination it returns."""

    def __init__(self, source: DeclarativeSource, chain: tuple[str, ...]) -> None:
        self.source = source
        plan = source.plan
        parent = plan.spec.parent
        assert parent is not None  # only built for a stream with parent:
        if parent.stream in chain:
            cycle = " -> ".join((*chain, parent.stream))
            raise ConfigError(
                f"stream '{plan.name}': parent streams form a cycle ({cycle})",
                hint="a stream cannot be its own ancestor; see cdk validate (R031)",
            )
        if parent.stream not in source.declarative.streams:
            raise ConfigError(
                f"stream '{plan.name}': parent stream '{parent.stream}' is not a declarative stream; "
                f"streams: {', '.join(source.declarative.streams)}",
                hint="name a stream under declarative.streams in parent.stream",
            )
        self.parent = source.sibling(parent.stream, chain)
        wrapper = self.parent.plan.key_wrapper
        self.getters: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
            name: (field, _getter(field, wrapper)) for name, field in parent.fields.items()
        }
        for field in plan.parent_refs:
            self.getters.setdefault(PARENT_PREFIX + field, (field, _getter(field, wrapper)))
        self._page_cache: tuple[str, list[tuple[str, dict[str, Any]]], dict[str, Any]] | None = None
        self._plan_cache: tuple[str, StreamPlan] | None = None
        self.skipped = 0

    # -- parent records -> partitions -------------------------------------------------------------
    def partition_of(self, record: SourceRecord) -> dict[str, Any] | None:
        """The values one parent record gives the child's requests; None when a field is missing."""
        out: dict[str, Any] = {}
        for name, (field, get) in self.getters.items():
            value = get(record.data)
            if value is None or value == "":
                self.skipped += 1
                log.warning(
                    "stream '%s': parent record %r of '%s' has no '%s'; its child requests are skipped",
                    self.source.plan.name,
                    record.id,
                    self.parent.plan.name,
                    field,
                )
                return None
            if isinstance(value, (dict, list)):
                raise InvalidResponseError(
                    f"stream '{self.source.plan.name}': field '{field}' of parent record {record.id} "
                    f"(stream '{self.parent.plan.name}') is a {type(value).__name__}, not a value for "
                    f"'{name}'",
                    hint="map a field that holds a string or a number (dotted names reach inside objects)",
                )
            out[name] = value
        return out

    def _parent_page(
        self, parent_at: dict[str, Any] | None
    ) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:
        """The partitions of the parent page fetched at ``parent_at`` (in order, once each) and the
        parent's next pagination; the page is fetched once and kept while the child works through it."""
        where = json.dumps(parent_at, sort_keys=True, default=str)
        if self._page_cache is not None and self._page_cache[0] == where:
            return self._page_cache[1], self._page_cache[2]
        page = self.parent.get(parent_at)
        partitions: dict[str, dict[str, Any]] = {}
        for record in page.records:
            values = self.partition_of(record)
            if values is not None:
                partitions.setdefault(partition_key(values), values)
        listed = list(partitions.items())
        self._page_cache = (where, listed, dict(page.next_pagination or {}))
        return listed, self._page_cache[2]

    def _plan(self, key: str, partition: dict[str, Any]) -> StreamPlan:
        if self._plan_cache is None or self._plan_cache[0] != key:
            self._plan_cache = (key, self.source.plan.for_partition(partition))
        return self._plan_cache[1]

    # -- one page of the child ----------------------------------------------------------------------
    def page(
        self, pagination: dict[str, Any] | None, source_state: SourceIncrementalState | None
    ) -> SourceIteration:
        """The next child page that has records, or the end: partitions with nothing (common in an
        incremental read) are passed over in the same call, at most :data:`EMPTY_RUN` requests, so a
        page of the runner is not a run of empty pages; their completion is in the pagination returned."""
        page = self.step(pagination, source_state)
        for _ in range(EMPTY_RUN - 1):
            if page.records or not page.next_pagination:
                break
            try:
                page = self.step(page.next_pagination, source_state)
            except MaximumRequestReached:  # raised before its request: the next page raises it again,
                break  # after the runner checkpointed the empty partitions passed so far
        return page

    def step(
        self, pagination: dict[str, Any] | None, source_state: SourceIncrementalState | None
    ) -> SourceIteration:
        """One request of the child (after as many parent requests as it takes to find a partition)."""
        from cdk.sdk.runner import EPOCH, parse_instant

        source = self.source
        state = dict(pagination or {})
        incremental = source_state is not None
        own = (source_state.state if source_state is not None else None) or {}
        if "cursors" in state:
            cursors: dict[str, str] = dict(state["cursors"])
        else:
            cursors = dict(own.get("cursors") or {}) if incremental else {}
        window_end = state.get("window_end")
        if window_end is None and (source.plan.schedule is not None or source.plan.dynamic):
            window_end = source._now().isoformat()  # one window for every partition of this read
        parent_at: dict[str, Any] | None = state.get("parent")
        parts: dict[str, dict[str, Any]] = dict(state.get("partitions") or {})

        def finished() -> SourceIteration:
            return SourceIteration(records=[], next_pagination={}, state=self._own(incremental, cursors))

        while True:
            partitions, parent_next = self._parent_page(parent_at)
            todo = [(k, p) for k, p in partitions if not (parts.get(k) or {}).get("done")]
            if todo:
                break
            if not parent_next:
                return finished()
            parent_at, parts = parent_next, {}

        key, values = todo[0]
        entry = parts.get(key) or {}
        child_pagination = entry.get("pagination")
        if child_pagination is None:
            # a partition's pages are their own sequence: a Link seen in another partition (the same
            # parent value again on a later parent page) is no loop
            source._fetched.clear()
        if child_pagination is None and window_end is not None:
            child_pagination = {"window_end": window_end}
        start: datetime | None = None
        if source_state is not None:
            reached = cursors.get(key)
            if reached is not None:
                start = parse_instant(reached)
            start = start or (EPOCH if "cursors" in own else source_state.last_run)
            if start.tzinfo is None:
                start = start.replace(tzinfo=timezone.utc)
        page = source._fetch(self._plan(key, values), child_pagination, start)

        best = entry.get("cursor")
        best_at = parse_instant(best) if best is not None else None
        for record in page.records:
            if record.timestamp is not None and (best_at is None or record.timestamp > best_at):
                best_at = record.timestamp
        if best_at is not None:
            best = best_at.isoformat()

        if page.next_pagination:
            parts[key] = {"pagination": page.next_pagination, **({"cursor": best} if best else {})}
            nxt: dict[str, Any] = {"parent": parent_at, "partitions": parts}
        else:
            parts[key] = {"done": True}
            if incremental and best is not None:
                previous = parse_instant(cursors.get(key)) if key in cursors else None
                if previous is None or (best_at is not None and best_at > previous):
                    cursors[key] = best
            if len(todo) > 1:
                nxt = {"parent": parent_at, "partitions": parts}
            elif parent_next:
                nxt = {"parent": parent_next, "partitions": {}}
            else:
                return SourceIteration(
                    records=page.records, next_pagination={}, state=self._own(incremental, cursors)
                )
        if incremental:
            nxt["cursors"] = cursors
        if window_end is not None:
            nxt["window_end"] = window_end
        return SourceIteration(records=page.records, next_pagination=nxt)

    @staticmethod
    def _own(incremental: bool, cursors: dict[str, str]) -> dict[str, Any] | None:
        return {"cursors": cursors} if incremental else None


__all__ = ["ChildReader", "partition_key"]
