"""Containment of PEP 440 specifier sets: does every version a requirement admits lie in the allowed range?

This is set containment over versions, not string comparison: both sets become unions of version
intervals (``packaging.ranges.VersionRange``, which applies PEP 440's rules for ``~=``, ``==2.*``,
``!=``, local versions, post-releases after ``>V`` and pre-releases before ``<V``), and the requirement
is contained when its difference with the allowed range is empty. ``===`` admits one literal string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet


@dataclass(frozen=True)
class Containment:
    """Whether ``inner`` lies inside ``outer``; when not, ``outside`` describes the versions that escape."""

    ok: bool
    outside: str = ""


def _arbitrary(spec: SpecifierSet) -> str | None:
    for s in spec:
        if s.operator == "===":
            return s.version
    return None


def contained(inner: str | SpecifierSet, outer: str | SpecifierSet) -> Containment:
    """Is every version admitted by ``inner`` also admitted by ``outer``? Raises InvalidSpecifier."""
    inner = inner if isinstance(inner, SpecifierSet) else SpecifierSet(str(inner))
    outer = outer if isinstance(outer, SpecifierSet) else SpecifierSet(str(outer))
    if inner.is_unsatisfiable():
        return Containment(True)
    literal = _arbitrary(inner)
    if literal is not None:
        # ===X admits at most the literal string X (and only if the rest of the set admits it)
        ok = (
            outer.contains(literal)
            if _arbitrary(outer) is None
            else any(s.operator == "===" and s.version.lower() == literal.lower() for s in outer)
        )
        return Containment(ok, "" if ok else f"==={literal}")
    if _arbitrary(outer) is not None:
        return Containment(False, str(inner) or "any version")
    rest = inner.to_range() - outer.to_range()
    if rest.is_empty:
        return Containment(True)
    text = repr(rest)
    if "'" in text:  # <VersionRange '[2.0, 2.31) | [3.dev0, +inf)'>
        text = re.sub(r"\[[A-Z_]+\]", "", text.split("'")[1])  # drop markers such as [AFTER_LOCALS]
    return Containment(False, text)


def parse_specifier(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None
