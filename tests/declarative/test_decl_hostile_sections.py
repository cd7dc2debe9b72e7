"""Hostile ``declarative:`` sections: `cdk validate` reports findings (never an internal error), and
`cdk read` / `cdk discover` refuse a section validate calls wrong before sending any request."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import invoke_cdk

KEYS = [
    "streams", "defaults", "sourceSpec", "attributes", "spec", "urlParams", "host", "path", "method",
    "queryParams", "headerParams", "bodyParams", "contentPath", "explodeEntityPath", "paginationParams",
    "scheduleParams", "schemaParams", "schema", "primaryKey", "cursorField", "parent", "stream", "fields",
    "type", "limitName", "limitValue", "offSetName", "endConditionName", "endConditionValue", "pointerPath",
    "continuationTokenPath", "parameterType", "parameterName", "maximumRequest", "endPageIndex",
    "pageParamName", "fieldsPath", "typeMap", "target", "properties", "skipAttributes", "keepAttributes",
    "overrideWrapperAttribute", "incremental", "backfill", "paramFormat", "ui", "items", "$ref",
]  # fmt: skip
TEXTS = [
    "OFFSET", "POINTER", "PAGE", "LINK", "NONE", "CONTINUATION_TOKEN", "ADVANCE", "BODYPARAM", "POST", "GET",
    "$.items", "$..x", "$[", "$[?bad", "${x}", "{x}", "${parent.id}", "@{if(x)}", "@{utcnow()}", "@{nofunc()}",
    "@@{", "http://127.0.0.1:1", "https://{domain}.x.com", "{SCHEDULE_QUERY}", "headers.x", "Const:null",
    "schemas/x.json", "../../etc/passwd", "", "a" * 300,
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.sampled_from(TEXTS),
    st.text(max_size=20),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=30,
)
VALID: dict[str, Any] = {
    "spec": {"type": "object", "properties": {"port": {"type": "integer"}}, "required": ["port"]},
    "defaults": {
        "urlParams": {"host": "http://127.0.0.1:${port}"},
        "contentPath": {"path": "$.items"},
        "paginationParams": {
            "type": "OFFSET",
            "limitName": "limit",
            "limitValue": 100,
            "offSetName": "offset",
            "endConditionName": "$.done",
            "endConditionValue": True,
        },
    },
    "streams": {
        "items": {"urlParams": {"path": "/items"}},
        "details": {
            "urlParams": {"path": "/items/${parent.id}"},
            "parent": {"stream": "items", "fields": {"itemId": "id"}},
        },
    },
}


def _paths(node: Any, at: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*at, key))
    return out


PATHS = _paths(VALID)


def mutate(path: tuple[str, ...], value: Any) -> Any:
    if not path:
        return value
    section = copy.deepcopy(VALID)
    node = section
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return section


def write(
    folder: Path, section: Any, streams: list[dict[str, Any]] | None = None, *, incremental: bool = True
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "manifest_version": 1,
        "name": "hostile",
        "version": "0.1.0",
        "kind": "source",
        "capabilities": ["batch_extract", "incremental"] if incremental else ["batch_extract"],
        "allowed_hosts": ["127.0.0.1"],
        "declarative": section,
    }
    if streams is not None:
        manifest["streams"] = streams
    (folder / "connector.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return folder


def assert_validate_answers(folder: Path) -> None:
    result = invoke_cdk("validate", str(folder), text=True)
    assert result.returncode in (0, 1, 2), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert " Y003 " not in result.stdout, result.stdout  # a suite that crashed, reported as a finding


STREAMS = st.sampled_from([None, [{"name": "items"}], [{"name": "items"}, {"name": "details"}]])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(section=VALUES, streams=STREAMS)
def test_validate_answers_any_section(
    tmp_path_factory: pytest.TempPathFactory, section: Any, streams: Any
) -> None:
    assert_validate_answers(write(tmp_path_factory.mktemp("v"), section, streams))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), value=VALUES, streams=STREAMS)
def test_validate_answers_any_mutation_of_a_valid_section(
    tmp_path_factory: pytest.TempPathFactory, path: tuple[str, ...], value: Any, streams: Any
) -> None:
    assert_validate_answers(write(tmp_path_factory.mktemp("m"), mutate(path, value), streams))


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (
            ("defaults",),
            [{"urlParams": {"path": "/x"}}],
            "declarative.defaults: Input should be a valid dictionary",
        ),
        (("spec", "properties"), ["port"], "declarative.spec: Value error, properties must be a mapping"),
        (
            ("spec", "required"),
            [{"port": 1}],
            "declarative.spec: Value error, required must be a list of input names",
        ),
    ],
)
def test_a_malformed_defaults_or_spec_is_r001_and_read_refuses_it(
    tmp_path: Path, path: tuple[str, ...], value: Any, says: str
) -> None:
    folder = write(
        tmp_path / "c", mutate(path, value), [{"name": "items"}, {"name": "details"}], incremental=False
    )
    (folder / "config.json").write_text(json.dumps({"name": "h", "port": 1}))
    result = invoke_cdk("validate", str(folder), text=True)
    assert result.returncode == 1 and f"R001 {says}" in result.stdout, result.stdout
    assert " Y003 " not in result.stdout
    read = cdk(folder, "read", "--config", "config.json", "--stream", "items")
    assert read.returncode == 1 and "does not fit the sourceSpec" in read.stderr, read.stderr
    assert "internal error" not in read.stderr


class Counting:
    """A real API on 127.0.0.1 that answers every request with one page and counts them."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                seen.append(self.path)
                body = json.dumps({"items": [{"id": 1}], "done": True, "f": [{"name": "a"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]


@pytest.fixture(scope="module")
def api() -> Iterator[Counting]:
    counting = Counting()
    thread = threading.Thread(target=counting.server.serve_forever, daemon=True)
    thread.start()
    yield counting
    counting.server.shutdown()
    counting.server.server_close()


def cdk(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdk", *args], cwd=folder, capture_output=True, text=True, timeout=120
    )


BROKEN = {
    "R002": (("defaults", "paginationParams", "offSetName"), None),
    "R003-content": (("defaults", "contentPath", "path"), "$[?bad"),
    "R003-end": (("defaults", "paginationParams", "endConditionName"), "$[?bad"),
    "R003-pointer": (("defaults", "paginationParams"), {"type": "POINTER", "pointerPath": "$[?bad"}),
    "R004": (("streams", "items", "urlParams", "path"), "/items/${nope}"),
    "R007": (("streams", "items", "urlParams", "path"), "@{nofunc(1)}"),
    "R008": (("streams", "items", "explodeEntityPath"), {"path": "$..x"}),
    "R010": (("streams", "items", "scheduleParams"), {"type": "ADVANCE"}),
    "R017": (("defaults", "paginationParams", "parameterType"), "BODYPARAM"),
    "R030": (("streams", "details", "parent", "stream"), "nope"),
    "R031": (("streams", "items", "parent"), {"stream": "details"}),
    "R034": (("streams", "items", "urlParams", "path"), "/items/${parent.id}"),
    "R001": (("streams", "items", "urlParams", "method"), "DELETE"),
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_read_refuses_what_validate_calls_an_error_before_any_request(
    tmp_path: Path, api: Counting, rule: str
) -> None:
    path, value = BROKEN[rule]
    section = mutate(path, value)
    if value is None:
        node = section
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    folder = write(tmp_path / "c", section, [{"name": "items"}, {"name": "details"}], incremental=False)
    (folder / "config.json").write_text(json.dumps({"name": "h", "port": api.port}))
    validate = invoke_cdk("validate", str(folder), "--format", "json", text=True)
    assert validate.returncode == 1 and rule.split("-")[0] in validate.stdout, validate.stdout
    before = len(api.requests)
    stream = path[1] if path[0] == "streams" else "items"  # the stream the broken part belongs to
    for args in (("read", "--config", "config.json", "--stream", stream), ("discover",)):
        if args[0] == "discover" and rule not in ("R001", "R003-content"):
            continue  # discover needs no request parts: only what shapes the schema
        result = cdk(folder, *args)
        assert result.returncode != 0, (args, result.stdout)
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert len(api.requests) == before  # refused before anything was sent


def test_discover_refuses_a_fields_path_that_does_not_parse_before_the_metadata_request(
    tmp_path: Path, api: Counting
) -> None:
    section = mutate(("streams", "items", "schemaParams"), {"path": "/meta", "fieldsPath": "$[?bad"})
    streams = [{"name": "items"}, {"name": "details"}]
    folder = write(tmp_path / "c", section, streams, incremental=False)
    (folder / "config.json").write_text(json.dumps({"name": "h", "port": api.port}))
    before = len(api.requests)
    result = cdk(folder, "discover", "--config", "config.json")
    assert result.returncode == 1, result.stdout
    assert "schemaParams.fieldsPath: JSONPath '$[?bad' does not parse" in result.stderr
    assert len(api.requests) == before
    # the same endpoint with a good path works (the server is there: the refusal was the path's)
    good = mutate(("streams", "items", "schemaParams"), {"path": "/meta", "fieldsPath": "$.f"})
    write(folder, good, streams, incremental=False)
    result = cdk(folder, "discover", "--config", "config.json")
    assert result.returncode == 0, result.stderr
    assert len(api.requests) == before + 1
