"""Fixtures shared by every test area: the demo API, fixture connectors, and running `cdk` in-process
(``invoke_cdk``) or as a real subprocess (``run_cdk``, when a fresh interpreter is the point)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cdk.testing.demo_api import DemoAPI

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _private_cdk_home(tmp_path_factory):
    """No test (nor a session fixture, nor a cdk subprocess) writes the developer's ~/.cdk or ~/.cache/cdk,
    and no two xdist workers share them: CDK_HOME and CDK_CACHE_DIR point into this worker's basetemp.
    Tests that need their own (the publish and validate fixtures) still set them per test. Also keeps
    the nested pytest of `cdk test` from loading our dev plugins (see below)."""
    base = tmp_path_factory.getbasetemp()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDK_HOME", str(base / "cdk-home"))
        mp.setenv("CDK_CACHE_DIR", str(base / "cdk-cache"))
        # The pytest that `cdk test` starts (cdk init's recording, cdk ci, the publish gate, ~100 runs per
        # suite) would load every plugin of this environment; hypothesis and xdist are our dev dependencies,
        # not a connector's, and cost ~1 s of CPU per run on this machine. A test that sets its own
        # PYTEST_ADDOPTS still wins.
        mp.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest -p no:xdist")
        yield


def shared_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder every xdist worker of this run sees (the basetemp's parent under xdist), for session
    fixtures that build something once per run; guard writes with ``filelock.FileLock``."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / name
    folder.mkdir(exist_ok=True)
    return folder


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]) -> Path:
    """The folder ``name``, filled by ``make(folder)`` once per test run: under xdist the first worker to
    ask makes it under a file lock and the others wait for it and reuse it (so tests must only read it).
    A half-made folder (its maker failed) is made again by the next one to ask."""
    from filelock import FileLock

    root = shared_dir(tmp_path_factory, "once-per-run")
    folder = root / name
    with FileLock(str(root / f"{name}.lock")):
        if not (root / f"{name}.done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            (root / f"{name}.done").touch()
    return folder


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path_factory, monkeypatch):
    """No test reads the developer's ~/.config/cdk/config.toml: point XDG_CONFIG_HOME at an empty folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "no-user-config"))


@pytest.fixture
def demo_api():
    """A fresh demo API on 127.0.0.1 (100 records per stream); tests may change counts/api_key/scripts."""
    with DemoAPI(100) as api:
        yield api


@pytest.fixture
def connector_copy(tmp_path):
    """Copy a fixture connector into tmp_path and return its folder."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest, ignore=shutil.ignore_patterns("__pycache__"))
        return dest

    return copy


@pytest.fixture
def write_config(tmp_path):
    def write(data: dict, name: str = "config.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data))
        return path

    return write


def run_cdk(
    *args: str,
    cwd: Path | str | None = None,
    env: dict | None = None,
    input: bytes | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    """Run `python -m cdk ARGS` as a real subprocess; returns the completed process (bytes stdout)."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("CDK_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "cdk", *args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        timeout=timeout,
    )


def invoke_cdk(
    *args: str,
    cwd: Path | str | None = None,
    env: dict | None = None,
    input: bytes | str | None = None,
    timeout: float | None = None,
    text: bool = False,
) -> subprocess.CompletedProcess:
    """Run `cdk ARGS` in this process with click's CliRunner; returns what ``run_cdk`` returns.

    The same entry point as the console script (``cdk.cli.main:main``, which turns failures into exit
    codes and calls ``sys.exit``; CliRunner turns that ``SystemExit`` into the exit code). ``env`` is applied
    to ``os.environ`` only for the call and ``cwd`` is restored afterwards, so calls stay independent. Use
    ``run_cdk`` instead when the command imports connector code, spawns children that write to the
    inherited stdout (``cdk test``), configures logging, or installs signal handlers. ``timeout`` is
    accepted for call-site compatibility and ignored; ``text=True`` decodes stdout/stderr as
    ``subprocess.run(text=True)`` would. ``env`` values of ``None`` remove a variable for the call.
    """
    from click.testing import CliRunner

    runner = CliRunner(env={"NO_COLOR": "1", "CDK_DEBUG": None, **(env or {})})
    old_cwd = os.getcwd()
    old_sigterm = signal.getsignal(signal.SIGTERM)  # cdk publish turns SIGTERM into KeyboardInterrupt
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(_CONSOLE_SCRIPT, list(args), input=input, prog_name="cdk")
    finally:
        os.chdir(old_cwd)
        signal.signal(signal.SIGTERM, old_sigterm)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a bug in the harness or in main()'s handling, not an exit code
    out, err = result.stdout_bytes, result.stderr_bytes or b""
    if text:
        return subprocess.CompletedProcess(["cdk", *args], result.exit_code, out.decode(), err.decode())
    return subprocess.CompletedProcess(["cdk", *args], result.exit_code, out, err)


class _ConsoleScript:
    """What CliRunner.invoke needs of a command (``.main``), backed by the console script's ``main``."""

    name = "cdk"

    def main(self, args: list[str], prog_name: str, **extra: object) -> None:
        from cdk.cli.main import main

        main(list(args))


_CONSOLE_SCRIPT = _ConsoleScript()


def jsonl(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def venv_seeing_this_env(folder: Path) -> Path:
    """A brand-new virtualenv at ``folder`` (no pip of its own) that also sees this environment's packages
    through a .pth file — cdk, editable, and its dependencies — so what a test installs into it is
    found only there, nothing is downloaded, and this environment is left untouched. Returns its python.
    Install into it with ``python -m pip --python VENV_PYTHON install ...`` from this environment."""
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]  # addsitedir also runs its .pth files (the editable cdk)
    (Path(purelib) / "parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return python
