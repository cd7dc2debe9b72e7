"""When ``cdk test`` records HTTP, and what one cassette does with it.

:class:`RecordMode` is what the user chooses (``cdk test --record[=MODE]``, pytest ``--cdk-record``),
modelled on vcrpy's ``RecordMode``: a ``str`` enum, so ``RecordMode("all") == "all"``, whose bad values
are refused with an error naming the value and the allowed ones. ``none`` and ``all`` mean what they
mean in vcrpy; ``missing`` is vcrpy's ``once`` (record a test only when it has no cassette yet), named
for what it does.

:class:`CassetteMode` is what one cassette does, decided per test from the record mode
(:meth:`RecordMode.records`: a cassette records or replays); ``block`` is for a test that has no
cassette at all during replay.

Imported by the pytest plugin on every pytest run: standard library and :mod:`cdk.errors` only.
"""

from __future__ import annotations

from enum import Enum

from cdk.errors import InvalidModeError


class _Mode(str, Enum):
    """A ``str`` enum whose unknown values raise :class:`InvalidModeError` naming the allowed ones."""

    @classmethod
    def _missing_(cls, value: object) -> _Mode:
        allowed = ", ".join(m.value for m in cls)
        raise InvalidModeError(
            f"{value!r} is not a {cls._label()}; expected one of: {allowed}",
            hint=cls._hint(),
        )

    @classmethod
    def _label(cls) -> str:
        return "mode"

    @classmethod
    def _hint(cls) -> str | None:
        return None

    def __str__(self) -> str:
        return str(self.value)


class RecordMode(_Mode):
    """Which tests record against the live API (the rest replay their cassettes, offline)."""

    NONE = "none"  # replay every test; the network is blocked (the default)
    ALL = "all"  # record every selected test afresh, replacing its cassette
    MISSING = "missing"  # record only the tests without a cassette (vcrpy: once)

    @classmethod
    def _label(cls) -> str:
        return "record mode"

    @classmethod
    def _hint(cls) -> str:
        return "`cdk test --record` records every test, `cdk test --record=missing` only new ones"

    def records(self, cassette_exists: bool) -> bool:
        """Whether a test whose cassette does (not) exist records in this mode."""
        return self is RecordMode.ALL or (self is RecordMode.MISSING and not cassette_exists)


class CassetteMode(_Mode):
    """What one cassette does with the requests of its test."""

    REPLAY = "replay"  # answer from the recordings; any other request and any socket fail
    RECORD = "record"  # send to the network and keep the (redacted) interactions
    BLOCK = "block"  # no cassette: requests pass only to loopback (local fakes), never to the network

    @classmethod
    def _label(cls) -> str:
        return "cassette mode"


__all__ = ["CassetteMode", "RecordMode"]
