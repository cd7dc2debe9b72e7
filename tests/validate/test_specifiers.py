"""Specifier containment against brute force: every version on a dense grid is checked one by one."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from cdk.validators.specifiers import contained

COMPONENTS = (0, 1, 2, 3)


def _grid() -> list[str]:
    """Every release of 1-3 components over 0..3, each with dev, pre, post and local variants (and a few beyond)."""
    out: list[str] = []
    for n in (1, 2, 3):
        for rel in itertools.product(COMPONENTS, repeat=n):
            base = ".".join(map(str, rel))
            out += [
                base,
                f"{base}.dev0",
                f"{base}a0",
                f"{base}b1",
                f"{base}rc1",
                f"{base}rc1.post1",
                f"{base}.post0",
                f"{base}.post1",
                f"{base}.post1.dev0",
                f"{base}+local",
                f"{base}.5",
                f"{base}.dev1",
                f"{base}a0.dev0",
                f"{base}a1",
                f"{base}.post0.dev0",
                # one step past each generated suffix, so that an exclusive bound on a suffixed version
                # (">1.post1", "<1rc1") always has a grid version just beyond it
                f"{base}.post2",
                f"{base}rc2",
                f"{base}rc1.post2",
                f"{base}a0.post1",
                f"{base}.post1+local",
            ]
    out += ["4", "4.0.1", "10", "99.0", "0.0.0.1", "1!0", "1!1.0"]
    return sorted(set(out), key=Version)


GRID = _grid()
RELEASE = st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=3)
SUFFIX = st.sampled_from(["", "", "", "a0", "rc1", ".post1", ".dev0"])
OPERATOR = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "==*", "!=*"])


@st.composite
def specifier(draw) -> str:
    op = draw(OPERATOR)
    release = draw(RELEASE)
    suffix = draw(SUFFIX)
    if op.endswith("*"):
        return f"{op[:-1]}{'.'.join(map(str, release))}.*"
    if op == "~=" and len(release) < 2:
        release = [*release, 0]
    return f"{op}{'.'.join(map(str, release))}{suffix}"


SPEC_SET = st.lists(specifier(), min_size=0, max_size=3).map(",".join)


def brute_witnesses(inner: str, outer: str) -> list[str]:
    i, o = SpecifierSet(inner), SpecifierSet(outer)
    return [v for v in GRID if i.contains(v) and not o.contains(v)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPEC_SET, SPEC_SET)
def test_containment_agrees_with_enumeration(inner: str, outer: str) -> None:
    result = contained(inner, outer)
    witnesses = brute_witnesses(inner, outer)
    if result.ok:
        # contained: no version on the grid escapes
        assert witnesses == [], (inner, outer, witnesses[:5])
    else:
        # not contained: a version on the grid really escapes, and it lies in the range the message names
        assert witnesses, (inner, outer, result.outside)
        assert result.outside
        rest = SpecifierSet(inner).to_range() - SpecifierSet(outer).to_range()
        assert all(w in rest for w in witnesses)


@settings(max_examples=100, deadline=None)
@given(SPEC_SET)
def test_a_set_contains_itself_and_lies_inside_everything(spec: str) -> None:
    assert contained(spec, spec).ok
    assert contained(spec, "").ok


def test_examples_from_the_issue() -> None:
    assert not contained(">=2.0", ">=2.31,<3").ok
    assert "[2.0, 2.31)" in contained(">=2.0", ">=2.31,<3").outside
    assert not contained("", ">=2.31,<3").ok
    assert contained("~=2.31", ">=2.31,<3").ok
    assert not contained("~=2.0", ">=2.31,<3").ok
    assert not contained("==2.*", ">=2.31,<3").ok
    assert contained("==2.32.*", ">=2.31,<3").ok
    assert contained(">=2.31,!=2.32.0,<3", ">=2.31,<3").ok
    assert contained("===2.32.3", ">=2.31,<3").ok
    assert not contained("===2.0.0", ">=2.31,<3").ok
    assert not contained(">=2.31,<3.0.0rc1", ">=2.31,<3").ok  # admits 3.0.0 pre-releases
    assert contained(">=2.31,<3", ">=2.31,<3,!=2.31.1").ok is False
