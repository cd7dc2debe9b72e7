"""Every spelling of a secret is masked in a cassette, found by the post-record scan and by the
artifact scan; binary bodies survive masking byte for byte."""

from __future__ import annotations

import base64
import html
import json
import os
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests

from cdk.publish.scan import scan_artifacts
from cdk.secrets import MIN_LENGTH, PLACEHOLDER, Secret, find, mask, secret_values, spellings
from cdk.testing.cassettes import Cassette, decode_body
from cdk.testing.redact import Redactor, recording_secrets

USER = "ann"
# a slash, a space, a plus, an ampersand, quotes, angle brackets and a non-ASCII letter: every encoding
# below spells it differently from the raw value
SECRET = "s3cr/t p+w&<é>'\"Q?"  # its base64 has "+" and "=" padding too
CONFIG = {"authentication": {"type": "basic", "params": {"username": USER, "password": SECRET}}}


def _lower_pct(text: str) -> str:
    import re

    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


SPELLINGS = {
    "raw": SECRET,
    "percent upper": quote(SECRET, safe=""),
    "percent lower": _lower_pct(quote(SECRET, safe="")),
    "plus for space": quote_plus(SECRET),
    "plus, lower": _lower_pct(quote_plus(SECRET)),
    "base64": base64.b64encode(SECRET.encode()).decode(),
    "base64 unpadded": base64.b64encode(SECRET.encode()).decode().rstrip("="),
    "base64 urlsafe": base64.urlsafe_b64encode(SECRET.encode()).decode(),
    "basic user:pass": base64.b64encode(f"{USER}:{SECRET}".encode()).decode(),
    "basic, inside a longer base64": base64.b64encode(f"xx{USER}:{SECRET}yyy".encode()).decode(),
    "JSON-escaped": json.dumps(SECRET, ensure_ascii=False)[1:-1],
    "JSON-escaped ASCII only": json.dumps(SECRET, ensure_ascii=True)[1:-1],
    "JSON \\/-escaped": json.dumps(SECRET, ensure_ascii=False)[1:-1].replace("/", "\\/"),
    "HTML-escaped": html.escape(SECRET),
    "HTML-escaped &#39;": html.escape(SECRET).replace("&#x27;", "&#39;"),
}


def test_the_spellings_differ_from_each_other() -> None:
    """The test below is not vacuous: each spelling is its own string."""
    assert len(set(SPELLINGS.values())) == len(SPELLINGS)
    secrets = secret_values(CONFIG)
    assert [(s.field, s.username) for s in secrets] == [("authentication.params.password", USER)]


def _exchange(spelling: str) -> tuple[requests.PreparedRequest, requests.Response]:
    request = requests.Request(
        "POST",
        f"https://api.example.com/v1/items/{spelling}/x",
        headers={"X-Trace": f"t {spelling} t", "Content-Type": "text/plain"},
        data=f"body {spelling} body".encode(),
    ).prepare()
    response = requests.Response()
    response.status_code = 200
    response.reason = "OK"
    response.headers["Content-Type"] = "text/html"
    response.headers["X-Echo"] = spelling
    response._content = f"<p>echo {spelling}</p>".encode()
    return request, response


@pytest.mark.parametrize("kind", sorted(SPELLINGS))
def test_each_spelling_is_masked_in_the_cassette_and_found_by_both_scans(kind: str, tmp_path: Path) -> None:
    spelling = SPELLINGS[kind]
    redactor = Redactor(recording_secrets(CONFIG, []))
    cassette = Cassette(tmp_path / "c.json", mode="record", redactor=redactor)
    cassette.record(*_exchange(spelling))
    data = cassette.dumps().decode()
    assert spelling not in data and SECRET not in data
    assert PLACEHOLDER in data
    cassette.save()  # the post-record scan passes on the masked cassette ...
    # ... and finds the spelling where it survives, naming the field, never the value
    leaked = f"recorded {spelling} here"
    assert redactor.scan(leaked) == ["authentication.params.password"]
    hits = find(leaked, secret_values(CONFIG))
    assert [h.field for h in hits] == ["authentication.params.password"]
    masked = mask(leaked, secret_values(CONFIG))
    assert PLACEHOLDER in masked and spelling not in masked and find(masked, secret_values(CONFIG)) == []

    root = tmp_path / "connector"
    (root / "secrets").mkdir(parents=True)
    (root / "secrets" / "config.json").write_text(json.dumps(CONFIG))
    wheel = tmp_path / "c-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("c/fixture.txt", leaked)
        zf.writestr("c/clean.txt", f"user {USER} base https://api.example.com/v1 basic")
    sdist = tmp_path / "c-0.1.0.tar.gz"
    member = tmp_path / "leak.bin"
    member.write_bytes(b"\x00\xff" + leaked.encode() + b"\x00")
    with tarfile.open(sdist, "w:gz") as tf:
        tf.add(member, arcname="c-0.1.0/tests/leak.bin")
    found = [str(f) for f in scan_artifacts([wheel, sdist], root=root)]
    assert found == [
        f"{wheel.name}: c/fixture.txt: value of secrets/config.json 'authentication.params.password'",
        f"{sdist.name}: c-0.1.0/tests/leak.bin: value of secrets/config.json 'authentication.params.password'",
    ]


