"""Fixtures for publishing tests: a small realistic connector project, the cdk CLI (in-process),
an offline build environment, and (in the registry tests) a real pypiserver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import invoke_cdk

CONNECTOR_YAML = """\
# Acme connector: users and orders from the Acme API.
manifest_version: 1
name: acme
version: {version}   # written by cdk publish
display_name: Acme
description: Users and orders from the Acme API
kind: source
capabilities: [batch_extract, incremental]
entrypoint: acme_connector.source:AcmeSource
config:
  class: acme_connector.source:AcmeConfig
  schema: schemas/config.json
streams:
  - name: users
    primary_key: [id]
    cursor_field: updated_at
    schema: schemas/users.json
  - name: orders
    primary_key: [id]
    cursor_field: created_at
    schema: schemas/orders.json
allowed_hosts: [api.acme.test]
"""

PYPROJECT = """\
# The Acme connector's packaging.
[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "acme-connector"
version = "{version}"  # kept equal to connector.yaml
description = "Acme connector"
requires-python = ">=3.10"
dependencies = ["connector-cdk"]

[project.entry-points."cdk.connectors"]
acme = "acme_connector.source:AcmeSource"

[tool.hatch.build.targets.wheel]
packages = ["acme_connector"]

[tool.hatch.build.targets.wheel.force-include]
"connector.yaml" = "acme_connector/connector.yaml"
"schemas" = "acme_connector/schemas"
"""

SOURCE_PY = '''\
"""The Acme source (records come from a fixed list, so it runs without a network)."""

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord

DATA = {
    "users": [{"id": 1, "email": "ada@acme.test", "updated_at": "2026-01-01T00:00:00Z"},
              {"id": 2, "email": None, "updated_at": "2026-01-02T00:00:00Z"}],
    "orders": [{"id": 10, "amount": 9.5, "user_id": 1, "created_at": "2026-01-03T00:00:00Z"}],
}


class AcmeConfig(SourceConfig):
    api_key: str
    base_url: str = "https://api.acme.test"


class AcmeSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["users", "orders"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return AcmeConfig

    def check_connection(self):
        return True, None

    def get(self, pagination=None) -> SourceIteration:
        rows = DATA[self.config.stream]
        return SourceIteration(records=[SourceRecord(id=str(r["id"]), data=r) for r in rows])
'''

CONFIG_SCHEMA = {
    "type": "object",
    "required": ["api_key"],
    "properties": {
        "api_key": {"type": "string", "secret": True},
        "base_url": {"type": "string", "default": "https://api.acme.test"},
    },
}
USERS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": ["string", "null"]},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
ORDERS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "amount": {"type": "number"},
        "user_id": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}

# Nothing answers here: builds take the offline path (installed hatchling), as on a machine without network.
DEAD_INDEX = "http://127.0.0.1:9/simple/"


def write_connector(root: Path, version: str = "0.1.0", *, git: bool = True) -> Path:
    """A small, realistic connector project (what `cdk init` would make), optionally committed to git."""
    (root / "acme_connector").mkdir(parents=True, exist_ok=True)
    (root / "schemas").mkdir(exist_ok=True)
    (root / "connector.yaml").write_text(CONNECTOR_YAML.format(version=version))
    (root / "pyproject.toml").write_text(PYPROJECT.format(version=version))
    (root / "acme_connector" / "__init__.py").write_text('"""Acme connector."""\n')
    (root / "acme_connector" / "source.py").write_text(SOURCE_PY)
    for name, schema in (("config", CONFIG_SCHEMA), ("users", USERS_SCHEMA), ("orders", ORDERS_SCHEMA)):
        (root / "schemas" / f"{name}.json").write_text(json.dumps(schema, indent=2) + "\n")
    (root / ".gitignore").write_text("dist/\n")
    if git:
        git_commit(root, "acme connector")
    return root


def git_commit(root: Path, message: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z",
        "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
    }
    ident = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), *ident, "commit", "-q", "-m", message], check=True, env=env)


@pytest.fixture
def connector(tmp_path: Path) -> Path:
    return write_connector(tmp_path / "acme")


@pytest.fixture
def cdk_env(tmp_path: Path) -> dict[str, str]:
    """Environment for cdk subprocesses: offline builds, a private CDK_HOME, no registry settings leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "TWINE_", "SOURCE_DATE_EPOCH"))}
    env.update(
        {
            "PIP_INDEX_URL": DEAD_INDEX,
            "CDK_HOME": str(tmp_path / "cdk-home"),
            "NO_COLOR": "1",
            "HOME": str(tmp_path / "home"),
        }
    )
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


