"""A small realistic connector written into tmp_path, with per-test edits."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from validate_fixture import CONNECTOR_FILES

MakeConnector = Callable[..., Path]


@pytest.fixture
def make_connector(tmp_path: Path) -> MakeConnector:
    """``make_connector(name="demo", **{"relative/path": "content" or None})`` writes a connector folder."""

    def make(
        name: str = "demo", files: dict[str, str | None] | None = None, base: Path | None = None
    ) -> Path:
        root = (base or tmp_path) / name
        merged: dict[str, str | None] = {**CONNECTOR_FILES, **(files or {})}
        for rel, text in merged.items():
            if text is None:
                continue
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    return make


@pytest.fixture
def cdk_cmd() -> list[str]:
    return [sys.executable, "-m", "cdk"]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own schema-check cache (subprocesses inherit it), never the user's."""
    folder = tmp_path / "cdk-cache"
    monkeypatch.setenv("CDK_CACHE_DIR", str(folder))
    return folder
