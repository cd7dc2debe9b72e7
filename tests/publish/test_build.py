"""cdk build: offline fallback, reproducibility, and the checks on what the wheel carries."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from conftest import CdkRunner


def test_wheel_built_twice_from_the_same_commit_is_byte_identical(
    connector: Path, cdk: CdkRunner, tmp_path: Path
) -> None:
    first = cdk("build", "--wheel", "--out", str(tmp_path / "one"), "--format", "json", cwd=connector)
    assert first.returncode == 0, first.stderr
    # offline: the index does not answer, so cdk says it built with the installed backend
    assert "cannot be reached: built without isolation" in first.stderr
    second = cdk("build", "--wheel", "--out", str(tmp_path / "two"), "-C", str(connector))
    assert second.returncode == 0, second.stderr
    one = Path(json.loads(first.stdout)["artifacts"][0])
    two = tmp_path / "two" / one.name
    assert one.name == "acme_connector-0.1.0-py3-none-any.whl"
    assert one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as zf:
        names = set(zf.namelist())
        # zip timestamps come from the last commit (2026-01-02), not from the clock
        assert {i.date_time[:3] for i in zf.infolist()} == {(2026, 1, 2)}
    assert {
        "acme_connector/connector.yaml",
        "acme_connector/schemas/users.json",
        "acme_connector/schemas/config.json",
    } <= names


def test_default_builds_sdist_and_wheel(connector: Path, cdk: CdkRunner) -> None:
    result = cdk("build", cwd=connector)
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in (connector / "dist").iterdir())
    assert built == ["acme_connector-0.1.0-py3-none-any.whl", "acme_connector-0.1.0.tar.gz"]


def test_missing_entry_point_is_refused_with_the_fix(connector: Path, cdk: CdkRunner) -> None:
    pyproject = connector / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            '[project.entry-points."cdk.connectors"]\nacme = ', "[project.scripts]\nacme = "
        )
    )
    result = cdk("build", "--wheel", cwd=connector)
    assert result.returncode == 1
    assert (
        "does not register the connector 'acme' under the 'cdk.connectors' entry point group" in result.stderr
    )
    assert '[project.entry-points."cdk.connectors"]' in result.stderr


def test_wheel_without_connector_yaml_or_schemas_is_refused(connector: Path, cdk: CdkRunner) -> None:
    pyproject = connector / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('"schemas" = "acme_connector/schemas"\n', ""))
    result = cdk("build", "--wheel", cwd=connector)
    assert result.returncode == 1
    assert "lacks schema files named in connector.yaml: schemas/users.json" in result.stderr
    pyproject.write_text(text.replace('"connector.yaml" = "acme_connector/connector.yaml"\n', ""))
    result = cdk("build", "--wheel", cwd=connector)
    assert result.returncode == 1
    assert "does not contain connector.yaml" in result.stderr


def test_offline_without_the_backend_is_an_outside_failure(connector: Path, cdk: CdkRunner) -> None:
    pyproject = connector / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'requires = ["hatchling>=1.21"]', 'requires = ["hatchling>=1.21", "no-such-backend-xyz>=1"]'
        )
    )
    result = cdk("build", cwd=connector)
    assert result.returncode == 3
    assert "cannot be reached and the build backend is not installed here" in result.stderr
    assert "no-such-backend-xyz" in result.stderr
