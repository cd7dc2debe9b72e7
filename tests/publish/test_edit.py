"""Writing the version: only the version changes, byte for byte; a failure puts the originals back."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_connector

from cdk.errors import CdkError
from cdk.publish.edit import VersionWrite, set_manifest_version, set_pyproject_version
from cdk.publish.versions import parse_version

MANIFEST = """\
# top comment
manifest_version: 1
name: acme
version: {v}    # aligned comment
streams:
    - name: users      # indented sequence, kept as is
      primary_key: [id]
description: 'version: 0.1.0 in a string is not the version'
"""


@pytest.mark.parametrize("written", ["0.1.0", '"0.1.0"', "'0.1.0'"])
def test_manifest_version_is_replaced_in_place(written: str) -> None:
    text = MANIFEST.format(v=written)
    quote = written[0] if written[0] in "\"'" else ""
    assert set_manifest_version(text, "2.0.0-rc.1") == MANIFEST.format(v=f"{quote}2.0.0-rc.1{quote}")


def test_manifest_without_version_is_an_error() -> None:
    with pytest.raises(CdkError, match="has no 'version' key"):
        set_manifest_version("name: acme\n", "1.0.0")


def test_pyproject_keeps_comments_and_refuses_a_dynamic_version() -> None:
    text = '# c1\n[project]\nname = "x"  # c2\nversion = "0.1.0"  # c3\n\n[tool.x]\na = 1 # c4\n'
    assert set_pyproject_version(text, "1.4.2") == text.replace('"0.1.0"', '"1.4.2"')
    with pytest.raises(CdkError, match="declares the version dynamic"):
        set_pyproject_version('[project]\nname = "x"\ndynamic = ["version"]\n', "1.0.0")


def test_version_write_and_restore(tmp_path: Path) -> None:
    root = write_connector(tmp_path / "acme", git=False)
    originals = {p: p.read_bytes() for p in (root / "connector.yaml", root / "pyproject.toml")}
    writer = VersionWrite(root)
    assert len(writer.apply(parse_version("2.0.0-rc.1"))) == 2
    assert "version: 2.0.0-rc.1   # written by cdk publish" in (root / "connector.yaml").read_text()
    assert 'version = "2.0.0rc1"  # kept equal' in (root / "pyproject.toml").read_text()
    writer.restore()
    assert {p: p.read_bytes() for p in originals} == originals
    assert not list(root.glob(".*.tmp"))
