"""A schemaParams metadata endpoint that answers badly: every answer is a schema or a clear error, never a traceback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_decl_schema_metadata import MERGE, connector, discover


class Answer:
    """A real HTTP server on 127.0.0.1 whose metadata answer is whatever bytes the test sets."""

    def __init__(self) -> None:
        self.body = b"{}"
        self.content_type = "application/json"
        answer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture()
def answer() -> Iterator[Answer]:
    a = Answer()
    thread = threading.Thread(target=a.server.serve_forever, daemon=True)
    thread.start()
    yield a
    a.server.shutdown()
    a.server.server_close()


def fields(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"merge_fields": list(entries)}).encode()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html>not json</html>", "did not answer JSON"),
        (b"", "did not answer JSON"),
        (b'{"merge_fields": [', "did not answer JSON"),
        (fields({"tag": 5, "type": "text"}), "has no string 'tag'"),
        (b'{"merge_fields": "text"}', "has no string 'tag'"),
        (b"[]", "no field entries"),
    ],
)
def test_a_bad_answer_is_a_clear_error(tmp_path: Path, answer: Answer, body: bytes, says: str) -> None:
    answer.body = body
    code, _, err = discover(connector(tmp_path, answer.url, MERGE))
    assert code == 1, err
    assert says in err and "Traceback" not in err and "internal error" not in err, err


def test_odd_field_names_and_types_become_properties(tmp_path: Path, answer: Answer) -> None:
    answer.body = fields(
        {"tag": "../x", "type": "text"},
        {"tag": "$ref", "type": {"nested": "object"}},
        {"tag": "__proto__", "type": ["int"]},
        {"tag": "BIG", "type": "text", "name": "d" * 10_000_000},
    )
    folder = connector(tmp_path, answer.url, MERGE)
    code, out, err = discover(folder, "--write", "--force")
    assert code == 0, err
    props = out["streams"][0]["schema"]["properties"]["member"]["properties"]["merge_fields"]["properties"]
    assert props["../x"]["type"] == ["string", "null"]
    assert (
        "is not known" in props["$ref"]["description"] and "is not known" in props["__proto__"]["description"]
    )
    assert sorted(p.name for p in (folder / "schemas").iterdir()) == ["members.json"]  # names are no paths
    assert not (tmp_path / "x").exists() and not (folder / "x").exists()


def test_a_field_listed_twice_with_two_types_admits_both_and_says_so(tmp_path: Path, answer: Answer) -> None:
    answer.body = fields(
        {"tag": "AGE", "type": "number"},
        {"tag": "AGE", "type": "text"},
        {"tag": "N", "type": "text"},
        {"tag": "N", "type": "text"},
    )
    code, out, err = discover(connector(tmp_path, answer.url, MERGE))
    assert code == 0, err
    props = out["streams"][0]["schema"]["properties"]["member"]["properties"]["merge_fields"]["properties"]
    assert props["AGE"] == {"anyOf": [{"type": ["number", "null"]}, {"type": ["string", "null"]}]}
    assert props["N"] == {"type": ["string", "null"]}  # the same twice: nothing to say
    assert "lists field 'AGE' twice, with different types" in err and "'N'" not in err
