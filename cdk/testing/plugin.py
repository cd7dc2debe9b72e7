"""The cdk pytest plugin (entry point ``pytest11``): inert unless the rootdir holds a connector.yaml.

This module is imported by every pytest run in an environment where connector-cdk is installed, so
it imports nothing heavy and registers nothing but its options. In a connector folder (or with
``--cdk-connector PATH``) it registers :mod:`cdk.testing.connector_plugin`, which adds the standard
tests, the error-path tests and the ``connector``, ``config`` and ``cassette`` fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdk.testing.modes import RecordMode


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("cdk", "connector-cdk (active in a folder with connector.yaml)")
    group.addoption(
        "--cdk-record",
        choices=[mode.value for mode in RecordMode],
        default=RecordMode.NONE.value,
        help="none: replay cassettes (default); all: record every selected test afresh; "
        "missing: record only tests without a cassette",
    )
    group.addoption(
        "--cdk-config", default=None, help="real config used when recording (default: secrets/config.json)"
    )
    group.addoption(
        "--cdk-stream",
        action="append",
        default=[],
        help="run the standard tests of this stream only (repeatable)",
    )
    group.addoption("--cdk-connector", default=None, help="connector folder (default: the rootdir)")
    group.addoption(
        "--cdk-no-guard",
        action="store_true",
        default=False,
        help="do not install the runtime guard (audit hooks) that `cdk test` runs connector code under",
    )
    group.addoption(
        "--cdk-report",
        default=None,
        metavar="PATH",
        help="write one JSON result per test here when the session ends (what run_tests reads)",
    )


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> None:
    """Before any conftest.py or connector module is imported: the runtime guard of a `cdk test` run."""
    from cdk.testing.guard import install_for_run

    install_for_run(early_config)


def connector_root(config: Any) -> Path | None:
    """The connector folder of this run, or None (the plugin then stays inert)."""
    option = config.getoption("cdk_connector", None)
    root = Path(option) if option else Path(config.rootpath)
    return root.resolve() if (root / "connector.yaml").is_file() else None


def pytest_configure(config: Any) -> None:
    report_path = config.getoption("cdk_report", None)
    if report_path:
        from cdk.testing.report import ReportWriter

        config.pluginmanager.register(ReportWriter(Path(report_path)), "cdk-report")
    root = connector_root(config)
    if root is None:
        return
    from cdk.testing import connector_plugin

    connector_plugin.activate(config, root)
