"""Connector versions: strict semver in, PEP 440 out, bumps and ordering (issue 6, step 1).

Why not just ``packaging.version.Version``: it accepts too much. ``1.4.2-1`` parses as a post-release
that sorts *after* 1.4.2, ``1.4.2+build.5`` is a local version that registries reject, and ``v1.4.2``
is silently normalised. A connector version is exactly ``MAJOR.MINOR.PATCH`` with an optional
``-alpha.N``, ``-beta.N`` or ``-rc.N``; everything else is refused with an example of a valid one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cdk.errors import VersionRefused
from cdk.manifest import SEMVER_RE

Bump = Literal["patch", "minor", "major"]
BUMPS: tuple[Bump, ...] = ("patch", "minor", "major")
_PRE_RANK = {"alpha": 0, "beta": 1, "rc": 2}
_PEP440_PRE = {"alpha": "a", "beta": "b", "rc": "rc"}
_FROM_PEP440_PRE = {"a": "alpha", "b": "beta", "rc": "rc"}
EXAMPLE = "1.4.2 or 2.0.0-rc.1"


@dataclass(frozen=True)
class Version:
    """``MAJOR.MINOR.PATCH[-(alpha|beta|rc).N]``; ordered as semver (and as PEP 440) orders it."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, int] | None = None

    # --- text forms -------------------------------------------------------------------------
    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}.{self.patch}"
        return f"{base}-{self.pre[0]}.{self.pre[1]}" if self.pre else base

    @property
    def pep440(self) -> str:
        """The form that goes into the wheel: 2.0.0-rc.1 -> 2.0.0rc1."""
        base = f"{self.major}.{self.minor}.{self.patch}"
        return f"{base}{_PEP440_PRE[self.pre[0]]}{self.pre[1]}" if self.pre else base

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    @property
    def is_prerelease(self) -> bool:
        return self.pre is not None

    # --- ordering ---------------------------------------------------------------------------
    def _key(self) -> tuple[int, int, int, int, int, int]:
        if self.pre is None:
            return (*self.release, 1, 0, 0)
        return (*self.release, 0, _PRE_RANK[self.pre[0]], self.pre[1])

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Version) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: Version) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: Version) -> bool:
        return self._key() >= other._key()

    # --- bumps ------------------------------------------------------------------------------
    def bump(self, part: Bump) -> Version:
        """The next version. A pre-release bumps to its own release where that is the bump asked
        for (2.0.0-rc.1 + major -> 2.0.0, 1.3.0-beta.2 + minor -> 1.3.0, 1.2.3-rc.1 + patch -> 1.2.3),
        as npm and semver tools do."""
        if part == "major":
            if self.pre and self.minor == 0 and self.patch == 0:
                return Version(self.major, 0, 0)
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            if self.pre and self.patch == 0:
                return Version(self.major, self.minor, 0)
            return Version(self.major, self.minor + 1, 0)
        if part == "patch":
            if self.pre:
                return Version(*self.release)
            return Version(self.major, self.minor, self.patch + 1)
        raise ValueError(f"unknown bump {part!r}")

    def allows_breaking_change_from(self, old: Version) -> bool:
        """Whether going from ``old`` to ``self`` may break users: a major bump (a minor bump while
        0.x); or finishing a pre-release line (2.0.0-rc.1 -> 2.0.0 may still change)."""
        if old.pre and self.release == old.release:
            return True
        if old.major == 0 and self.major == 0:
            return self.minor > old.minor
        return self.major > old.major


def required_bump_for_breaking(old: Version) -> Bump:
    """The bump a breaking change needs after ``old``: major, or minor while 0.x."""
    return "minor" if old.major == 0 else "major"


def parse_version(text: str) -> Version:
    """Parse a connector version or raise :class:`VersionRefused` explaining what is wrong."""
    raw = text
    text = text.strip() if isinstance(text, str) else str(text)
    m = SEMVER_RE.match(text)
    if m:
        major, minor, patch, pre, pre_n = m.groups()
        return Version(int(major), int(minor), int(patch), (pre, int(pre_n)) if pre else None)
    raise VersionRefused(
        f"{raw!r} is not a connector version: {_why(text)}",
        hint=f"use MAJOR.MINOR.PATCH with an optional -alpha.N, -beta.N or -rc.N, e.g. {EXAMPLE}",
    )


def _why(text: str) -> str:
    """A precise reason for the common near-misses (each is accepted, differently, by packaging)."""
    if re.match(r"^[vV]\d", text):
        return f"no 'v' prefix (write {text[1:]!r}; the git tag gets the 'v')"
    if "+" in text:
        return "build metadata ('+...') is a local version that package registries reject"
    if re.match(r"^\d+\.\d+\.\d+-\d+$", text):
        return "'-N' would be read as a post-release that sorts after the release; use -alpha.N, -beta.N or -rc.N"
    if re.match(r"^\d+\.\d+\.\d+-?(a|b|c|rc|alpha|beta|pre|preview|dev)\.?\d*$", text, re.I):
        return "pre-releases are written -alpha.N, -beta.N or -rc.N (e.g. 2.0.0-rc.1)"
    if re.match(r"^\d+(\.\d+)?$", text):
        return "all three parts MAJOR.MINOR.PATCH are required"
    if re.match(r"^\d+\.\d+\.\d+\.\d+", text):
        return "exactly three parts MAJOR.MINOR.PATCH"
    if re.search(r"(^|\.)0\d", text):
        return "no leading zeros in a number"
    return "expected MAJOR.MINOR.PATCH"


def from_pep440(text: str) -> Version | None:
    """A registry's (PEP 440) version as a connector Version, or None when it is not one we make."""
    m = re.match(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:(a|b|rc)(0|[1-9]\d*))?$", text.strip())
    if not m:
        return None
    major, minor, patch, pre, n = m.groups()
    return Version(int(major), int(minor), int(patch), (_FROM_PEP440_PRE[pre], int(n)) if pre else None)


def latest(versions: Iterable[str]) -> str | None:
    """The greatest of some PEP 440 version strings (any a registry holds), or None."""
    from packaging.version import InvalidVersion
    from packaging.version import Version as Pep440

    best: tuple[Pep440, str] | None = None
    for v in versions:
        try:
            parsed = Pep440(v)
        except InvalidVersion:
            continue
        if best is None or parsed > best[0]:
            best = (parsed, v)
    return best[1] if best else None


def is_greater(new: Version, published: str) -> bool:
    """Whether ``new`` sorts after a published PEP 440 version (PEP 440 ordering, as pip resolves)."""
    from packaging.version import Version as Pep440

    return Pep440(new.pep440) > Pep440(published)


def resolve(spec: str, *, published_latest: str | None, current: str) -> Version:
    """``VERSION`` or ``patch|minor|major``: bumps start from the latest published version, else from
    the manifest's current version."""
    if spec in BUMPS:
        base = from_pep440(published_latest) if published_latest else None
        if base is None:
            base = parse_version(current)
        return base.bump(spec)
    return parse_version(spec)
