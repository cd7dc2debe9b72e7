"""Version rules and fail-closed index discovery against three real registries started here on
127.0.0.1: the folder registry, pypiserver with htpasswd authentication, and devpi-server (whose index
is at USER/INDEX/+simple/, not /simple/). Every refusal leaves the registry's files exactly as they were."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    DEVPI_PASSWORD,
    DEVPI_USER,
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    CdkRunner,
    DevpiServer,
    PyPIServer,
    write_connector,
)

GATE = "--skip-gate"


@dataclass
class Target:
    kind: str
    repository: str
    env: dict[str, str]
    listing: Callable[[], dict[str, bytes]]
    wrong_index: str  # an index URL (or folder) that does not hold the index
    stop: Callable[[], None] | None  # makes the index unreachable
    password: str | None


def _folder_listing(root: Path) -> Callable[[], dict[str, bytes]]:
    def listing() -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock"
        }

    return listing


@pytest.fixture(params=["folder", "pypiserver", "devpi"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    kind = request.param
    if kind == "folder":
        root = tmp_path / "registry"
        yield Target(kind, str(root), {}, _folder_listing(root), "", None, None)
    elif kind == "pypiserver":
        server = PyPIServer(tmp_path / "pypiserver")
        try:
            yield Target(
                kind,
                server.url,
                {"CDK_REGISTRY_USERNAME": REGISTRY_USER, "CDK_REGISTRY_PASSWORD": REGISTRY_PASSWORD},
                server.listing,
                server.url + "nope/simple/",
                server.stop,
                REGISTRY_PASSWORD,
            )
        finally:
            server.stop()
    else:
        devpi = DevpiServer(tmp_path / "devpi")
        try:
            yield Target(
                kind,
                devpi.url,  # the upload URL: cdk finds the index at +simple/
                {"CDK_REGISTRY_USERNAME": DEVPI_USER, "CDK_REGISTRY_PASSWORD": DEVPI_PASSWORD},
                devpi.listing,
                devpi.base + f"{DEVPI_USER}/nope/+simple/",
                devpi.stop,
                DEVPI_PASSWORD,
            )
        finally:
            devpi.stop()


def test_version_rules_hold_and_an_unreadable_index_fails_closed(
    target: Target, tmp_path: Path, cdk: CdkRunner
) -> None:
    connector = write_connector(tmp_path / "acme")

    def publish(version: str, *extra: str) -> tuple[int, str]:
        r = cdk(
            "publish", version, "--repository", target.repository, GATE, *extra, cwd=connector, env=target.env
        )
        out = r.stdout + r.stderr
        if target.password:
            assert target.password not in out
        return r.returncode, out

    for version in ("0.1.0", "0.2.0"):
        code, out = publish(version)
        assert code == 0, out
    # the install command publish printed is true: pip finds the pin (and connector-cdk) through it
    [line] = [ln for ln in out.splitlines() if "on a machine without cdk: pip install" in ln]
    command = shlex.split(line.split(": ", 1)[1])
    assert command[:3] == ["pip", "install", "--extra-index-url"] and command[4] == "acme-connector==0.2.0"
    for requirement in ("acme-connector==0.2.0", "connector-cdk"):
        got = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--disable-pip-version-check",
                "--no-input",
                "--index-url",
                command[3],
                "-d",
                str(tmp_path / "dl"),
                requirement,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert got.returncode == 0, got.stderr
    published = target.listing()
    assert sorted(n.rsplit("/", 1)[-1] for n in published if n.endswith((".whl", ".tar.gz"))) == [
        "acme_connector-0.1.0-py3-none-any.whl",
        "acme_connector-0.1.0.tar.gz",
        "acme_connector-0.2.0-py3-none-any.whl",
        "acme_connector-0.2.0.tar.gz",
        "connector_cdk-0.1.0-py3-none-any.whl",  # uploaded by the first publish: the connector requires it
    ]
    versions = cdk("versions", "acme", "--repository", target.repository, env=target.env)
    assert versions.stdout.split() == ["0.1.0", "0.2.0"], versions.stderr

    code, out = publish("0.1.0")
    assert code == 1, out
    assert "acme-connector 0.1.0 is already published" in out
    # the hint names a version that is free (0.1.1 would not be: it is below the latest 0.2.0)
    assert "e.g. cdk publish patch (0.2.1)" in out and "0.1.1" not in out
    assert target.listing() == published

    code, out = publish("0.0.5")
    assert code == 1, out
    assert "0.0.5 is not greater than the latest published version 0.2.0" in out
    assert target.listing() == published

    # the index at a wrong place: never "nothing published", always exit 3 and nothing uploaded
    if target.kind == "folder":
        index = Path(target.repository) / "simple" / "acme-connector" / "index.html"
        saved = index.read_bytes()
        index.unlink()
        index.mkdir()  # the index exists but cannot be read
        code, out = publish("0.3.0")
        assert code == 3, out
        assert f"the index {index} of the registry" in out and "cannot be read" in out
        index.rmdir()
        index.write_bytes(saved)
    else:
        code, out = publish("0.3.0", "--index-url", target.wrong_index)
        assert code == 3, out
        assert "cannot be read: tried " + target.wrong_index in out
        assert "--index-url" in out  # what to do next
    assert target.listing() == published
    assert "version: 0.2.0 " in (connector / "connector.yaml").read_text()  # restored

    # the hinted command works
    code, out = publish("patch")
    assert code == 0, out
    assert re.search(r"published acme-connector 0\.2\.1 to ", out)
    published = target.listing()

    if target.stop is not None:
        target.stop()
        code, out = publish("0.3.0")
        assert code == 3, out
        assert "cannot be reached" in out
        assert target.listing() == published


def test_a_registry_without_authentication_needs_no_credentials(tmp_path: Path, cdk: CdkRunner) -> None:
    server = PyPIServer(tmp_path / "open", authenticate=".", htpasswd=False)
    try:
        connector = write_connector(tmp_path / "acme")
        r = cdk("publish", "0.1.0", "--repository", server.url, GATE, cwd=connector)
        assert r.returncode == 0, r.stderr
        assert sorted(server.listing()) == [
            "acme_connector-0.1.0-py3-none-any.whl",
            "acme_connector-0.1.0.tar.gz",
            "connector_cdk-0.1.0-py3-none-any.whl",
        ]
    finally:
        server.stop()


def test_the_index_url_may_be_given_as_the_repository(tmp_path: Path, cdk: CdkRunner) -> None:
    devpi = DevpiServer(tmp_path / "devpi")
    try:
        connector = write_connector(tmp_path / "acme")
        env = {"CDK_REGISTRY_USERNAME": DEVPI_USER, "CDK_REGISTRY_PASSWORD": DEVPI_PASSWORD}
        r = cdk("publish", "0.1.0", "--repository", devpi.url + "+simple/", GATE, cwd=connector, env=env)
        assert r.returncode == 0, r.stderr
        assert sorted(devpi.listing()) == [
            "acme_connector-0.1.0-py3-none-any.whl",
            "acme_connector-0.1.0.tar.gz",
            "connector_cdk-0.1.0-py3-none-any.whl",
        ]
        again = cdk("publish", "0.1.0", "--repository", devpi.url, GATE, cwd=connector, env=env)
        assert again.returncode == 1, again.stderr
    finally:
        devpi.stop()
    shutil.rmtree(tmp_path / "devpi", ignore_errors=True)


def test_ci_without_a_registry_says_what_publish_would_use(
    tmp_path: Path, cdk: CdkRunner, cdk_env: dict[str, str]
) -> None:
    import json

    connector = write_connector(tmp_path / "acme")
    r = cdk(
        "ci", "--skip", "validate", "--skip", "test", "--skip", "build", "--format", "json", cwd=connector
    )
    [release] = [s for s in json.loads(r.stdout)["stages"] if s["stage"] == "release"]
    assert release["status"] == "skipped"
    assert release["summary"] == (
        "version rules not checked: no registry given (--repository or CDK_REGISTRY_URL); "
        f"cdk publish would use the folder registry {Path(cdk_env['CDK_HOME']) / 'registry'}"
    )


KEYRING_BACKEND = """
import keyring.backend
import keyring.credentials