CdkRunner = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def cdk(cdk_env: dict[str, str]) -> CdkRunner:
    """Run ``cdk ARGS`` in-process (tests.conftest.invoke_cdk) in exactly the environment ``cdk_env``
    (variables outside it are removed for the call); returns a CompletedProcess (text). Builds, twine,
    pip and git still run as the real subprocesses cdk starts; test_a_killed_publish_restores_the_working_tree
    runs cdk itself as a subprocess, because a signal is its point."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 180,
        input: str | None = None,
    ) -> subprocess.CompletedProcess:
        full = {**cdk_env, **(env or {})}
        removed: dict[str, str | None] = {k: None for k in os.environ if k not in full}
        return invoke_cdk(*args, cwd=cwd, env={**removed, **full}, input=input, text=True)

    return run


def dedent(text: str) -> str:
    return textwrap.dedent(text)


# --- a real pypiserver on 127.0.0.1 ---------------------------------------------------------------

REGISTRY_USER = "alice"
REGISTRY_PASSWORD = "s3cret-Registry-PW-7731"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PyPIServer:
    def __init__(self, root: Path, authenticate: str = "update", *, htpasswd: bool = True) -> None:
        from passlib.apache import HtpasswdFile

        self.packages = root / "packages"
        self.packages.mkdir(parents=True)
        if htpasswd:
            passwords = HtpasswdFile(str(root / "htpasswd"), new=True)
            passwords.set_password(REGISTRY_USER, REGISTRY_PASSWORD)
            passwords.save()
        self.log = open(root / "pypiserver.log", "wb")  # noqa: SIM115 - closed in stop()
        # free_port() lets the port go before pypiserver binds it; under xdist another worker may take it
        # in between, so a server that exits at once is started again on another port
        for attempt in range(3):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}/"
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pypiserver",
                    "run",
                    "-i",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-P",
                    str(root / "htpasswd") if htpasswd else ".",
                    "-a",
                    authenticate,
                    "--disable-fallback",
                    str(self.packages),
                ],
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            try:
                self._wait()
                return
            except RuntimeError:
                if attempt == 2 or self.proc.poll() is None:
                    self.stop()
                    raise

    def _wait(self, attempts: int = 600) -> None:
        import time
        import urllib.error
        import urllib.request

        for _ in range(attempts):  # bounded: at most ~30 s (a loaded 2-core machine runs 2 xdist workers)
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"pypiserver exited: {(self.packages.parent / 'pypiserver.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(self.url + "simple/", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # answering, with authentication required
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pypiserver did not answer within 30 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()

    def listing(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.packages.iterdir())}


@pytest.fixture
def pypiserver(tmp_path: Path):
    server = PyPIServer(tmp_path / "pypiserver")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def built_dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) of the acme connector 1.0.0, built once per session (offline, installed hatchling)."""
    from cdk.publish.build import build_project

    root = write_connector(tmp_path_factory.mktemp("built") / "acme", version="1.0.0")
    result = build_project(root, root / "dist", isolation="none")
    assert result.sdist and result.wheel
    return result.sdist, result.wheel


# --- a real devpi-server on 127.0.0.1 -------------------------------------------------------------

DEVPI_USER = "bob"
DEVPI_PASSWORD = "devpi-Secret-PW-4410"


class DevpiServer:
    """devpi-server in a temporary server directory, with a user and an index ``USER/dev`` that has no
    base (nothing mirrored from PyPI). ``url`` is the upload URL; its simple index is ``url + "+simple/"``."""

    def __init__(self, root: Path) -> None:
        import shutil

        self.serverdir = root / "server"
        bindir = Path(sys.executable).parent
        init = shutil.which("devpi-init", path=str(bindir)) or shutil.which("devpi-init")
        server = shutil.which("devpi-server", path=str(bindir)) or shutil.which("devpi-server")
        if not init or not server:
            raise RuntimeError("devpi-server is not installed (pip install -e '.[dev]')")
        subprocess.run(
            [init, "--serverdir", str(self.serverdir), "--no-root-pypi"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.url = f"{self.base}{DEVPI_USER}/dev/"
        self.log = open(root / "devpi.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [server, "--serverdir", str(self.serverdir), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait(root)
        self._api("PUT", DEVPI_USER, {"password": DEVPI_PASSWORD, "email": "bob@example.com"}, auth=False)
        self._api("PUT", f"{DEVPI_USER}/dev", {"bases": [], "volatile": False})

    def _api(self, method: str, path: str, body: dict[str, object], *, auth: bool = True) -> None:
        import requests

        response = requests.request(
            method,
            self.base + path,
            json=body,
            auth=(DEVPI_USER, DEVPI_PASSWORD) if auth else None,
            headers={"Accept": "application/json"},
            timeout=30,
        )
        if response.status_code >= 300:
            raise RuntimeError(f"devpi {method} {path}: HTTP {response.status_code} {response.text[:300]}")

    def _wait(self, root: Path, attempts: int = 600) -> None:
        import time
        import urllib.request

        for _ in range(attempts):  # bounded: at most ~60 s (devpi starts slowly on a busy machine)
            if self.proc.poll() is not None:
                raise RuntimeError(f"devpi-server exited: {(root / 'devpi.log').read_text()}")
            try:
                with urllib.request.urlopen(self.base + "+api", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("devpi-server did not answer within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()

    def listing(self) -> dict[str, bytes]:
        """Every distribution file devpi stores (its +files tree), by name."""
        files = self.serverdir / "+files"
        if not files.is_dir():
            return {}
        return {
            p.name: p.read_bytes()
            for p in sorted(files.rglob("*"))
            if p.is_file() and p.name.endswith((".whl", ".tar.gz"))
        }
