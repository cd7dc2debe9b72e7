"""Publishing with a real secrets/config.json: ordinary config values never stop it, real secrets do.

The newcomer's path: `cdk init` (bearer auth, fixtures recorded), copy the config template to
secrets/config.json, `cdk publish --dry-run`. The artifact scan used to refuse because the base URL and
`authentication.type: bearer` ship in the cassettes and the sample config.
"""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.publish.conftest import CdkRunner

TOKEN = "live-Bearer-Tok3n-88231"


@pytest.fixture(scope="module")
def bearer_connector(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cdk init xy --no-input --set auth=bearer` made once; each test works on a copy."""
    import os
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("init")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    env.update({"NO_COLOR": "1", "CDK_HOME": str(root / "home")})
    proc = subprocess.run(
        [sys.executable, "-m", "cdk", "init", "xy", "--no-input", "--set", "auth=bearer"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert list((root / "xy" / "tests" / "cassettes").glob("*.json")), "init recorded no fixtures"
    return root / "xy"


def _copy(src: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "xy"
    shutil.copytree(src, folder)
    shutil.copy(folder / "secrets" / "config.template.json", folder / "secrets" / "config.json")
    return folder


def test_a_fresh_bearer_connector_with_the_template_config_publishes(
    bearer_connector: Path, tmp_path: Path, cdk: CdkRunner
) -> None:
    folder = _copy(bearer_connector, tmp_path)
    config = json.loads((folder / "secrets" / "config.json").read_text())
    assert config["authentication"]["type"] == "bearer"
    # what the old scan took for secrets does ship: the base URL and the auth type
    shipped = (folder / "tests" / "cassettes" / "read-users.json").read_text()
    assert config["api_url"] in shipped
    assert '"bearer"' in (folder / "tests" / "sample_config.json").read_text()
    registry = tmp_path / "registry"
    result = cdk(
        "publish", "0.1.0", "--dry-run", "--repository", str(registry), cwd=folder, env={"XY_TOKEN": TOKEN}
    )
    assert result.returncode == 0, result.stderr
    assert "contain secrets" not in result.stderr
    assert "dry run: xy 0.1.0 would be published" in result.stdout + result.stderr
    for wheel in (folder / "dist").glob("*.whl"):
        with zipfile.ZipFile(wheel) as zf:
            assert all(TOKEN.encode() not in zf.read(n) for n in zf.namelist())


def test_the_token_a_reference_points_to_is_still_refused(
    bearer_connector: Path, tmp_path: Path, cdk: CdkRunner
) -> None:
    folder = _copy(bearer_connector, tmp_path)
    # a note that ships in the sdist, out of cdk validate's sight, with the token base64-encoded
    encoded = base64.b64encode(TOKEN.encode()).decode()
    (folder / "NOTES.txt").write_text(f"captured header: Authorization: Basic {encoded}\n")
    registry = tmp_path / "registry"
    result = cdk(
        "publish", "0.1.0", "--dry-run", "--repository", str(registry), cwd=folder, env={"XY_TOKEN": TOKEN}
    )
    assert result.returncode == 1
    assert "NOTES.txt: value of secrets/config.json 'authentication.params.token'" in result.stderr
    assert TOKEN not in result.stdout + result.stderr and encoded not in result.stdout + result.stderr
    assert not registry.exists() or not any(registry.rglob("*.whl"))
