"""Fuzz every loader and importer of cdk: whatever the input, it ends in data or in our own error type
(a located :class:`cdk.errors.CdkError`, or a SyntaxError for Python source that the validate engine turns
into a Y001 finding) — never RecursionError, MemoryError, UnicodeDecodeError, KeyError, "internal error".

The budget is fixed and the run derandomized, so CI is deterministic: ``CDK_FUZZ_EXAMPLES`` examples per
loader (default 2,000; each test asserts that many really ran). Inputs come from grammar-aware token
soups (the characters that make YAML, JSON, TOML and Python interesting: anchors, aliases, tags, merge
keys, deep nesting, huge numbers, NUL, BOM, surrogates) mixed with well-formed documents and mutations.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdk.errors import CdkError

EXAMPLES = int(os.environ.get("CDK_FUZZ_EXAMPLES", "2000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)

YAML_TOKENS = [
    "a",
    "name",
    "b: ",
    "x:",
    ": ",
    " ",
    "  ",
    "\n",
    "\n  ",
    "- ",
    "-",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!!python/object:os.system ",
    "!!set ",
    "!!omap ",
    "!foo ",
    "<<: ",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    '"',
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "\t",
    "9" * 30,
    "9" * 5000,
    "1e999",
    ".nan",
    "0x1F",
    "0o17",
    "2020-01-01",
    "2020-13-45T99:99:99",
    "\x00",
    "\x07",
    "\ufeff",
    "é",
    "\ud800",
    "|",
    ">",
    "#c",
    "null",
    "~",
    "true",
    "\\",
    "%",
    "@",
    "`",
]
JSON_TOKENS = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    '"a"',
    '"b"',
    '"\\ud800"',
    '"\\u0000"',
    "1",
    "-0",
    "1e999",
    "9" * 5000,
    "NaN",
    "Infinity",
    "true",
    "null",
    " ",
    "\n",
    '"',
    "\\",
    "é",
    "\x00",
    "[" * 2000,
    "]" * 2000,
]
TOML_TOKENS = [
    "[project]\n",
    "[tool.cdk]\n",
    "[[a]]\n",
    "name",
    " = ",
    '"x"',
    "'x'",
    '"""',
    "1",
    "9" * 5000,
    "1979-05-27",
    "inf",
    "nan",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    ".",
    "a.b",
    "#",
    "\x00",
    "\\",
    "é",
    "[" * 600,
    "]" * 600,
    "dependencies = ",
    '"requests>=2"',
    "version = ",
    '"1.0.0"',
]
PY_TOKENS = [
    "import ",
    "os",
    "from ",
    " import ",
    "x",
    " = ",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "\n",
    "    ",
    "def f",
    "class C",
    "lambda: ",
    "eval",
    "exec",
    "getattr",
    "__import__",
    "'",
    '"',
    '"""',
    "f'",
    "{x}",
    ".",
    ",",
    "*",
    "**",
    "@",
    "-",
    "+",
    "not ",
    "a" * 300,
    "9" * 5000,
    "\x00",
    "\\",
    "é",
    "\ufeff",
    "# cdk: ignore[S001]",
    "requests.get(",
    "'http://x'",
    "async ",
    "await ",
    "match x:",
    "case ",
    "yield",
    "global ",
    "del ",
    "with open('f') as f",
    "(" * 300,
    ".b" * 300,
]


def soup(tokens: list[str], max_size: int = 60) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(tokens), max_size=max_size).map("".join)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)


