"""Fixtures for `cdk init` tests: connectors generated once per (template, auth) by the CLI (in-process)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.conftest import invoke_cdk, once_per_run


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """generated(template, auth, fixtures=False, **answers) -> folder made by `cdk init --no-input`
    (cached per arguments). Recording fixtures costs a `cdk test --record` run, so only tests about
    cassettes ask for it. Under xdist the folders are made once per run, not once per worker: the first
    worker to ask makes it under a file lock, the others wait and reuse it (tests only read these)."""
    cache: dict[tuple, Path] = {}

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
            if len(name) > 60:  # names are 2-64 characters; keep it unique (the same in every worker)
                name = f"{name[:50].rstrip('-')}-h{hashlib.sha1(repr(key).encode()).hexdigest()[:6]}"
            sets = [a for k, v in {"auth": auth, **answers}.items() for a in ("--set", f"{k}={v}")]
            flag = "--fixtures" if fixtures else "--no-fixtures"

            def init(parent: Path, name: str = name, flag: str = flag, sets: list[str] = sets) -> None:
                proc = invoke_cdk(
                    "init", "--no-input", flag, "--template", template, str(parent / name), *sets
                )
                assert proc.returncode == 0, proc.stderr.decode()

            cache[key] = once_per_run(tmp_path_factory, f"generated-{name}", init) / name
        return cache[key]

    return make
