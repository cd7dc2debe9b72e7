"""cdk publish end to end: real cdk subprocesses, a real pypiserver with authentication, the folder
registry, real pip installs into fresh virtual environments.

The gate's validate/test steps are skipped here (--skip-gate) because `cdk validate` and `cdk test`
are not in this branch yet; test_gate_fails_loudly_without_validate_or_test covers the gate itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import REGISTRY_PASSWORD, REGISTRY_USER, CdkRunner, PyPIServer, free_port, git_commit

from cdk.publish.registry import FolderRegistry

GATE = "--skip-gate"


@pytest.fixture
def fresh_venv(tmp_path: Path) -> Path:
    """A new virtual environment whose only link to ours is a .pth to our site-packages, so the
    connector's dependency (connector-cdk) is already satisfied without an index."""
    path = tmp_path / "venv"
    venv.create(path, with_pip=False)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "_cdk_host.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def auth_env() -> dict[str, str]:
    return {"CDK_REGISTRY_USERNAME": REGISTRY_USER, "CDK_REGISTRY_PASSWORD": REGISTRY_PASSWORD}


def remove_users_email(connector: Path) -> None:
    path = connector / "schemas" / "users.json"
    schema = json.loads(path.read_text())
    del schema["properties"]["email"]
    path.write_text(json.dumps(schema, indent=2) + "\n")