class Backend(keyring.backend.KeyringBackend):
    priority = 20

    def get_credential(self, service, username):
        if service.startswith("{url}"):
            return keyring.credentials.SimpleCredential("{user}", "{password}")
        return None

    def get_password(self, service, username):
        return "{password}" if service.startswith("{url}") and username == "{user}" else None

    def set_password(self, service, username, password):
        raise NotImplementedError

    def delete_password(self, service, username):
        raise NotImplementedError
"""


def test_credentials_from_pypirc_and_from_the_keyring(
    tmp_path: Path, cdk: CdkRunner, cdk_env: dict[str, str]
) -> None:
    server = PyPIServer(tmp_path / "pypiserver")
    try:
        connector = write_connector(tmp_path / "acme")
        # a ~/.pypirc section named as the repository
        Path(cdk_env["HOME"], ".pypirc").write_text(
            f"[distutils]\nindex-servers = team\n\n[team]\nrepository = {server.url}\n"
            f"username = {REGISTRY_USER}\npassword = {REGISTRY_PASSWORD}\n"
        )
        r = cdk("publish", "0.1.0", "--repository", "team", GATE, cwd=connector)
        assert r.returncode == 0, r.stderr
        assert REGISTRY_PASSWORD not in r.stdout + r.stderr
        Path(cdk_env["HOME"], ".pypirc").unlink()
        # nothing configured but a keyring backend that holds the credentials for the registry's URL
        backend = tmp_path / "keyring-backend"
        backend.mkdir()
        (backend / "cdk_test_keyring.py").write_text(
            KEYRING_BACKEND.format(url=server.url, user=REGISTRY_USER, password=REGISTRY_PASSWORD)
        )
        keyring_env = {"PYTHONPATH": str(backend), "PYTHON_KEYRING_BACKEND": "cdk_test_keyring.Backend"}
        # a real process: the keyring backend is chosen at import, from the environment and sys.path
        r = subprocess.run(
            [sys.executable, "-m", "cdk", "publish", "0.2.0", "--repository", server.url, GATE],
            cwd=connector,
            env={**cdk_env, **keyring_env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr
        assert REGISTRY_PASSWORD not in r.stdout + r.stderr
        assert "acme_connector-0.2.0-py3-none-any.whl" in server.listing()
        # without the keyring the same publish has no credentials: the registry refuses, exit 3
        r = cdk("publish", "0.3.0", "--repository", server.url, GATE, cwd=connector)
        assert r.returncode == 3, r.stderr
        assert "acme_connector-0.3.0-py3-none-any.whl" not in server.listing()
    finally:
        server.stop()
