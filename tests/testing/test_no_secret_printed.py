"""Nothing leaked (issue 19 items 4-5): a test failing during `cdk test --record` against an API that
echoes the live secret prints it nowhere (console, captured output and logs, junit.xml, the JSON report,
any file written), in any spelling; and the vocabulary masks the spellings real APIs use."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from cdk.secrets import Secret
from cdk.testing.cassettes import Cassette, decode_body, encode_body
from cdk.testing.demo_api import DemoAPI
from cdk.testing.redact import Redactor
from tests.testing.conftest import copy_connector, run_cdk, write_json

TOKEN = "tok_Sup3r+Secret/Value=42&<x>"


def spellings_of(secret: str) -> list[str]:
    low = lambda t: re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), t)  # noqa: E731
    raw = secret.encode()
    json_escaped = json.dumps(secret)[1:-1]
    return [
        secret,
        quote(secret, safe=""),
        low(quote(secret, safe="")),
        quote_plus(secret),
        low(quote_plus(secret)),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        base64.b64encode(b"user:" + raw).decode(),
        json_escaped,
        json_escaped.replace("/", "\\/"),
        json_escaped.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
        html.escape(secret),
        html.escape(secret, quote=False),
        html.escape(secret).replace("/", "&#x2F;"),
        "".join(f"&#{ord(c)};" if c in "&<>/" else c for c in secret),
        html.escape(json_escaped.replace("/", "\\/")),
        quote(quote(secret, safe=""), safe=""),
    ]


LEAKY_CHECK = """    def check_connection(self) -> tuple[bool, str | None]:
        import logging

        print("config is", self.config.model_dump_json())
        response = self.session.get(f"{self.config.api_url}/health")
        logging.getLogger("demo").warning("health said %s", response.text)
        assert response.ok, f"health answered {response.status_code}: {response.text}"
        return True, None
"""


def test_a_failing_test_while_recording_prints_no_secret_anywhere(tmp_path: Path) -> None:
    conn = copy_connector(tmp_path / "conn")
    src = conn / "demo_source" / "source.py"
    text = src.read_text()
    start, end = text.index("    def check_connection"), text.index("    def get_total_records_count")
    src.write_text(text[:start] + LEAKY_CHECK + "\n" + text[end:])
    echoes = " | ".join(spellings_of(TOKEN))
    with DemoAPI(25, api_key=TOKEN) as api:
        auth = {"type": "bearer", "params": {"token": TOKEN}}
        write_json(
            conn / "secrets" / "config.json", {"api_url": api.url, "page_size": 10, "authentication": auth}
        )
        api.script("/health", {"status": 400, "body": f"bad request; you sent {echoes}"})
        junit = tmp_path / "junit.xml"
        rec = run_cdk(
            "test", "--record", "-k", "check and not errors", "--junit-xml", str(junit), "--", "-rA", cwd=conn
        )
        assert rec.returncode == 1, rec.stdout + rec.stderr
        api.script("/health", {"status": 400, "body": f"bad request; you sent {echoes}"})
        as_json = run_cdk("test", "--record", "-k", "check and not errors", "--format", "json", cwd=conn)
        assert as_json.returncode == 1
    assert "health answered 400" in rec.stdout and "REDACTED" in rec.stdout  # the failure is still told
    assert "config is" in rec.stdout and "health said" in rec.stdout  # captured output and logs shown
    everything = {
        "stdout": rec.stdout,
        "stderr": rec.stderr,
        "junit.xml": junit.read_text(),
        "json report": as_json.stdout,
        **{
            str(p.relative_to(conn)): p.read_bytes().decode("utf-8", "replace")
            for p in conn.rglob("*")
            if p.is_file() and p != conn / "secrets" / "config.json" and "__pycache__" not in p.parts
        },
    }
    leaks = [
        f"{where}: {form!r}"
        for where, data in everything.items()
        for form in spellings_of(TOKEN)
        if form in data
    ]
    assert leaks == []


@pytest.mark.parametrize("form", spellings_of(TOKEN))
def test_every_spelling_is_masked_in_a_recorded_text_body(form: str) -> None:
    redactor = Redactor([Secret("authentication.params.token", TOKEN)])
    body = encode_body(f"<p>echo: {form}</p>".encode(), "text/html", redactor, response=True)
    assert form not in "".join(body["lines"])


def test_binary_bodies_replay_byte_identical_and_lose_their_secrets(tmp_path: Path) -> None:
    redactor = Redactor([Secret("authentication.params.token", TOKEN)])
    clean = bytes(range(256)) * 8  # not UTF-8: stored as base64
    dirty = b"\x89PNG\r\n\x1a\n\xff\xfe" + TOKEN.encode() + b"\x00\xff"
    cas = Cassette(tmp_path / "c.json", mode="record", redactor=redactor)
    for body in (clean, dirty):
        cas.interactions.append(
            {
                "request": {"method": "GET", "uri": "http://api/x", "headers": {}, "body": None},
                "response": {
                    "status": 200,
                    "reason": "OK",
                    "headers": {},
                    "body": encode_body(body, "application/octet-stream", redactor, response=True),
                },
            }
        )
    cas.save()
    stored = Cassette.load(cas.path, redactor=redactor).interactions
    assert decode_body(stored[0]["response"]["body"]) == clean
    replayed = decode_body(stored[1]["response"]["body"])
    assert TOKEN.encode() not in replayed and b"REDACTED" in replayed
    assert replayed.startswith(b"\x89PNG\r\n\x1a\n\xff\xfe") and replayed.endswith(b"\x00\xff")
