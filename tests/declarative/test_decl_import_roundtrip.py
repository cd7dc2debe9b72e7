"""Issue 18: `cdk import source-spec` output passes its own validator and tests as generated.

The Mailchimp Members example of seed 003 (tests/declarative/data/mailchimp_members_seed.txt, as the document
prints it), imported with dotted keys as docs/declarative.md shows, then `cdk validate`, `cdk test --record`
against a local Mailchimp imitation (Basic auth with an API key, as the real one) and `cdk test` offline.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from decl_fake_apis import FakeAPIs  # noqa: E402

from tests.conftest import invoke_cdk, run_cdk  # noqa: E402

SEED = Path(__file__).parent / "data" / "mailchimp_members_seed.txt"
KEY = "0123456789abcdef0123456789abcdef-us21"


def import_seed(out: Path) -> dict[str, Any]:
    result = invoke_cdk(
        "import",
        "source-spec",
        str(SEED),
        "--out",
        str(out),
        "--name",
        "mailchimp-members",
        "--primary-key",
        "member.id",
        "--cursor-field",
        "member.last_changed",
        "--format",
        "json",
        text=True,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_imported_schema_has_nested_properties_for_dotted_keys(tmp_path: Path) -> None:
    report = import_seed(tmp_path / "mc")
    schema = json.loads((tmp_path / "mc" / "schemas" / "members.json").read_text())
    member = schema["properties"]["member"]
    assert member["type"] == "object"
    assert member["properties"]["id"]["type"] == ["string", "integer"]
    assert "last_changed" in member["properties"]
    assert "additionalProperties" not in member  # the rest of the member stays admitted
    assert any("'member.id' added" in n for n in report["notes"]), report
    # the validator's own verdict, with no finding of any severity
    validate = invoke_cdk("validate", str(tmp_path / "mc"), "--format", "json", text=True)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    findings = json.loads(validate.stdout)
    assert findings["valid"] and findings["errors"] == [] and findings["warnings"] == [], findings


def test_sample_config_validates_and_holds_no_secret(tmp_path: Path) -> None:
    """A connection specification whose user inputs include a secret: the example config refers to it
    (CDK_ENV_...), the replay config holds a placeholder, and both validate against the config schema."""
    seed = json.loads("{" + SEED.read_text() + "}")
    seed["sourceSpec"]["spec"]["properties"]["apiKey"] = {"type": "string", "format": "password"}
    src = tmp_path / "spec.json"
    src.write_text(json.dumps(seed))
    out = tmp_path / "mc"
    result = invoke_cdk("import", "source-spec", str(src), "--out", str(out), text=True)
    assert result.returncode == 0, result.stderr
    example = json.loads((out / "secrets" / "config.example.json").read_text())
    assert example["apiKey"] == "CDK_ENV_API_KEY"
    sample = json.loads((out / "tests" / "sample_config.json").read_text())
    assert sample["apiKey"] == "REPLACE_ME" and sample["listId"] == "..."
    validate = invoke_cdk("validate", str(out), "--format", "json", text=True)
    assert validate.returncode == 0, validate.stdout
    assert json.loads(validate.stdout)["errors"] == []


def test_seed_import_validates_records_and_replays_offline(tmp_path: Path) -> None:
    out = tmp_path / "mc"
    import_seed(out)
    with FakeAPIs(members=130) as api:
        api.mailchimp_key = KEY
        # the only change to reach the imitation: the host (a {domain}.api.mailchimp.com name cannot be
        # pointed at 127.0.0.1 without DNS) and allowed_hosts with it
        text = (out / "connector.yaml").read_text()
        assert "host: https://{domain}.api.mailchimp.com" in text
        text = text.replace("host: https://{domain}.api.mailchimp.com", f"host: {api.url}")
        text = text.replace("- '*.api.mailchimp.com'", "- 127.0.0.1")
        (out / "connector.yaml").write_text(text)

        validate = invoke_cdk("validate", str(out), "--format", "json", text=True)
        assert validate.returncode == 0, validate.stdout + validate.stderr
        findings = json.loads(validate.stdout)
        assert findings["valid"] and findings["errors"] == [] and findings["warnings"] == [], findings

        (out / "secrets" / "config.json").write_text(
            json.dumps(
                {
                    "name": "mc",
                    "domain": "us21",
                    "listId": "L42",
                    "authentication": {
                        "type": "basic",
                        "params": {"username": "anystring", "password": "CDK_ENV_MAILCHIMP_KEY"},
                    },
                }
            )
        )
        record = run_cdk(
            "test", "--record", "--format", "json", cwd=out, env={"MAILCHIMP_KEY": KEY}, timeout=300
        )
        report = json.loads(record.stdout)
        assert record.returncode == 0, report
        ids = {t["id"].split("::")[-1]: t["outcome"] for t in report["tests"]}
        assert ids["read[members]"] == "passed" and ids["incremental[members]"] == "passed", ids
        member_requests = [r for r in api.requests if r["path"] == "/3.0/lists/L42/members"]
        assert member_requests and all("Authorization" in r["headers"] for r in member_requests)

    # the server is stopped: offline replay from the cassettes and the written sample config
    sample = json.loads((out / "tests" / "sample_config.json").read_text())
    assert sample["listId"] == "L42" and sample["domain"] == "us21"  # filled from the real config
    assert KEY not in (out / "tests").joinpath("sample_config.json").read_text()
    for cassette in (out / "tests" / "cassettes").glob("*.json"):
        assert KEY not in cassette.read_text()
    cassette = json.loads((out / "tests" / "cassettes" / "read-members.json").read_text())
    assert cassette["interactions"][0]["response"]["status"] == 200
    replay = run_cdk("test", "--format", "json", cwd=out, timeout=300)
    report = json.loads(replay.stdout)
    assert replay.returncode == 0, report
    assert report["counts"]["failed"] == 0 and report["counts"]["passed"] >= 4
    manifest = yaml.safe_load((out / "connector.yaml").read_text())
    assert manifest["streams"][0]["primary_key"] == ["member.id"]

    # the importer's schema is marked generated: `discover --infer --write` refines it without --force,
    # from the recording, offline; the connector still validates and its tests still pass
    infer = run_cdk("discover", "--infer", "--write", cwd=out)
    assert infer.returncode == 0, infer.stderr
    schema = json.loads((out / "schemas" / "members.json").read_text())
    member = schema["properties"]["member"]["properties"]
    assert member["last_changed"] == {"type": "string", "format": "date-time"}
    assert member["merge_fields"]["properties"]["AGE"] == {"type": "integer"}
    assert set(schema["properties"]) == {"member"}  # _links, total_items, list_id were skipped
    assert invoke_cdk("validate", str(out), text=True).returncode == 0
    again = run_cdk("test", "--format", "json", cwd=out, timeout=300)
    assert again.returncode == 0, json.loads(again.stdout)
