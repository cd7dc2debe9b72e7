"""Generated connectors pass validation with zero findings, their tests offline, and the merge gate."""

from __future__ import annotations

import json

import pytest

from tests.conftest import invoke_cdk, run_cdk
from tests.init.initkit import AUTHS, DECLARATIVE_PAGINATIONS, PAGINATIONS, TEMPLATES

# source-declarative's non-default pagination types, with fixtures: validated and replayed like the rest
DECLARATIVE_VARIANTS = [p for p in DECLARATIVE_PAGINATIONS if p != "offset"]


def test_every_template_and_auth_validates_with_zero_errors_and_warnings(generated):
    folders = [generated(t, a, fixtures=True) for t in TEMPLATES for a in AUTHS]
    folders += [
        generated("source-python", "api_key", pagination=p, capabilities="batch_extract") for p in PAGINATIONS
    ]
    folders += [
        generated("source-declarative", "api_key", fixtures=True, pagination=p) for p in DECLARATIVE_VARIANTS
    ]
    folders += [
        generated("source-declarative", "api_key", pagination=p, capabilities="batch_extract")
        for p in DECLARATIVE_PAGINATIONS
    ]
    proc = invoke_cdk("validate", *map(str, folders), "--format", "json", timeout=300)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stdout.decode()[-3000:]
    assert report["valid"] is True and report["errors"] == [] and report["warnings"] == []
    assert len(report["connectors"]) == len(folders)


def test_validate_catches_a_broken_generated_connector(generated, tmp_path):
    """The clean result above is not vacuous: un-marking a secret in a generated schema is an error."""
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(generated("source-python", "api_key"), folder)
    schema = folder / "schemas" / "config.json"
    schema.write_text(schema.read_text().replace('"writeOnly": true, ', ""))
    proc = invoke_cdk("validate", str(folder), "--format", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["errors"]


# every auth method of the Python templates: tests/init/test_wheel.py (slow); source-declarative: all here
@pytest.mark.parametrize(
    ("template", "auth", "pagination"),
    [(t, a, None) for t in TEMPLATES if t != "source-declarative" for a in ("none", "oauth2")]
    + [("source-declarative", a, None) for a in AUTHS]
    + [("source-declarative", "api_key", p) for p in DECLARATIVE_VARIANTS],
)
def test_generated_connector_passes_cdk_test_offline(generated, template, auth, pagination):
    folder = generated(template, auth, fixtures=True, **({"pagination": pagination} if pagination else {}))
    cassettes = sorted((folder / "tests" / "cassettes").glob("*.json"))
    assert cassettes, "cdk init recorded no cassettes"
    for cassette in cassettes:  # re-addressed to the base URL; the demo secrets never reach disk
        text = cassette.read_text()
        assert "http://127.0.0.1:8765/" in text and "demo-secret" not in text and "demo-refresh" not in text
    assert not (folder / ".pytest_cache").exists()
    proc = run_cdk("test", str(folder), timeout=300)
    assert proc.returncode == 0, proc.stdout.decode()[-3000:] + proc.stderr.decode()[-2000:]


@pytest.mark.parametrize("template", ["source-python", "source-declarative"])
def test_cassettes_follow_a_custom_base_url(generated, template):
    folder = generated(template, "api_key", fixtures=True, base_url="https://api.example.com/v1")
    text = (folder / "tests" / "cassettes" / "read-users.json").read_text()
    assert "https://api.example.com/v1/users?" in text and "127.0.0.1" not in text
    manifest = (folder / "connector.yaml").read_text()  # recording pointed it at the demo API; restored since
    assert "127.0.0.1" not in manifest and "allowed_hosts: [api.example.com]" in manifest
    proc = run_cdk("test", str(folder), timeout=300)
    assert proc.returncode == 0, proc.stdout.decode()[-3000:]


def test_generated_connectors_pass_the_merge_gate(generated):
    """What the generated .github/workflows/connector.yml runs: validate, test in replay, build + checks."""
    folders = [generated(t, "api_key", fixtures=True) for t in TEMPLATES]
    proc = invoke_cdk("ci", *map(str, folders), timeout=600)
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, out[-4000:]
    workflow = (folders[0] / ".github" / "workflows" / "connector.yml").read_text()
    assert "run: cdk ci" in workflow


@pytest.mark.parametrize(
    ("template", "auth"), [("source-python", "api_key")] + [("source-declarative", a) for a in AUTHS]
)
def test_merge_gate_runs_inside_the_connector_folder_as_the_workflow_does(generated, template, auth):
    folder = generated(template, auth, fixtures=True)
    proc = invoke_cdk("ci", cwd=folder, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode()[-3000:]
