"""Registries: the folder registry (PEP 503 tree, locking) and a real pypiserver over HTTP."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REGISTRY_PASSWORD, REGISTRY_USER, PyPIServer, free_port

from cdk.errors import AlreadyPublished, OutsideError
from cdk.publish.registry import (
    Credentials,
    FolderRegistry,
    HttpRegistry,
    open_registry,
    parse_simple_json,
    versions_of,
)


def fake_wheel(folder: Path, version: str, payload: str = "x") -> Path:
    """A wheel-named zip: the registry layer only cares about names and bytes."""
    path = folder / f"acme_connector-{version}-py3-none-any.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("acme_connector/__init__.py", payload)
    return path


def test_folder_registry_writes_a_pep503_tree_with_sha256(tmp_path: Path) -> None:
    reg = FolderRegistry(tmp_path / "reg")
    wheel = fake_wheel(tmp_path / "dist", "1.4.2")
    report = reg.upload([wheel])
    assert report.uploaded == [wheel.name]
    page = (tmp_path / "reg" / "simple" / "acme-connector" / "index.html").read_text()
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f'href="{wheel.name}#sha256={sha}"' in page
    assert 'href="acme-connector/"' in (tmp_path / "reg" / "simple" / "index.html").read_text()
    [listed] = reg.files("Acme_Connector")
    assert (listed.version, listed.sha256) == ("1.4.2", sha)
    assert reg.fetch(listed) == wheel.read_bytes()


def test_folder_registry_never_overwrites_and_tells_identical_from_different(tmp_path: Path) -> None:
    reg = FolderRegistry(tmp_path / "reg")
    wheel = fake_wheel(tmp_path / "a", "1.4.2", "one")
    reg.upload([wheel])
    with pytest.raises(AlreadyPublished, match="already published, identical"):
        reg.upload([wheel])
    other = fake_wheel(tmp_path / "b", "1.4.2", "two")
    with pytest.raises(AlreadyPublished, match="already published, different"):
        reg.upload([other])
    assert reg.fetch(reg.files("acme-connector")[0]) == wheel.read_bytes()


def test_an_interrupted_copy_is_resumed_not_published_twice(tmp_path: Path) -> None:
    reg = FolderRegistry(tmp_path / "reg")
    wheel = fake_wheel(tmp_path / "dist", "1.0.0")
    # the file landed but the index was never updated (interrupted between the two)
    target = reg.project_dir("acme-connector") / wheel.name
    target.parent.mkdir(parents=True)
    target.write_bytes(wheel.read_bytes())
    assert reg.files("acme-connector") == []
    report = reg.upload([wheel])
    assert report.already_identical == [wheel.name]
    assert versions_of(reg.files("acme-connector")) == ["1.0.0"]


CONCURRENT = """
import sys
from pathlib import Path
from cdk.publish.registry import FolderRegistry
FolderRegistry(sys.argv[1]).upload([Path(p) for p in sys.argv[2:]])
"""


def test_concurrent_publishes_do_not_lose_each_others_versions(tmp_path: Path) -> None:
    reg_path = tmp_path / "reg"
    batches = [[fake_wheel(tmp_path / f"d{i}", f"1.{i}.{j}") for j in range(4)] for i in range(4)]
    procs = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT, str(reg_path), *map(str, batch)])
        for batch in batches
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    listed = versions_of(FolderRegistry(reg_path).files("acme-connector"))
    assert listed == sorted(
        {f"1.{i}.{j}" for i in range(4) for j in range(4)}, key=lambda v: tuple(map(int, v.split(".")))
    )
    assert not list(reg_path.rglob("*.tmp"))


def test_pep691_json_pages_are_read() -> None:
    page = {
        "meta": {"api-version": "1.0"},
        "name": "acme-connector",
        "files": [
            {
                "filename": "acme_connector-1.4.2-py3-none-any.whl",
                "url": "../../files/acme_connector-1.4.2-py3-none-any.whl",
                "hashes": {"sha256": "ab" * 32},
            },
            {
                "filename": "acme_connector-2.0.0rc1.tar.gz",
                "url": "https://cdn.example/acme_connector-2.0.0rc1.tar.gz",
                "hashes": {},
            },
        ],
    }
    files = parse_simple_json(page, "https://reg.example/simple/acme-connector/")
    assert [(f.version, f.sha256) for f in files] == [("1.4.2", "ab" * 32), ("2.0.0rc1", None)]
    assert files[0].url == "https://reg.example/files/acme_connector-1.4.2-py3-none-any.whl"


@pytest.fixture
def built(built_dists: tuple[Path, Path]) -> Path:
    return built_dists[1]


def test_http_registry_upload_list_fetch_and_conflicts(
    pypiserver: PyPIServer, built: Path, tmp_path: Path
) -> None:
    sleeps: list[float] = []
    reg = HttpRegistry(
        pypiserver.url, credentials=Credentials(REGISTRY_USER, REGISTRY_PASSWORD), sleep=sleeps.append
    )
    assert reg.files("acme-connector") == []  # no fallback to PyPI for an unknown project
    report = reg.upload([built])
    assert report.uploaded == [built.name]
    [listed] = reg.files("acme-connector")
    assert listed.version == "1.0.0" and listed.sha256 == hashlib.sha256(built.read_bytes()).hexdigest()
    assert reg.fetch(listed) == built.read_bytes()
    # pypiserver answers a re-upload with 400; the index's sha256 says it is the same file
    again = reg.upload([built])
    assert again.already_identical == [built.name] and again.uploaded == []
    changed = fake_wheel(tmp_path / "other", "1.0.0", "different")
    before = pypiserver.listing()
    with pytest.raises(AlreadyPublished, match="already published, different"):
        reg.upload([changed])
    assert pypiserver.listing() == before
    assert sleeps == []


def test_http_registry_wrong_password_is_an_outside_failure_without_the_secret(
    pypiserver: PyPIServer, built: Path
) -> None:
    wrong = "not-the-Password-9981"
    reg = HttpRegistry(pypiserver.url, credentials=Credentials(REGISTRY_USER, wrong), sleep=lambda s: None)
    with pytest.raises(OutsideError) as info:
        reg.upload([built])
    text = f"{info.value.message} {info.value.hint}"
    assert "refused the credentials (HTTP 403)" in text
    assert wrong not in text and info.value.exit_code == 3
    assert pypiserver.listing() == {}


def test_http_registry_down_is_an_outside_failure(built: Path) -> None:
    reg = HttpRegistry(
        f"http://127.0.0.1:{free_port()}/", credentials=Credentials("u", "p"), sleep=lambda s: None
    )
    with pytest.raises(OutsideError, match="cannot be reached"):
        reg.files("acme-connector")
    with pytest.raises(OutsideError, match="cannot be reached"):
        reg.upload([built])


def test_open_registry_resolution(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pypirc").write_text(
        "[distutils]\nindex-servers = corp\n\n[corp]\nrepository = https://reg.corp.test/pypi/\n"
        "username = bob\npassword = pypirc-pw\n"
    )
    env = {"HOME": str(home), "CDK_HOME": str(tmp_path / "cdkhome")}
    default = open_registry(None, env=env)
    assert (
        isinstance(default, FolderRegistry) and default.root == (tmp_path / "cdkhome" / "registry").resolve()
    )
    corp = open_registry("corp", env=env)
    assert isinstance(corp, HttpRegistry)
    assert (corp.url, corp.index_url, corp.credentials.username, corp.credentials.source) == (
        "https://reg.corp.test/pypi/",
        "https://reg.corp.test/pypi/simple/",
        "bob",
        ".pypirc:corp",
    )
    by_url = open_registry("https://reg.corp.test/pypi", env={**env, "CDK_REGISTRY_PASSWORD": "env-pw"})
    assert isinstance(by_url, HttpRegistry)
    assert (by_url.credentials.username, by_url.credentials.password) == ("bob", "env-pw")
    flagged = open_registry("https://u:urlpw@reg.corp.test/x/simple/", password="flag-pw", env=env)
    assert isinstance(flagged, HttpRegistry)
    assert (flagged.url, flagged.index_url, flagged.credentials.password) == (
        "https://reg.corp.test/x/",
        "https://reg.corp.test/x/simple/",
        "flag-pw",
    )
    assert "flag-pw" not in flagged.scrub("failed for https://u:flag-pw@reg.corp.test/ with flag-pw")


def test_temporary_files_left_by_a_killed_copy_are_swept_under_the_lock(tmp_path: Path) -> None:
    reg = FolderRegistry(tmp_path / "reg")
    reg.upload([fake_wheel(tmp_path / "a", "1.0.0")])
    stale = reg.project_dir("acme-connector") / ".acme_connector-1.1.0-py3-none-any.whl.k1l2x.tmp"
    stale.write_bytes(b"\0" * 4096)  # what a SIGKILL during the copy leaves
    root_stale = reg.simple / ".index.html.q9z.tmp"
    root_stale.write_bytes(b"<html")
    reg.upload([fake_wheel(tmp_path / "b", "1.1.0")])
    assert not stale.exists() and not root_stale.exists()
    assert [f.version for f in reg.files("acme-connector")] == ["1.0.0", "1.1.0"]


def test_an_index_that_cannot_be_read_is_an_outside_failure_never_empty(tmp_path: Path) -> None:
    reg = FolderRegistry(tmp_path / "reg")
    reg.upload([fake_wheel(tmp_path / "a", "1.0.0")])
    index = reg.project_dir("acme-connector") / "index.html"
    index.unlink()  # the root still lists the project: its page is gone, not "nothing published"
    with pytest.raises(OutsideError, match="lists acme-connector but .* is missing"):
        reg.files("acme-connector")
    assert reg.files("other-connector") == []  # a project the root does not list is simply unpublished


def test_the_version_guard_sees_the_index_under_the_lock(tmp_path: Path) -> None:
    from cdk.errors import VersionRefused

    reg = FolderRegistry(tmp_path / "reg")
    reg.upload([fake_wheel(tmp_path / "a", "2.0.0")])
    seen: list[list[str]] = []

    def guard(listed: list) -> None:  # type: ignore[type-arg]
        seen.append([f.version for f in listed])
        raise VersionRefused("1.9.0 is not greater than 2.0.0")

    with pytest.raises(VersionRefused):
        reg.upload([fake_wheel(tmp_path / "b", "1.9.0")], guard=guard)
    assert seen == [["2.0.0"]]
    assert [f.version for f in reg.files("acme-connector")] == ["2.0.0"]
