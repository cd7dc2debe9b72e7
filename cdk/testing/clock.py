"""The clock a connector sees under ``cdk test``: wall time frozen at the instant of the recording.

A connector asks its session's clock for "now" (schedule windows, ``{END_TIME}``, ``before_last_changed``
in declarative sources). While recording, that instant is taken once when the test starts and stored
in the test's cassette (``"clock": {"now": ...}``); on replay the connector's clock shows the same
instant again, however much later (or on whichever machine) the replay runs, so every request that
depends on the time is the one recorded.

Only wall time is frozen. Sleeps stay real while recording (a live API's ``Retry-After`` is honoured)
and are virtual on replay (remembered in ``sleeps``, never waited), as before.
"""

from __future__ import annotations

import time

from cdk.sdk.http import Clock, VirtualClock


class FrozenClock(Clock):
    """Recording: "now" is the instant the test started; sleeping really sleeps."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def time(self) -> float:
        return self.now


class FrozenVirtualClock(VirtualClock):
    """Replay: "now" is the recorded instant, sleeps are only counted."""

    def __init__(self, now: float | None = None) -> None:
        super().__init__(start=now)
        self.now = self._now

    def time(self) -> float:
        return self.now


__all__ = ["FrozenClock", "FrozenVirtualClock"]
