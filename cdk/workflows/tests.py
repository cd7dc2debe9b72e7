"""``run_tests``: a connector's tests (standard, error-path and its own) against recorded HTTP.

pytest runs in a fresh interpreter: it must import (and assert-rewrite) our plugin and the
connector's code itself, never a copy already imported by the caller. The per-test results come from
our plugin's ``--cdk-report`` file (see :mod:`cdk.testing.report`), never from pytest's printed output;
the caller decides whether that output is shown (``output=sys.stdout``), handed over line by line
(``output=callable``) or captured into the report (``output=None``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from cdk.errors import OutsideError, UsageError
from cdk.testing.modes import RecordMode

# pytest's exit code -> cdk's: 0 ok; 1 tests failed, interrupted, internal error, nothing selected;
# 4 (pytest usage error) -> 2 (usage error)
PYTEST_EXIT = {0: 0, 1: 1, 2: 1, 3: 1, 4: 2, 5: 1}
NO_TESTS_COLLECTED = 5
OUTPUT_TAIL = 200  # lines of captured console output kept in the report

Output = IO[str] | Callable[[str], None] | None


@dataclass
class TestResult:
    """One test: its pytest node id, passed | failed | skipped | error, seconds, and a short reason."""

    __test__ = False  # not a pytest test class

    id: str
    outcome: str
    duration: float = 0.0
    message: str = ""


@dataclass
class TestReport:
    """The outcome of one ``run_tests`` call."""

    __test__ = False

    root: str
    record: str
    pytest_exit_code: int
    tests: list[TestResult] = field(default_factory=list)
    output: str = ""  # the tail of pytest's console output when it was captured (output=None)
    seconds: float = 0.0
    stopped: str = ""  # why the run stopped early (e.g. the live API cannot be reached while recording)
    stopped_hint: str = ""
    stopped_exit_code: int = 0

    @property
    def exit_code(self) -> int:
        """cdk's exit code: 0 all passed, 1 a test failed (or none ran), 2 a usage error, 3 the run
        was stopped by an outside failure (the live API cannot be reached while recording)."""
        if self.stopped_exit_code:
            return self.stopped_exit_code
        return PYTEST_EXIT.get(self.pytest_exit_code, 1)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def no_tests_selected(self) -> bool:
        return self.pytest_exit_code == NO_TESTS_COLLECTED

    @property
    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
        for t in self.tests:
            out[t.outcome] = out.get(t.outcome, 0) + 1
        return out

    @property
    def problems(self) -> list[TestResult]:
        """The tests that failed or errored, in the order they ran."""
        return [t for t in self.tests if t.outcome in ("failed", "error")]

    def summary(self) -> str:
        """``3 passed, 1 failed in 2.1 s`` (only the outcomes that occurred)."""
        parts = [f"{n} {outcome}" for outcome, n in self.counts.items() if n]
        if not parts:
            return "no tests ran" + (f" (pytest exit {self.pytest_exit_code})" if not self.ok else "")
        return f"{', '.join(parts)} in {self.seconds:.1f} s"

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "record": self.record,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "pytest_exit_code": self.pytest_exit_code,
            "counts": self.counts,
            "seconds": round(self.seconds, 3),
            "stopped": ({"message": self.stopped, "hint": self.stopped_hint} if self.stopped else None),
            "tests": [asdict(t) | {"duration": round(t.duration, 4)} for t in self.tests],
        }


def run_tests(
    root: str | Path,
    *,
    record: RecordMode | str | None = None,
    config_path: str | Path | None = None,
    streams: Sequence[str] = (),
    keyword: str | None = None,
    junit_xml: str | Path | None = None,
    pytest_args: Sequence[str] = (),
    output: Output = None,
    timeout: float | None = None,
) -> TestReport:
    """Run the tests of the connector in ``root``; replay (``record=None`` or ``"none"``) by default.

    ``record="all"`` records every selected test afresh, ``"missing"`` only tests without a cassette,
    with the real config ``config_path`` (default: the connector's secrets/config.json). ``pytest_args``
    are passed on; when they name test paths of the connector, only those run.
    """
    import time

    folder = Path(root).resolve()
    if folder.name == "connector.yaml":
        folder = folder.parent
    mode = RecordMode(record or RecordMode.NONE)  # a bad value is an InvalidModeError naming the good ones
    if not (folder / "connector.yaml").is_file():
        raise UsageError(f"no connector.yaml in {folder}", hint="run it in a connector folder or pass PATH")
    if config_path and mode is RecordMode.NONE:
        raise UsageError(
            "--config is the real config for recording; it needs --record",
            hint="replay uses tests/sample_config.json",
        )
    if mode is not RecordMode.NONE:
        real = Path(config_path).resolve() if config_path else folder / "secrets" / "config.json"
        if not real.is_file():
            raise UsageError(
                f"recording needs the real config (with live credentials), and {real} does not exist",
                hint="write it (secrets/ is git-ignored) or pass --config FILE; "
                "tests/sample_config.json is then written for replay, secrets replaced by placeholders",
            )
    if streams:
        from cdk.project import Project

        known = Project.load(folder).manifest.stream_names
        unknown = [s for s in streams if s not in known]
        if unknown:
            raise UsageError(
                f"no stream {', '.join(map(repr, unknown))} in connector.yaml; streams: {', '.join(known)}"
            )

    env = dict(os.environ)
    if output is None:
        env["NO_COLOR"] = "1"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cdk-test-report-") as tmp:
        report_path = Path(tmp) / "report.json"
        argv = pytest_argv(
            folder,
            mode,
            config_path=config_path,
            streams=streams,
            keyword=keyword,
            junit_xml=junit_xml,
            pytest_args=pytest_args,
            report_path=report_path,
        )
        code, console = _run_pytest(argv, folder, env, output, timeout)
        from cdk.testing.report import read_report, read_stopped

        tests = [
            TestResult(t["id"], t["outcome"], float(t.get("duration") or 0.0), str(t.get("message") or ""))
            for t in read_report(report_path)
        ]
        stopped = read_stopped(report_path) or {}
    return TestReport(
        str(folder),
        mode,
        code,
        tests,
        output=console,
        seconds=time.perf_counter() - started,
        stopped=str(stopped.get("message") or ""),
        stopped_hint=str(stopped.get("hint") or ""),
        stopped_exit_code=int(stopped.get("exit_code") or 0) if stopped else 0,
    )


def pytest_argv(
    root: Path,
    mode: RecordMode,
    *,
    config_path: str | Path | None,
    streams: Sequence[str],
    keyword: str | None,
    junit_xml: str | Path | None,
    pytest_args: Sequence[str],
    report_path: Path,
) -> list[str]:
    """The pytest command line of a run: our plugin's options, then the caller's pytest arguments."""
    argv = [
        f"--rootdir={root}",
        f"--cdk-connector={root}",
        f"--cdk-record={mode.value}",
        f"--cdk-report={report_path}",
    ]
    if config_path:
        argv.append(f"--cdk-config={Path(config_path).resolve()}")
    argv += [f"--cdk-stream={s}" for s in streams]
    if keyword:
        argv += ["-k", keyword]
    if junit_xml:
        from cdk.project import Project

        # classnames name the connector (demo-source.connector.yaml, demo-source.tests.test_x), so that
        # reports of many connectors merged by CI say which one a test belongs to
        name = Project.load(root).manifest.name
        argv += [
            f"--junitxml={Path(junit_xml).resolve()}",
            f"--junit-prefix={name}",
            f"--override-ini=junit_suite_name={name}",
        ]
    rest = list(pytest_args)
    user_paths = [a for a in rest if not a.startswith("-") and (root / a.split("::")[0]).exists()]
    if not user_paths:
        argv.append("connector.yaml")
        if (root / "tests").is_dir():
            argv.append("tests")
    return argv + rest


def _run_pytest(
    argv: list[str], cwd: Path, env: dict[str, str], output: Output, timeout: float | None
) -> tuple[int, str]:
    """pytest in a fresh interpreter; returns its exit code and its captured output (if captured)."""
    cmd = [sys.executable, "-m", "pytest", *argv]
    fileno = _real_fileno(output)
    try:
        if fileno is not None:  # a real stream (a terminal keeps pytest's colours): hand it over
            getattr(output, "flush", lambda: None)()
            return subprocess.run(cmd, cwd=cwd, env=env, stdout=fileno, timeout=timeout).returncode, ""
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        lines: list[str] = []
        expired: list[bool] = []

        def stop() -> None:
            expired.append(True)
            proc.kill()

        timer = threading.Timer(timeout, stop) if timeout else None
        if timer:
            timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if output is None:
                    lines.append(line)
                    del lines[:-OUTPUT_TAIL]
                elif callable(output):
                    output(line.rstrip("\n"))
                else:
                    output.write(line)
            code = proc.wait()
        finally:
            if timer:
                timer.cancel()
        if expired:
            raise subprocess.TimeoutExpired(cmd, timeout or 0)
        return code, "".join(lines)
    except subprocess.TimeoutExpired:
        raise OutsideError(
            f"the tests of {cwd} took longer than {timeout:.0f} s and were stopped",
            hint="run cdk test there to see which test hangs",
        ) from None


def _real_fileno(output: Output) -> int | None:
    """The file descriptor behind ``output`` when it is a real file (not a callback or StringIO)."""
    if output is None or not hasattr(output, "fileno"):
        return None
    try:
        return int(output.fileno())
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return None