def test_publish_to_pypiserver_install_pinned_and_version_rules(
    connector: Path, cdk: CdkRunner, pypiserver: PyPIServer, fresh_venv: Path
) -> None:
    env = auth_env()
    result = cdk("publish", "1.4.2", "--repository", pypiserver.url, GATE, cwd=connector, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "acme-connector==1.4.2"
    assert sorted(pypiserver.listing()) == [
        "acme_connector-1.4.2-py3-none-any.whl",
        "acme_connector-1.4.2.tar.gz",
        "connector_cdk-0.1.0-py3-none-any.whl",  # the SDK it depends on, which the registry lacked
    ]
    # the version is written, comments and layout kept
    assert "version: 1.4.2   # written by cdk publish\n" in (connector / "connector.yaml").read_text()
    assert 'version = "1.4.2"  # kept equal to connector.yaml\n' in (connector / "pyproject.toml").read_text()
    assert REGISTRY_PASSWORD not in result.stdout + result.stderr

    # a pipeline pins the version and installs it into a fresh environment from that index
    installed = cdk(
        "install",
        "acme-connector==1.4.2",
        "--repository",
        pypiserver.url,
        "--python",
        str(fresh_venv),
        env=env,
    )
    assert installed.returncode == 0, installed.stderr
    listed = subprocess.run(
        [str(fresh_venv), "-m", "cdk", "connectors", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert {
        "name": "acme",
        "object": "acme_connector.source:AcmeSource",
        "distribution": "acme-connector",
        "version": "1.4.2",
    } in json.loads(listed.stdout)
    # the installed package is a loadable connector: its manifest, schemas and class come with it
    probe = subprocess.run(
        [
            str(fresh_venv),
            "-c",
            (
                "import importlib.metadata as m, pathlib, acme_connector\n"
                "from cdk.project import Project\n"
                "[ep] = m.entry_points(group='cdk.connectors', name='acme')\n"
                "cls = ep.load()\n"
                "p = Project.load(pathlib.Path(acme_connector.__file__).parent)\n"
                "print(cls.__name__, p.manifest.version, sorted(p.stream_schema('users')['properties']))"
            ),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.split() == ["AcmeSource", "1.4.2", "['email',", "'id',", "'updated_at']"], (
        probe.stderr
    )
    # and `cdk read` runs the installed connector (its folder inside site-packages)
    package = subprocess.run(
        [str(fresh_venv), "-c", "import acme_connector, os; print(os.path.dirname(acme_connector.__file__))"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    assert "site-packages" in package
    config = connector.parent / "run-config.json"
    config.write_text(json.dumps({"name": "acme", "stream": "users", "api_key": "k-123"}))
    read = subprocess.run(
        [str(fresh_venv), "-m", "cdk", "read", "-C", package, "--config", str(config), "--stream", "users"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert read.returncode == 0, read.stderr
    rows = [json.loads(line) for line in read.stdout.splitlines()]
    assert [(r["stream"], r["id"], r["data"]["email"]) for r in rows] == [
        ("users", "1", "ada@acme.test"),
        ("users", "2", None),
    ]

    before = pypiserver.listing()
    again = cdk("publish", "1.4.2", "--repository", pypiserver.url, GATE, cwd=connector, env=env)
    assert again.returncode == 1
    assert "acme-connector 1.4.2 is already published" in again.stderr and "never overwritten" in again.stderr
    older = cdk("publish", "1.4.1", "--repository", pypiserver.url, GATE, cwd=connector, env=env)
    assert older.returncode == 1
    assert "1.4.1 is not greater than the latest published version 1.4.2" in older.stderr
    assert pypiserver.listing() == before

    remove_users_email(connector)
    breaking = cdk("publish", "1.5.0", "--repository", pypiserver.url, GATE, cwd=connector, env=env)
    assert breaking.returncode == 1
    assert "! stream users: property 'email' was removed" in breaking.stderr
    assert "need a major bump" in breaking.stderr and "publish 2.0.0" in breaking.stderr
    assert pypiserver.listing() == before
    assert "version: 1.4.2 " in (connector / "connector.yaml").read_text()

    major = cdk(
        "publish", "major", "--repository", pypiserver.url, GATE, "--format", "json", cwd=connector, env=env
    )
    assert major.returncode == 0, major.stderr
    report = json.loads(major.stdout)
    assert (report["version"], report["requirement"]) == ("2.0.0", "acme-connector==2.0.0")
    assert report["diff"]["required_bump"] == "major"
    assert [s["step"] for s in report["steps"]] == [
        "load",
        "index",
        "version",
        "diff",
        "gate",
        "write",
        "build",
        "twine-check",
        "scan",
        "sdk",
        "upload",
    ]
    listed = cdk("versions", "acme-connector", "--repository", pypiserver.url, env=env)
    assert listed.stdout.split() == ["1.4.2", "2.0.0"]


def test_wrong_password_is_exit_3_without_the_secret_and_nothing_changes(
    connector: Path, cdk: CdkRunner, pypiserver: PyPIServer
) -> None:
    wrong = "Wr0ng-Passw0rd-123456"
    yaml_before = (connector / "connector.yaml").read_bytes()
    toml_before = (connector / "pyproject.toml").read_bytes()
    result = cdk(
        "publish",
        "1.4.2",
        "--repository",
        pypiserver.url,
        "--username",
        REGISTRY_USER,
        GATE,
        cwd=connector,
        env={"CDK_REGISTRY_PASSWORD": wrong},
    )
    assert result.returncode == 3, result.stderr
    assert f"the registry {pypiserver.url} refused the credentials (HTTP 403)" in result.stderr
    assert wrong not in result.stdout + result.stderr
    assert pypiserver.listing() == {}
    # the version written before the upload was put back
    assert (connector / "connector.yaml").read_bytes() == yaml_before
    assert (connector / "pyproject.toml").read_bytes() == toml_before


def test_a_read_protected_registry_with_a_wrong_password_stops_before_building(
    connector: Path, cdk: CdkRunner, tmp_path: Path
) -> None:
    server = PyPIServer(tmp_path / "private", authenticate="download,list,update")
    try:
        wrong = "Wr0ng-Passw0rd-abcdef"
        result = cdk(
            "publish",
            "1.4.2",
            "--repository",
            server.url,
            GATE,
            cwd=connector,
            env={"CDK_REGISTRY_USERNAME": REGISTRY_USER, "CDK_REGISTRY_PASSWORD": wrong},
        )
        assert result.returncode == 3, result.stderr
        assert (
            f"the registry {server.url} refused the credentials (HTTP 403 for {server.url}simple/)"
            in result.stderr
        )
        assert "building" not in result.stderr and wrong not in result.stderr + result.stdout
        ok = cdk("versions", "acme", "--repository", server.url, env=auth_env())
        assert ok.returncode == 0 and "nothing published" in ok.stderr
    finally:
        server.stop()


def test_registry_down_is_exit_3(connector: Path, cdk: CdkRunner) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    result = cdk("publish", "1.4.2", "--repository", url, GATE, cwd=connector, env=auth_env())
    assert result.returncode == 3
    assert f"the registry {url} cannot be reached" in result.stderr
    assert REGISTRY_PASSWORD not in result.stderr


def test_refused_version_strings_are_exit_1_with_an_example(connector: Path, cdk: CdkRunner) -> None:
    for bad, why in (
        ("1.4.2-1", "post-release"),
        ("1.4.2+build.5", "local version"),
        ("v1.4.2", "'v' prefix"),
    ):
        result = cdk("publish", bad, GATE, "--dry-run", cwd=connector)
        assert result.returncode == 1, result.stderr
        assert why in result.stderr and "e.g. 1.4.2 or 2.0.0-rc.1" in result.stderr


def test_folder_registry_publish_prerelease_and_pip_installs_from_it(
    connector: Path, cdk: CdkRunner, cdk_env: dict[str, str], fresh_venv: Path
) -> None:
    result = cdk("publish", "2.0.0-rc.1", GATE, cwd=connector)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "acme-connector==2.0.0rc1"
    registry = FolderRegistry(Path(cdk_env["CDK_HOME"]) / "registry")
    assert [f.filename for f in registry.files("acme-connector")] == [
        "acme_connector-2.0.0rc1-py3-none-any.whl",
        "acme_connector-2.0.0rc1.tar.gz",
    ]
    assert "version: 2.0.0-rc.1   #" in (connector / "connector.yaml").read_text()
    # plain pip, straight from the folder: as an index, and as find-links
    for source in (
        ["--index-url", registry.index_url],
        ["--no-index", "--find-links", str(registry.project_dir("acme-connector"))],
    ):
        pip = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(fresh_venv),
                "install",
                "-q",
                "--disable-pip-version-check",
                "--force-reinstall",
                "--no-deps",
                *source,
                "acme-connector==2.0.0rc1",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert pip.returncode == 0, pip.stderr
    shown = subprocess.run(
        [str(fresh_venv), "-c", "import importlib.metadata as m; print(m.version('acme-connector'))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.stdout.strip() == "2.0.0rc1"
    final = cdk("publish", "major", GATE, cwd=connector)  # 2.0.0-rc.1 + major = 2.0.0
    assert final.returncode == 0, final.stderr
    assert cdk("versions", "acme-connector").stdout.split() == ["2.0.0rc1", "2.0.0"]


def test_dry_run_writes_nothing_and_uploads_nothing(
    connector: Path, cdk: CdkRunner, cdk_env: dict[str, str]
) -> None:
    before = {p: p.read_bytes() for p in connector.rglob("*") if p.is_file() and ".git" not in p.parts}
    result = cdk("publish", "0.2.0", "--dry-run", "--tag", GATE, cwd=connector)
    assert result.returncode == 0, result.stderr
    assert "dry run: acme-connector 0.2.0 would be published" in result.stderr
    after = {p: p.read_bytes() for p in connector.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before
    assert not (Path(cdk_env["CDK_HOME"]) / "registry").exists()
    assert subprocess.run(["git", "-C", str(connector), "tag"], capture_output=True, text=True).stdout == ""


def test_tag_commits_the_version_bump_and_tags_it(connector: Path, cdk: CdkRunner) -> None:
    env = {
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    result = cdk("publish", "0.2.0", "--tag", GATE, cwd=connector, env=env)
    assert result.returncode == 0, result.stderr
    git = ["git", "-C", str(connector)]
    assert subprocess.run([*git, "tag"], capture_output=True, text=True).stdout.split() == ["v0.2.0"]
    shown = subprocess.run(
        [*git, "show", "--stat", "--format=%s", "v0.2.0"], capture_output=True, text=True
    ).stdout
    assert "Release 0.2.0" in shown and "connector.yaml" in shown and "pyproject.toml" in shown
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    clash = cdk("publish", "0.2.1", "--tag", GATE, cwd=connector, env=env)
    assert clash.returncode == 0, clash.stderr
    subprocess.run([*git, "tag", "v0.3.0"], check=True)
    taken = cdk("publish", "0.3.0", "--tag", GATE, cwd=connector, env=env)
    assert taken.returncode == 1 and "the git tag v0.3.0 already exists" in taken.stderr


def test_an_interrupted_publish_is_resumed_with_identical_bytes(
    connector: Path, cdk: CdkRunner, cdk_env: dict[str, str], tmp_path: Path
) -> None:
    # what an interrupted `cdk publish 1.0.0` leaves behind: the sdist landed, the wheel did not
    for name in ("connector.yaml", "pyproject.toml"):
        path = connector / name
        path.write_text(path.read_text().replace("0.1.0", "1.0.0"))
    git_commit(connector, "1.0.0")
    built = cdk("build", "--sdist", "--out", str(tmp_path / "partial"), cwd=connector)
    assert built.returncode == 0, built.stderr
    registry = FolderRegistry(Path(cdk_env["CDK_HOME"]) / "registry")
    registry.upload([tmp_path / "partial" / "acme_connector-1.0.0.tar.gz"])
    result = cdk("publish", "1.0.0", GATE, cwd=connector)
    assert result.returncode == 0, result.stderr
    assert (
        "resuming an interrupted publish: acme_connector-1.0.0.tar.gz already there, identical"
        in result.stderr
    )
    assert sorted(f.filename for f in registry.files("acme-connector")) == [
        "acme_connector-1.0.0-py3-none-any.whl",
        "acme_connector-1.0.0.tar.gz",
    ]
    # different bytes for the part already there: refused, exactly
    (connector / "acme_connector" / "extra.py").write_text("X = 1\n")
    git_commit(connector, "change")
    registry2 = FolderRegistry(tmp_path / "reg2")
    registry2.upload([tmp_path / "partial" / "acme_connector-1.0.0.tar.gz"])
    changed = cdk("publish", "1.0.0", "--repository", str(registry2.root), GATE, cwd=connector)
    assert changed.returncode == 1
    assert "acme_connector-1.0.0.tar.gz: already published, different" in changed.stderr


def test_secrets_in_the_artifacts_stop_the_publish(connector: Path, cdk: CdkRunner) -> None:
    (connector / "secrets").mkdir()
    (connector / "secrets" / "config.json").write_text(json.dumps({"api_key": "live-Key-0987654321"}))
    (connector / ".gitignore").write_text("dist/\nsecrets/\n")
    (connector / "acme_connector" / "debug.py").write_text('API_KEY = "live-Key-0987654321"\n')
    result = cdk("publish", "0.2.0", "--dry-run", GATE, cwd=connector)
    assert result.returncode == 1
    assert "acme_connector/debug.py: value of secrets/config.json 'api_key'" in result.stderr
    assert "live-Key-0987654321" not in result.stderr + result.stdout
    (connector / "acme_connector" / "debug.py").write_text('TOKEN = "ghp_' + "a1B2" * 9 + '"\n')
    result = cdk("publish", "0.2.0", "--dry-run", GATE, cwd=connector)
    assert result.returncode == 1 and "something that looks like a GitHub token" in result.stderr
    (connector / "acme_connector" / "debug.py").unlink()
    assert cdk("publish", "0.2.0", "--dry-run", GATE, cwd=connector).returncode == 0


def test_gate_fails_loudly_without_validate_or_test(connector: Path, cdk: CdkRunner) -> None:
    no_flags = cdk("publish", "0.2.0", "--dry-run", cwd=connector)
    assert no_flags.returncode == 1
    # cdk validate now exists: the gate runs it, and it stops on the fixture's unbounded connector-cdk (D002)
    assert "cdk validate found" in no_flags.stderr and "D002" in no_flags.stderr
    no_tests = cdk("publish", "0.2.0", "--dry-run", "--skip-validate", cwd=connector)
    assert no_tests.returncode == 1
    # `cdk test` exists now: the gate runs it, and this connector has no recorded fixtures to replay
    assert "the publish gate stopped: cdk test (replay) failed" in no_tests.stderr


def test_cdk_connectors_lists_nothing_here_in_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cdk", "connectors", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0
    assert all({"name", "object", "distribution", "version"} <= set(c) for c in json.loads(result.stdout))


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGQUIT"])
def test_a_killed_publish_restores_the_working_tree(
    signame: str, connector: Path, cdk_env: dict[str, str]
) -> None:
    import signal
    import threading
    import time

    from test_upload_retries import ScriptedRegistry

    arrived, release = threading.Event(), threading.Event()

    def hang(n: int) -> int:
        arrived.set()
        release.wait(30)
        return 503

    server = ScriptedRegistry(hang)
    originals = {p: p.read_bytes() for p in (connector / "connector.yaml", connector / "pyproject.toml")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdk", "publish", "1.4.2", "--repository", server.url, GATE],
        cwd=connector,
        env={**cdk_env, **auth_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert arrived.wait(60), "the upload never started"
        assert "version: 1.4.2 " in (connector / "connector.yaml").read_text()  # written, upload under way
        time.sleep(0.2)  # let twine settle into waiting for the answer
        proc.send_signal(getattr(signal, signame))
        out, err = proc.communicate(timeout=60)
    finally:
        release.set()
        server.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Aborted." in err
    assert {p: p.read_bytes() for p in originals} == originals