def test_a_referenced_secret_is_found_in_every_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDK_TEST_SPELL_PW", SECRET)
    root = tmp_path / "connector"
    (root / "secrets").mkdir(parents=True)
    config = {
        "authentication": {
            "type": "basic",
            "params": {"username": USER, "password": "CDK_ENV_CDK_TEST_SPELL_PW"},
        }
    }
    (root / "secrets" / "config.json").write_text(json.dumps(config))
    wheel = tmp_path / "c-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for n, spelling in enumerate(SPELLINGS.values()):
            zf.writestr(f"c/f{n}.txt", spelling)
    assert len(scan_artifacts([wheel], root=root)) == len(SPELLINGS)


def test_binary_bodies_stay_byte_identical_without_a_secret(tmp_path: Path) -> None:
    blob = os.urandom(4096) + b"\xff\xfe\x00" + bytes(range(256))
    redactor = Redactor(recording_secrets(CONFIG, []))
    cassette = Cassette(tmp_path / "c.json", mode="record", redactor=redactor)
    request, response = _exchange("nothing")
    response.headers["Content-Type"] = "application/octet-stream"
    response._content = blob
    cassette.record(request, response)
    cassette.save()
    stored = json.loads((tmp_path / "c.json").read_text())["interactions"][0]["response"]["body"]
    assert decode_body(stored) == blob


def test_a_secret_inside_a_binary_body_is_masked_on_its_bytes(tmp_path: Path) -> None:
    """The redaction of a binary body that does hold the secret replaces its bytes (length changes)."""
    blob = b"\xff\xfe\x00" + SECRET.encode() + b"\x00\x01"
    redactor = Redactor(recording_secrets(CONFIG, []))
    cassette = Cassette(tmp_path / "c.json", mode="record", redactor=redactor)
    request, response = _exchange("nothing")
    response._content = blob
    cassette.record(request, response)
    cassette.save()
    stored = json.loads((tmp_path / "c.json").read_text())["interactions"][0]["response"]["body"]
    assert decode_body(stored) == b"\xff\xfe\x00" + PLACEHOLDER.encode() + b"\x00\x01"


def test_a_token_learned_late_is_masked_in_an_earlier_binary_body_without_corrupting_it(
    tmp_path: Path,
) -> None:
    token = "late-issued-Tok3n-5521"
    head, tail = os.urandom(1000), os.urandom(1000)
    cassette = Cassette(tmp_path / "c.json", mode="record", redactor=Redactor())
    request, response = _exchange("nothing")
    response.headers["Content-Type"] = "application/octet-stream"
    response._content = head + token.encode() + tail
    cassette.record(request, response)
    cassette.redactor.add(Secret("response field 'access_token'", token))  # learned from a later response
    cassette.save()
    stored = json.loads((tmp_path / "c.json").read_text())["interactions"][0]["response"]["body"]
    assert decode_body(stored) == head + PLACEHOLDER.encode() + tail


def test_short_values_are_not_searched_for_in_free_text() -> None:
    short = "a" * (MIN_LENGTH - 1)
    assert spellings(short) == []
    assert mask("banana aaa", [short]) == "banana aaa"
    assert spellings("a" * MIN_LENGTH)
    assert "value-12345" not in repr(Secret("f", "value-12345"))
