"""The example declarative connector (basis of the source-declarative template) validates clean and runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from cdk.declarative.checks import validate_declarative
from cdk.project import Project

EXAMPLE = Path(__file__).parent / "example_connector"


def cdk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cdk", *args], capture_output=True, text=True, timeout=120)


def test_example_has_no_declarative_findings() -> None:
    assert validate_declarative(Project.load(EXAMPLE)) == []


def test_example_package_exposes_the_source_class_for_its_entry_point(tmp_path: Path) -> None:
    folder = tmp_path / "example"
    shutil.copytree(EXAMPLE, folder)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import demo_declarative as m; "
        "from cdk import AbstractSource; assert issubclass(m.Source, AbstractSource); print(m.Source.streams())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['users', 'orders']"


def test_example_reads_full_then_incrementally_and_checks(tmp_path: Path, demo: Any) -> None:
    demo.reset()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"name": "demo", "port": int(demo.url.rsplit(":", 1)[1])}))
    state = tmp_path / "state.json"
    check = cdk("check", "-C", str(EXAMPLE), "--config", str(config))
    assert check.returncode == 0, check.stderr + check.stdout
    spec = cdk("spec", "-C", str(EXAMPLE))
    assert spec.returncode == 0 and "port" in spec.stdout
    assert demo.count("/users") == 1  # check_connection fetched the first page
    demo.reset()

    first = cdk(
        "read",
        "-C",
        str(EXAMPLE),
        "--config",
        str(config),
        "-s",
        "users",
        "--incremental",
        "--state",
        str(state),
    )
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert [r["data"]["id"] for r in rows] == list(range(1, 238))  # the item itself is the record
    assert set(rows[0]["data"]) >= {"id", "name", "updated_at"} and "items" not in rows[0]["data"]
    assert demo.count("/users") == 3  # 100 + 100 + 37, the last page has next: null

    second = cdk(
        "read",
        "-C",
        str(EXAMPLE),
        "--config",
        str(config),
        "-s",
        "users",
        "--incremental",
        "--state",
        str(state),
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    last = demo.requests[-1]["query"]
    assert "updated_since=2024-01-01T03%3A57%3A00Z" in last  # record 237's updated_at, in the declared format


def test_the_built_wheel_runs_through_its_entry_point(tmp_path: Path, demo: Any) -> None:
    """cdk build, unpack the wheel as site-packages would, load the cdk.connectors entry point and read."""
    import zipfile

    folder = tmp_path / "example"
    shutil.copytree(EXAMPLE, folder)
    built = cdk("build", "-C", str(folder), "--wheel", "--isolation", "none", "--out", str(tmp_path / "dist"))
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "demo_declarative" / "connector.yaml").is_file()
    code = (
        "import sys; from importlib.metadata import entry_points\n"
        "(ep,) = [e for e in entry_points(group='cdk.connectors') if e.name == 'demo-declarative']\n"
        "Source = ep.load()\n"
        "from cdk.sdk.http import ConnectorSession\n"
        "config = Source.get_config_class()(name='x', stream='orders', port=int(sys.argv[1]))\n"
        "src = Source(config, session=ConnectorSession(allowed_hosts=['127.0.0.1']))\n"
        "n, p = 0, None\n"
        "while True:\n"
        "    page = src.get(p); n += len(page.records); p = page.next_pagination\n"
        "    if not p: break\n"
        "print(n)\n"
    )
    port = demo.url.rsplit(":", 1)[1]
    out = subprocess.run(
        [sys.executable, "-c", code, port],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "200"
