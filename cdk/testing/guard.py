"""The runtime guard during `cdk test` and `cdk ci`: :mod:`cdk.sandbox.audit` installed in the pytest
process before conftest.py or any connector module is imported.

Allowed: the connector folder, pytest's temporary folders (``tmp_path``), the run's report and JUnit
folders (written by the runner), the Python installation (read-only) and cdk's user settings
(read-only); hosts: the manifest's ``allowed_hosts`` and loopback. A refusal fails the test that
caused it, naming the event and the connector's line, even when the connector swallowed the exception.
"""

from __future__ import annotations

import getpass
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdk.errors import SandboxViolation

_violations: list[str] = []


def _record(event: str, args: tuple[object, ...]) -> None:
    from cdk.sandbox import audit

    where = audit.last_where()
    shown = ", ".join(repr(a)[:80] for a in args[:2])
    _violations.append(f"'{event}' ({shown})" + (f" at {where}" if where else ""))


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name: pytest falls back to "unknown"
        return "unknown"


def install_for_run(early_config: Any) -> bool:
    """Install the guard for a `cdk test` run (pytest with --cdk-connector); False when not one."""
    ns = early_config.known_args_namespace
    option = getattr(ns, "cdk_connector", None)
    if not option or getattr(ns, "cdk_no_guard", False):
        return False
    root = Path(option).resolve()
    if not (root / "connector.yaml").is_file():
        return False
    from cdk.manifest import load_manifest
    from cdk.sandbox import audit

    try:
        manifest, _ = load_manifest(root / "connector.yaml")
        hosts = list(manifest.allowed_hosts or [])
    except Exception:  # noqa: BLE001 - an invalid manifest is reported by the plugin; guard with no hosts
        hosts = []
    tmp = Path(tempfile.gettempdir())
    roots = [root, tmp / f"pytest-of-{_user()}"]
    basetemp = getattr(ns, "basetemp", None)
    if basetemp:
        roots.append(Path(basetemp))
    for name in ("cdk_report", "xmlpath"):
        value = getattr(ns, name, None)
        if value:
            roots.append(Path(value).resolve().parent)
    from cdk.settings import Settings

    reads = [Path.home() / ".config" / "cdk"]
    try:
        reads.append(Path(str(Settings().get("home"))))
    except Exception:  # noqa: BLE001 - a broken user config is reported elsewhere; the guard still goes in
        pass
    config = getattr(ns, "cdk_config", None)
    if config:
        reads.append(Path(config).resolve())
    for root_dir in roots:
        root_dir.mkdir(parents=True, exist_ok=True)
    audit.install(allowed_roots=roots, allowed_hosts=hosts, on_violation=_record, read_only_roots=reads)
    early_config.pluginmanager.register(GuardPlugin(), "cdk-guard")
    return True


class GuardPlugin:
    """Fails a test whose connector code the guard refused, even when the code caught the refusal."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: Any) -> Iterator[None]:
        return (yield from self._guarded())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: Any) -> Iterator[None]:
        return (yield from self._guarded())

    def _guarded(self) -> Iterator[None]:
        _violations.clear()
        try:
            result = yield
        except SandboxViolation:
            raise
        except BaseException as exc:
            if _violations:
                raise SandboxViolation(_violations[0].split("'")[1], f"{'; '.join(_violations)}") from exc
            raise
        if _violations:
            found = list(_violations)
            _violations.clear()
            raise SandboxViolation(found[0].split("'")[1], "; ".join(found))
        return result
