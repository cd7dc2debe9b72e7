"""`cdk test --record` against the demo API with secrets in header, query and body; then replay offline."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from cdk.testing.demo_api import DemoAPI
from tests.testing.conftest import copy_connector, run_cdk, write_json

TOKEN = "tok_Sup3r+Secret/Value=42"
PROBE = "probe-S3cret&Value?x=1"

CHECK_WITH_PROBE = """    def check_connection(self) -> tuple[bool, str | None]:
        try:
            response = self.session.get(f"{self.config.api_url}/health")
            if not response.ok:
                return False, f"health answered {response.status_code}"
            self.session.post(f"{self.config.api_url}/ingest/probe", json={"probe_value": self.config.probe_value, "n": 1})
            echoed = self.session.get(f"{self.config.api_url}/ingest/probe").json()
            return bool(echoed), None
        except Exception as exc:
            return False, str(exc)
"""


def secure_connector(dest: Path) -> Path:
    """demo_source plus a config field marked writeOnly (in the schema only) that check_connection posts
    in a JSON body; the API echoes it back in a later response."""
    conn = copy_connector(
        dest,
        {
            "demo_source/source.py": (
                '    fail_on_page: int | None = Field(None, description="Raise on this page (simulates a crash)")\n',
                '    fail_on_page: int | None = Field(None, description="Raise on this page (simulates a crash)")\n'
                '    probe_value: str = Field("", description="Posted by check_connection")\n',
            ),
        },
    )
    src = conn / "demo_source" / "source.py"
    text = src.read_text()
    start = text.index("    def check_connection")
    end = text.index("    def get_total_records_count")
    src.write_text(text[:start] + CHECK_WITH_PROBE + "\n" + text[end:])
    schema = json.loads((conn / "schemas" / "config.json").read_text())
    schema["properties"]["probe_value"] = {"type": "string", "writeOnly": True}
    schema["properties"]["authentication"] = {"type": "object"}
    write_json(conn / "schemas" / "config.json", schema)
    return conn


def auth_variant(kind: str, url: str, token: str) -> dict:
    if kind == "header":
        return {"type": "bearer", "params": {"token": token}}
    if kind == "query":
        return {"type": "api_key", "params": {"api_key": token, "location": "query"}}
    return {
        "type": "oauth2",
        "params": {
            "token_url": f"{url}/oauth/token",
            "client_id": "cdk-tests",
            "client_secret": token,
            "refresh_token": token,
        },
    }


def forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]


def files_containing(root: Path, needles: list[str]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes().decode("utf-8", "replace")
            hits += [f"{path.relative_to(root)}: {n!r}" for n in needles if n in data]
    return hits


@pytest.mark.parametrize("kind", ["header", "query", "body"])
def test_record_redacts_every_secret_then_replays_offline(tmp_path: Path, kind: str) -> None:
    conn = secure_connector(tmp_path / "conn")
    api = DemoAPI(
        25,
        api_key=TOKEN if kind != "body" else "issued-later",
        refresh_token=TOKEN if kind == "body" else None,
    ).start()
    url = api.url
    real = write_json(
        tmp_path / "real_config.json",
        {  # outside the connector folder
            "api_url": url,
            "page_size": 10,
            "probe_value": PROBE,
            "authentication": auth_variant(kind, url, TOKEN),
        },
    )
    try:
        rec = run_cdk("test", "--record", "--config", str(real), cwd=conn)
        assert rec.returncode == 0, rec.stdout + rec.stderr
        issued = [f"access-{n}" for n in range(1, api.tokens_issued + 1)]
        # the secret really went over the wire in this variant
        seen = json.dumps(api.requests)
        assert TOKEN in seen or quote_plus(TOKEN) in seen or quote(TOKEN, safe="") in seen
        assert PROBE in seen
    finally:
        api.stop()

    cassettes = sorted(p.name for p in (conn / "tests" / "cassettes").iterdir())
    assert {"check.json", "read-users.json", "read-orders.json", "incremental-users.json"} <= set(cassettes)
    assert files_containing(conn, forms(TOKEN) + forms(PROBE) + issued) == []
    assert "REDACTED" in (conn / "tests" / "cassettes" / "check.json").read_text()

    # replay: the API is gone (network blocked anyway) and the config holds placeholders only
    write_json(
        conn / "tests" / "sample_config.json",
        {
            "api_url": url,
            "page_size": 10,
            "probe_value": "REPLACE_ME_TOO",
            "authentication": auth_variant(kind, url, "REPLACE_ME"),
        },
    )
    rep = run_cdk("test", "--", "-v", cwd=conn)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    for test_id in (
        "connector.yaml::check",
        "connector.yaml::read[users]",
        "connector.yaml::incremental[orders]",
        "connector.yaml::errors[429-retry-after]",
        "connector.yaml::errors[timeout]",
    ):
        assert f"{test_id} PASSED" in rep.stdout
