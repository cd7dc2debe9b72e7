"""`cdk validate` runs the sourceSpec checks of declarative connectors as its `declarative` suite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import invoke_cdk

EXAMPLE = Path(__file__).parents[1] / "declarative" / "example_connector"


def test_example_declarative_connector_validates_clean(tmp_path):
    folder = tmp_path / "decl"
    shutil.copytree(EXAMPLE, folder)
    result = invoke_cdk("validate", str(folder), "--format", "json")
    assert result.returncode == 0, result.stdout.decode()
    assert json.loads(result.stdout)["valid"] is True


def test_missing_pagination_property_is_reported_at_its_line(tmp_path):
    folder = tmp_path / "decl"
    shutil.copytree(EXAMPLE, folder)
    manifest = folder / "connector.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("      offSetName: offset\n", ""))
    result = invoke_cdk("validate", str(folder), "--format", "json")
    assert result.returncode == 1
    errors = json.loads(result.stdout)["errors"]
    r002 = [e for e in errors if e["rule"] == "R002"]
    assert r002 and r002[0]["suite"] == "declarative" and "offSetName" in r002[0]["message"]
    pagination_line = text.splitlines().index("    paginationParams:") + 1
    assert pagination_line <= r002[0]["line"] <= pagination_line + 6
