"""The newcomer's journey as one test, per registry (the folder registry and pypiserver with htpasswd):
``cdk init`` (bearer auth) → ``cdk test --record`` against a local API with a real token in
secrets/config.json → ``cdk publish 0.1.0`` (with the gate) → no spelling of the token in the wheel or
the sdist → in a brand-new virtualenv (no system site-packages, nothing of ours in it) the install command
that publish printed → ``cdk read`` through the installed connector.

The new virtualenv reaches connector-cdk only through the registry (``cdk publish`` uploaded it there) and
the public dependencies through the machine's own pip configuration, as on a user's machine."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REGISTRY_PASSWORD, REGISTRY_USER, CdkRunner, PyPIServer

from cdk.secrets import Secret, SecretSet
from cdk.testing.demo_api import DemoAPI

TOKEN = "tok-LIVE-9f3a7c21e5b84d06"


@pytest.fixture
def api() -> Iterator[DemoAPI]:
    demo = DemoAPI(25, api_key=TOKEN).start()
    try:
        yield demo
    finally:
        demo.stop()


def members(artifact: Path) -> Iterator[tuple[str, bytes]]:
    if artifact.name.endswith(".whl"):
        with zipfile.ZipFile(artifact) as zf:
            for info in zf.infolist():
                yield info.filename, zf.read(info)
    else:
        with tarfile.open(artifact) as tf:
            for m in tf.getmembers():
                fh = tf.extractfile(m) if m.isfile() else None
                yield m.name, fh.read() if fh else b""


@pytest.mark.parametrize("kind", ["folder", "pypiserver"])
def test_init_record_publish_and_install_on_a_clean_machine(
    kind: str, tmp_path: Path, cdk: CdkRunner, api: DemoAPI
) -> None:
    server = PyPIServer(tmp_path / "pypiserver") if kind == "pypiserver" else None
    try:
        repository = server.url if server else str(tmp_path / "registry")
        env = (
            {"CDK_REGISTRY_USERNAME": REGISTRY_USER, "CDK_REGISTRY_PASSWORD": REGISTRY_PASSWORD}
            if server
            else {}
        )
        env["PYTEST_ADDOPTS"] = "-p no:hypothesispytest"

        made = cdk(
            "init", "shop", "--no-input", "--set", "auth=bearer", "--set", f"base_url={api.url}", cwd=tmp_path
        )
        assert made.returncode == 0, made.stderr
        project = tmp_path / "shop"
        config = json.loads((project / "secrets" / "config.template.json").read_text())
        config["authentication"]["params"]["token"] = TOKEN  # the real token, as a user pastes it
        (project / "secrets" / "config.json").write_text(json.dumps(config, indent=2))

        recorded = cdk("test", "--record", cwd=project, env=env, timeout=300)
        assert recorded.returncode == 0, recorded.stdout + recorded.stderr
        assert list((project / "tests" / "cassettes").glob("*.json")), "nothing was recorded"

        published = cdk("publish", "0.1.0", "--repository", repository, cwd=project, env=env, timeout=600)
        assert published.returncode == 0, published.stdout + published.stderr
        assert published.stdout.strip() == "shop==0.1.0"
        output = published.stdout + published.stderr
        assert TOKEN not in output and REGISTRY_PASSWORD not in output

        # the artifacts hold no spelling of the token (raw, base64, percent-encoded, escaped, ...)
        token = SecretSet([Secret("token", TOKEN)])
        artifacts = sorted((project / "dist").glob("shop-0.1.0*"))
        assert [a.name for a in artifacts] == ["shop-0.1.0-py3-none-any.whl", "shop-0.1.0.tar.gz"]
        for artifact in artifacts:
            for name, data in members(artifact):
                assert not token.find_bytes(data), f"{artifact.name}:{name} holds the token"
                assert TOKEN.encode() not in data

        # a brand-new virtualenv: no system site-packages, nothing of ours
        clean = tmp_path / "clean"
        venv.create(clean, with_pip=True, system_site_packages=False)
        python = clean / "bin" / "python"
        machine_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "PIP_INDEX_URL", "PYTHON"))
        }
        probe = subprocess.run(
            [str(python), "-c", "import cdk"], capture_output=True, text=True, env=machine_env, cwd=tmp_path
        )
        assert probe.returncode != 0, "the new virtualenv already sees cdk"

        # the documented command, exactly as publish printed it
        [line] = [ln for ln in published.stderr.splitlines() if "on a machine without cdk: pip install" in ln]
        command = shlex.split(line.split(": ", 1)[1])
        assert command[:3] == ["pip", "install", "--extra-index-url"] and command[-1] == "shop==0.1.0"
        if server:
            assert REGISTRY_PASSWORD not in line
        installed = subprocess.run(
            [str(python), "-m", *command, "--disable-pip-version-check", "--no-input"],
            capture_output=True,
            text=True,
            timeout=900,
            env=machine_env,
            cwd=tmp_path,
        )
        assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
        assert re.search(r"Successfully installed .*connector-cdk-0\.1\.0", installed.stdout), (
            installed.stdout[-2000:]
        )

        package = subprocess.run(
            [str(python), "-c", "import shop, os; print(os.path.dirname(shop.__file__))"],
            capture_output=True,
            text=True,
            env=machine_env,
            timeout=60,
            cwd=tmp_path,
        ).stdout.strip()
        assert package.startswith(str(clean)), package
        read = subprocess.run(
            [
                str(clean / "bin" / "cdk"),
                "read",
                "-C",
                package,
                "--config",
                str(project / "secrets" / "config.json"),
                "--stream",
                "users",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env={**machine_env, "NO_COLOR": "1"},
            cwd=tmp_path,
        )
        assert read.returncode == 0, read.stderr
        rows = [json.loads(line) for line in read.stdout.splitlines()]
        assert len(rows) == 25 and {r["stream"] for r in rows} == {"users"}
        assert TOKEN not in read.stderr
    finally:
        if server:
            server.stop()


def test_install_names_the_dependency_that_is_missing_not_the_connector(
    tmp_path: Path, cdk: CdkRunner, built_dists: tuple[Path, Path]
) -> None:
    """A registry filled without cdk publish (so without connector-cdk): cdk install says that the
    connector is there and connector-cdk is what pip could not find, and how to fix it."""
    from cdk.publish.registry import FolderRegistry

    registry = FolderRegistry(tmp_path / "bare")
    registry.upload(list(built_dists))
    clean = tmp_path / "clean"
    venv.create(clean, with_pip=False, system_site_packages=False)
    offline = {"PIP_INDEX_URL": registry.index_url, "PIP_FIND_LINKS": "", "PIP_EXTRA_INDEX_URL": ""}
    r = cdk(
        "install",
        "acme==1.0.0",
        "--repository",
        str(registry.root),
        "--python",
        str(clean / "bin" / "python"),
        env=offline,
        timeout=300,
    )
    assert r.returncode == 1, r.stderr
    assert f"acme-connector==1.0.0 is in {registry.display}, but its dependency connector-cdk" in r.stderr
    assert "is not in" not in r.stderr
    assert "cdk publish uploads the connector-cdk it needs" in r.stderr
    missing = cdk("install", "acme==9.9.9", "--repository", str(registry.root), env=offline)
    assert missing.returncode == 1
    assert f"acme-connector==9.9.9 is not in {registry.display}" in missing.stderr