def run_fuzz(strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> int:
    calls = 0

    @FUZZ
    @given(strategy)
    def run(value: Any) -> None:
        nonlocal calls
        calls += 1
        check(value)

    run()
    return calls


def ours(fn: Callable[[], Any], *also: type[BaseException]) -> None:
    """Run ``fn``; our own error types are fine, anything else fails the test (hypothesis shrinks it)."""
    try:
        fn()
    except (CdkError, *also):
        pass


def test_fuzz_yaml_loader() -> None:
    from cdk.yamlio import Limits, parse_yaml

    small = Limits(max_depth=16, max_nodes=5000, max_bytes=64 * 1024)

    def check(text: str) -> None:
        ours(lambda: parse_yaml(text, "f.yaml"))
        ours(lambda: parse_yaml(text, "f.yaml", limits=small))

    strategy = soup(YAML_TOKENS) | st.text(max_size=200) | json_values.map(lambda v: json.dumps(v))
    assert run_fuzz(strategy, check) >= EXAMPLES


MANIFEST = {
    "manifest_version": 1,
    "name": "fuzz",
    "version": "1.0.0",
    "kind": "source",
    "capabilities": ["batch_extract"],
    "entrypoint": "fuzz.source:Source",
    "streams": [{"name": "items", "primary_key": ["id"]}],
    "allowed_hosts": ["api.example.com"],
}


def test_fuzz_manifest_loader() -> None:
    import yaml

    from cdk.manifest import manifest_from_data, parse_yaml_with_positions

    def check(doc: str) -> None:
        def load() -> None:
            data, positions = parse_yaml_with_positions(doc, "connector.yaml")
            manifest_from_data(data, positions, "connector.yaml")

        ours(load)

    mutated = st.builds(
        lambda key, value, drop: {**{k: v for k, v in MANIFEST.items() if k != drop}, key: value},
        st.sampled_from([*MANIFEST, "config", "ui", "declarative", "streams", "x"]),
        json_values,
        st.sampled_from([None, *MANIFEST]),
    ).map(lambda d: yaml.safe_dump(d, sort_keys=False))
    strategy = mutated | st.builds(
        lambda base, extra: base + extra,
        st.just(yaml.safe_dump(MANIFEST, sort_keys=False)),
        soup(YAML_TOKENS, 20),
    )
    assert run_fuzz(strategy, check) >= EXAMPLES


def test_fuzz_json_loader() -> None:
    from cdk.fsutil import parse_json

    strategy = soup(JSON_TOKENS) | st.text(max_size=200) | json_values.map(json.dumps)
    assert run_fuzz(strategy, lambda text: ours(lambda: parse_json(text, "x.json"))) >= EXAMPLES


def test_fuzz_toml_and_pyproject_loader(tmp_path: Path) -> None:
    from cdk.fsutil import parse_toml
    from cdk.project import Project

    (tmp_path / "connector.yaml").write_text(json.dumps(MANIFEST))

    def check(text: str) -> None:
        ours(lambda: parse_toml(text, "pyproject.toml"))
        try:
            (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
        except UnicodeEncodeError:
            return
        project = Project.load(tmp_path)
        ours(lambda: project.pyproject)

    assert run_fuzz(soup(TOML_TOKENS) | st.text(max_size=200), check) >= EXAMPLES


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # invalid escapes in generated code
def test_fuzz_python_source_through_validate_code() -> None:
    """What `cdk serve` validates: any code string gives a report, and no suite fails on it (Y003)."""
    from cdk.validators.engine import validate_code

    def check(code: str) -> None:
        report = validate_code(code)
        crashed = [f for f in report.findings if f.rule == "Y003"]
        assert not crashed, crashed

    assert run_fuzz(soup(PY_TOKENS, 40) | st.text(max_size=120), check) >= EXAMPLES


def test_fuzz_config_file_reader(tmp_path: Path) -> None:
    from cdk.connector import read_config_file

    def check(args: tuple[str, str]) -> None:
        suffix, text = args
        path = tmp_path / f"config{suffix}"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        ours(lambda: read_config_file(path))

    strategy = st.tuples(
        st.sampled_from([".json", ".yaml"]),
        soup(JSON_TOKENS) | soup(YAML_TOKENS) | json_values.map(json.dumps),
    )
    assert run_fuzz(strategy, check) >= EXAMPLES


SPEC = {
    "name": "Fuzz API",
    "sourceSpec": {
        "attributes": {
            "urlParams": {"host": "https://api.example.com", "path": "/v1/items", "method": "GET"},
            "contentPath": {"path": "$.items", "type": "JSON"},
            "paginationParams": {"type": "NONE"},
        }
    },
}


def _mutate(doc: Any, path: list[Any], value: Any) -> Any:
    """``doc`` with the value at ``path`` (as far as it exists) replaced by ``value``."""
    if not path or not isinstance(doc, dict | list):
        return value
    out = json.loads(json.dumps(doc))
    here = out
    for i, step in enumerate(path):
        keys = list(here) if isinstance(here, dict) else list(range(len(here)))
        if not keys:
            break
        key = keys[step % len(keys)]
        if i == len(path) - 1 or not isinstance(here[key], dict | list):
            here[key] = value
            break
        here = here[key]
    return out


@pytest.mark.filterwarnings("ignore")
def test_fuzz_source_spec_importer(tmp_path: Path) -> None:
    from cdk.declarative.importer import import_source_spec

    spec_path = tmp_path / "spec.json"

    def check(doc: Any) -> None:
        text = doc if isinstance(doc, str) else json.dumps(doc)
        spec_path.write_bytes(text.encode("utf-8", "surrogatepass"))
        ours(lambda: import_source_spec(spec_path, tmp_path / "out", force=True))

    mutations = st.builds(
        _mutate, st.just(SPEC), st.lists(st.integers(0, 10), min_size=1, max_size=5), json_values
    )
    keys = st.sampled_from(
        [
            "urlParams",
            "contentPath",
            "paginationParams",
            "headerParams",
            "bodyParams",
            "scheduleParams",
            "authSpec",
            "userSpec",
            "host",
            "path",
            "type",
            "schema",
            "ui",
            "limitValue",
            "explodeEntityPath",
        ]
    )
    added = st.builds(
        lambda key, value, at: (
            _mutate(SPEC, [1, 0, at], {**SPEC["sourceSpec"]["attributes"], key: value})
            if at >= 0
            else {**SPEC, key: value}
        ),
        keys,
        json_values,
        st.integers(-1, 0),
    )
    strategy = mutations | added | soup(JSON_TOKENS, 30)
    assert run_fuzz(strategy, check) >= EXAMPLES
