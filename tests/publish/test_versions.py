"""Connector versions: what is accepted, what is refused (with why), bumps and ordering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version as Pep440

from cdk.errors import VersionRefused
from cdk.publish.versions import (
    Version,
    from_pep440,
    latest,
    parse_version,
    resolve,
)

nums = st.integers(min_value=0, max_value=10_000)
pres = st.one_of(st.none(), st.tuples(st.sampled_from(["alpha", "beta", "rc"]), nums))
versions = st.builds(Version, nums, nums, nums, pres)


@pytest.mark.parametrize(
    ("text", "pep440"),
    [
        ("1.4.2", "1.4.2"),
        ("2.0.0-rc.1", "2.0.0rc1"),
        ("0.1.0-alpha.0", "0.1.0a0"),
        ("3.2.1-beta.7", "3.2.1b7"),
    ],
)
def test_valid_versions_and_their_pep440_form(text: str, pep440: str) -> None:
    v = parse_version(text)
    assert str(v) == text
    assert v.pep440 == pep440
    assert from_pep440(pep440) == v


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.4.2-1", "post-release"),
        ("1.4.2+build.5", "local version"),
        ("v1.4.2", "no 'v' prefix"),
        ("1.4", "all three parts"),
        ("1.4.2.0", "exactly three parts"),
        ("01.4.2", "leading zeros"),
        ("2.0.0rc1", "-rc.N"),
        ("2.0.0-pre.1", "-rc.N"),
        ("1.4.2-rc", "-rc.N"),
        ("", "MAJOR.MINOR.PATCH"),
        ("latest", "MAJOR.MINOR.PATCH"),
    ],
)
def test_refused_versions_say_why_and_give_an_example(text: str, reason: str) -> None:
    with pytest.raises(VersionRefused) as info:
        parse_version(text)
    assert reason in info.value.message
    assert "1.4.2" in (info.value.hint or "")
    assert info.value.exit_code == 1


@pytest.mark.parametrize(
    ("start", "part", "expected"),
    [
        ("1.4.2", "patch", "1.4.3"),
        ("1.4.2", "minor", "1.5.0"),
        ("1.4.2", "major", "2.0.0"),
        ("2.0.0-rc.1", "major", "2.0.0"),
        ("2.0.0-rc.1", "patch", "2.0.0"),
        ("1.3.0-beta.2", "minor", "1.3.0"),
        ("1.2.3-rc.1", "minor", "1.3.0"),
        ("1.2.3-rc.1", "major", "2.0.0"),
    ],
)
def test_bumps(start: str, part: str, expected: str) -> None:
    assert str(parse_version(start).bump(part)) == expected  # type: ignore[arg-type]


@given(versions)
def test_text_round_trips(v: Version) -> None:
    assert parse_version(str(v)) == v
    assert from_pep440(v.pep440) == v
    assert str(Pep440(v.pep440)) == v.pep440  # already normalised: what registries will show


@given(versions, versions)
def test_ordering_agrees_with_pep440(a: Version, b: Version) -> None:
    assert (a < b) == (Pep440(a.pep440) < Pep440(b.pep440))
    assert (a == b) == (Pep440(a.pep440) == Pep440(b.pep440))


@given(versions, st.sampled_from(["patch", "minor", "major"]))
def test_a_bump_always_moves_forward(v: Version, part: str) -> None:
    assert v.bump(part) > v  # type: ignore[arg-type]


def test_breaking_changes_need_major_or_minor_while_zero() -> None:
    p = parse_version
    assert p("2.0.0").allows_breaking_change_from(p("1.4.2"))
    assert not p("1.5.0").allows_breaking_change_from(p("1.4.2"))
    assert p("0.3.0").allows_breaking_change_from(p("0.2.5"))
    assert not p("0.2.6").allows_breaking_change_from(p("0.2.5"))
    assert p("2.0.0").allows_breaking_change_from(p("2.0.0-rc.1"))


def test_resolve_bumps_from_the_latest_published_else_the_manifest() -> None:
    assert str(resolve("minor", published_latest="1.4.2", current="0.1.0")) == "1.5.0"
    assert str(resolve("patch", published_latest=None, current="0.1.0")) == "0.1.1"
    assert str(resolve("major", published_latest="2.0.0rc1", current="1.0.0")) == "2.0.0"
    assert latest(["1.4.2", "1.10.0", "1.9.9", "2.0.0rc1", "garbage"]) == "2.0.0rc1"
