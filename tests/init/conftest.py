"""Fixtures for `cdk init` tests: connectors generated once per (template, auth) by the real CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cdk


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """generated(template, auth, fixtures=False, **answers) -> folder made by `cdk init --no-input`
    (cached per arguments). Recording fixtures costs a `cdk test --record` run, so only tests about
    cassettes ask for it."""
    cache: dict[tuple, Path] = {}
    root = tmp_path_factory.mktemp("generated")

    def make(template: str, auth: str = "none", fixtures: bool = False, **answers: str) -> Path:
        key = (template, auth, fixtures, tuple(sorted(answers.items())))
        if key not in cache:
            suffix = "-".join(
                re.sub(r"[^a-z0-9]+", "-", v.replace("_", "").lower()).strip("-")
                for _, v in sorted(answers.items())
            )
            name = f"{template.split('-')[0][:3]}-{template.split('-')[1][:3]}-{auth.replace('_', '')}"
            name = f"{name}-{suffix}" if suffix else name
            name = f"{name}-fx" if fixtures else name
            if len(name) > 60:  # names are 2-64 characters; keep it unique with the cache's counter
                name = f"{name[:54].rstrip('-')}-n{len(cache)}"
            sets = [a for k, v in {"auth": auth, **answers}.items() for a in ("--set", f"{k}={v}")]
            flag = "--fixtures" if fixtures else "--no-fixtures"
            proc = run_cdk(
                "init", "--no-input", flag, "--template", template, str(root / name), *sets, timeout=300
            )
            assert proc.returncode == 0, proc.stderr.decode()
            cache[key] = root / name
        return cache[key]

    return make
