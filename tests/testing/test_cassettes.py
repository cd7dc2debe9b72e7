"""Cassettes: indexed replay keeps vcrpy's play-once-in-order semantics; misses and sockets are refused."""

from __future__ import annotations

import base64
import json
import urllib.request
from pathlib import Path

import pytest
import requests

from cdk.errors import NetworkBlockedError, SecretLeakError, UnrecordedRequestError
from cdk.testing.cassettes import Cassette, use_cassette
from cdk.testing.demo_api import DemoAPI
from cdk.testing.redact import Redactor


def test_identical_requests_replay_their_recordings_once_each_in_order(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with DemoAPI(5) as api:
        rec = Cassette(path, mode="record")
        with use_cassette(rec):
            for _ in range(3):  # the same request, answered differently each time by the fault script
                api.script("/health", {"status": 200, "body": {"n": api.count("/health") + 1}})
                requests.get(f"{api.url}/health")
            requests.post(f"{api.url}/ingest/things", json={"b": 2, "a": 1})
        rec.save()
        url = api.url
    replay = Cassette.load(path)
    with use_cassette(replay):
        assert [requests.get(f"{url}/health").json()["n"] for _ in range(3)] == [1, 2, 3]
        # JSON bodies match whatever their key order
        assert requests.post(f"{url}/ingest/things", json={"a": 1, "b": 2}).json() == {"written": 1}
        with pytest.raises(UnrecordedRequestError, match="recordings were all played already"):
            requests.get(f"{url}/health")


def test_unrecorded_request_names_method_masked_url_and_the_record_command(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"cdk_cassette": 1, "interactions": []}))
    replay = Cassette.load(path, redactor=Redactor({"placeholder-key"}))
    with use_cassette(replay), pytest.raises(UnrecordedRequestError) as info:
        requests.get("https://api.example.com/v1/items", params={"api_key": "live-key-123", "page": 2})
    text = str(info.value)
    assert "unrecorded request GET https://api.example.com/v1/items?api_key=REDACTED&page=2" in text
    assert "live-key-123" not in text
    assert "run `cdk test --record`" in text
    assert replay.misses == [text]


def test_replay_blocks_sockets_outside_requests(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"cdk_cassette": 1, "interactions": []}))
    with DemoAPI(1) as api:
        with (
            use_cassette(Cassette.load(path)),
            pytest.raises(NetworkBlockedError, match="blocked during replay"),
        ):
            urllib.request.urlopen(f"{api.url}/health", timeout=5)
        # outside the cassette the network is back
        assert urllib.request.urlopen(f"{api.url}/health", timeout=5).status == 200


def test_reads_vcrpy_yaml_cassettes(tmp_path: Path) -> None:
    import vcr

    yaml_path = tmp_path / "old.yaml"
    with DemoAPI(30) as api:
        url = api.url
        with vcr.VCR(record_mode="all").use_cassette(str(yaml_path)):
            first = requests.get(f"{url}/users", params={"limit": 10, "offset": 10}).json()
    replay = Cassette.load(yaml_path)
    with use_cassette(replay):
        assert requests.get(f"{url}/users", params={"offset": 10, "limit": 10}).json() == first


def test_save_refuses_a_surviving_secret_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cas = Cassette(path, mode="record", redactor=Redactor({"hunter2-secret"}))
    # a secret smuggled in base64 inside some other text, after redaction already ran
    blob = base64.b64encode(b"user:hunter2-secret").decode()
    cas.interactions.append(
        {
            "request": {"method": "GET", "uri": "http://x/", "headers": {}, "body": None},
            "response": {
                "status": 200,
                "reason": "OK",
                "headers": {},
                "body": {"lines": [f"token={blob[:3]}" + blob[3:]]},
            },
        }
    )
    cas.dumps = lambda: json.dumps({"cdk_cassette": 1, "interactions": cas.interactions}).encode()  # type: ignore[method-assign]
    with pytest.raises(SecretLeakError, match="not written"):
        cas.save()
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temp file left behind either


def test_post_bodies_are_part_of_the_match(tmp_path: Path) -> None:
    """GraphQL-style APIs: one URL, the body decides the answer (vcrpy's default matcher ignores it)."""
    path = tmp_path / "c.json"
    with DemoAPI(1) as api:
        url = f"{api.url}/graphql"
        rec = Cassette(path, mode="record")
        with use_cassette(rec):
            for q in ("{users}", "{orders}"):
                api.script("/graphql", {"status": 200, "body": {"answer": q}})
                requests.post(url, json={"query": q, "variables": {"n": 1}})
        rec.save()
    with use_cassette(Cassette.load(path)):
        # asked in the other order, each gets its own answer
        assert requests.post(url, json={"variables": {"n": 1}, "query": "{orders}"}).json() == {
            "answer": "{orders}"
        }
        assert requests.post(url, json={"query": "{users}", "variables": {"n": 1}}).json() == {
            "answer": "{users}"
        }
        with pytest.raises(UnrecordedRequestError, match="body"):
            requests.post(url, json={"query": "{users}", "variables": {"n": 2}})
