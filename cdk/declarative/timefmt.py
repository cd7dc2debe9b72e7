""".NET / Java style date formats of the sourceSpec (``yyyy-MM-ddTHH:mm:ssZ``) turned into real timestamps.

A format is compiled once into a list of parts; formatting a datetime then only joins strings. The
instant is converted to UTC first, so ``K``/``Z``/``XXX`` print ``Z`` and the digits are UTC digits.

Tokens: ``yyyy yy MM M dd d HH H hh h mm m ss s`` (date and time), ``f``..``fffffff`` (fraction digits,
.NET; 7 digits = 100 ns ticks), ``F``..``FFFFFFF`` (fraction without trailing zeros), ``S``..``SSSSSSSSS``
(fraction, Java), ``tt`` (AM/PM), ``K`` (``Z`` for UTC), ``zzz``/``XXX`` (``+00:00``; ``XXX`` prints
``Z``), ``zz``/``z``/``X``/``XX``, ``'quoted'`` literals. Any other character is a literal (``T``,
``Z``, ``-``, ``:``). Whole-format keywords: ``epoch`` (seconds), ``epoch_ms``, ``iso8601``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache

_TOKEN = re.compile(
    r"'[^']*'|yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|f{1,7}|F{1,7}|S{1,9}|tt|K|zzz|zz|z|XXX|XX|X|."
)


def _fraction(n: int, trim: bool) -> Callable[[datetime], str]:
    def part(t: datetime) -> str:
        digits = (f"{t.microsecond:06d}000")[:n]
        return digits.rstrip("0") if trim else digits

    return part


_PARTS: dict[str, Callable[[datetime], str]] = {
    "yyyy": lambda t: f"{t.year:04d}",
    "yy": lambda t: f"{t.year % 100:02d}",
    "MM": lambda t: f"{t.month:02d}",
    "M": lambda t: str(t.month),
    "dd": lambda t: f"{t.day:02d}",
    "d": lambda t: str(t.day),
    "HH": lambda t: f"{t.hour:02d}",
    "H": lambda t: str(t.hour),
    "hh": lambda t: f"{(t.hour % 12) or 12:02d}",
    "h": lambda t: str((t.hour % 12) or 12),
    "mm": lambda t: f"{t.minute:02d}",
    "m": lambda t: str(t.minute),
    "ss": lambda t: f"{t.second:02d}",
    "s": lambda t: str(t.second),
    "tt": lambda t: "AM" if t.hour < 12 else "PM",
    "K": lambda t: "Z",
    "zzz": lambda t: "+00:00",
    "zz": lambda t: "+00",
    "z": lambda t: "+0",
    "XXX": lambda t: "Z",
    "XX": lambda t: "Z",
    "X": lambda t: "Z",
}
_KEYWORDS: dict[str, Callable[[datetime], str]] = {
    "epoch": lambda t: str(int(t.timestamp())),
    "epoch_ms": lambda t: str(int(t.timestamp() * 1000)),
    "iso8601": lambda t: t.isoformat().replace("+00:00", "Z"),
}
DEFAULT_FORMAT = "yyyy-MM-ddTHH:mm:ssZ"


@lru_cache(maxsize=64)
def compile_format(fmt: str | None) -> Callable[[datetime], str]:
    """A function that renders an aware (or UTC-naive) datetime in ``fmt``; None means ISO 8601 with Z."""
    fmt = fmt or DEFAULT_FORMAT
    if fmt.lower() in _KEYWORDS:
        keyword = _KEYWORDS[fmt.lower()]
        return lambda t: keyword(_utc(t))
    parts: list[Callable[[datetime], str] | str] = []
    for token in _TOKEN.findall(fmt):
        if token in _PARTS:
            parts.append(_PARTS[token])
        elif token[0] in "fFS" and token == token[0] * len(token):
            parts.append(_fraction(len(token), trim=token[0] == "F"))
        elif len(token) >= 2 and token[0] == token[-1] == "'":
            parts.append(token[1:-1])
        else:
            parts.append(token)

    def render(t: datetime) -> str:
        t = _utc(t)
        return "".join(p if isinstance(p, str) else p(t) for p in parts)

    return render


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def format_instant(t: datetime, fmt: str | None) -> str:
    """Render ``t`` in the sourceSpec format ``fmt`` (UTC)."""
    return compile_format(fmt)(t)
