"""Discovery: a source's own discover() wins over the manifest; --infer proposes schemas (issue 14 item 10)."""

from __future__ import annotations

import json

from tests.conftest import run_cdk
from tests.guides import examples
from tests.guides.guide_api import GuideAPI
from tests.guides.test_guide_examples import make_connector

DYNAMIC = (
    examples.QUICKSTART
    + """
    def discover(self):
        fields = self.session.get(f"{self.config.api_url}/count").json()
        return [
            {"name": "users", "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
             "primary_key": ["id"]},
            {"name": "live_" + str(fields["total"]), "schema": {"type": "object"}},
        ]
"""
)


def test_manifest_without_config(tmp_path):
    folder = make_connector(tmp_path, examples.QUICKSTART)
    result = run_cdk("discover", cwd=folder)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [s["name"] for s in out["streams"]] == ["users", "orders", "products"]
    assert {s["origin"] for s in out["streams"]} == {"manifest"}


def test_source_discover_is_preferred_with_a_config(tmp_path):
    with GuideAPI() as api:
        folder = make_connector(tmp_path, DYNAMIC)
        cfg = folder / "config.json"
        cfg.write_text(json.dumps({"name": "s", "stream": "users", "api_url": api.url}))
        result = run_cdk("discover", "--config", str(cfg), cwd=folder)
    assert result.returncode == 0, result.stderr
    streams = json.loads(result.stdout)["streams"]
    assert [s["name"] for s in streams] == ["users", "live_144"]  # asked the API at run time
    assert streams[0]["schema"]["properties"]["id"] == {"type": "integer"}
    assert {s["origin"] for s in streams} == {"discover()"}


def test_infer_proposes_schemas_from_sampled_records(tmp_path):
    with GuideAPI({"users": 30, "orders": 3, "products": 0}) as api:
        folder = make_connector(tmp_path, examples.QUICKSTART)
        cfg = folder / "config.json"
        cfg.write_text(json.dumps({"name": "s", "stream": "users", "api_url": api.url, "page_size": 10}))
        result = run_cdk("discover", "--config", str(cfg), "--infer", "--sample", "12", cwd=folder)
        sampled = [r for r in api.requests if r["path"] == "/users"]
    assert result.returncode == 0, result.stderr
    streams = {s["name"]: s for s in json.loads(result.stdout)["streams"]}
    users = streams["users"]
    assert users["origin"] == "inferred from 12 live records"
    assert users["schema"]["properties"]["id"] == {"type": "integer"}
    assert users["schema"]["properties"]["updated_at"] == {"type": "string", "format": "date-time"}
    assert "required" not in users["schema"]  # a sample does not prove a field is always there
    assert len(sampled) == 2  # 12 records: two pages of 10, not the whole stream
    assert streams["products"]["origin"] == "manifest"  # no records: nothing to infer from
    # without a config, --infer replays the recordings of `cdk test --record`; there are none here
    no_config = run_cdk("discover", "--infer", cwd=folder)
    assert no_config.returncode == 2 and b"--config" in no_config.stderr
