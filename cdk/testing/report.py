"""``--cdk-report=PATH``: one JSON result per test, written by pytest itself for ``run_tests``.

Whoever runs pytest in a subprocess (``cdk test``, ``cdk ci``, ``cdk publish``'s gate, ``cdk init``'s
fixture recording) reads this file instead of pytest's printed output, which is made for people and
changes with verbosity, colour and pytest versions. The file is written once, atomically, when the
session finishes; a run that dies before that leaves no file (and its exit code says why).

Shape: ``{"version": 1, "tests": [{"id", "outcome", "duration", "message"}]}`` with ``outcome`` one
of passed | failed | skipped | error (error: setup, teardown or collection failed); plus
``"stopped": {"message", "hint", "exit_code"}`` when the run was stopped early for a reason outside the
tests (``cdk test --record`` that cannot reach the live API: exit 3).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPORT_VERSION = 1
OUTCOMES = ("passed", "failed", "skipped", "error")
MESSAGE_LIMIT = 500  # a short reason; the full traceback stays in pytest's own output


class ReportWriter:
    """A pytest plugin object: collects every phase of every test and writes the JSON at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tests: dict[str, dict[str, Any]] = {}
        self.stopped: dict[str, Any] | None = None  # set by the connector plugin (see module doc)

    def stop(self, message: str, *, hint: str = "", exit_code: int = 3) -> None:
        """Record why the run stopped early (the first reason wins)."""
        if self.stopped is None:
            self.stopped = {"message": message, "hint": hint, "exit_code": exit_code}

    def _entry(self, nodeid: str) -> dict[str, Any]:
        return self.tests.setdefault(
            nodeid, {"id": nodeid, "outcome": "passed", "duration": 0.0, "message": ""}
        )

    def pytest_runtest_logreport(self, report: Any) -> None:
        entry = self._entry(report.nodeid)
        entry["duration"] += float(getattr(report, "duration", 0.0) or 0.0)
        if report.passed:
            return
        if report.skipped:
            if entry["outcome"] == "passed":
                entry["outcome"] = "skipped"
                entry["message"] = _skip_reason(report)
            return
        # failed: in the test body it is a failure, in setup or teardown an error
        if entry["outcome"] in ("passed", "skipped"):
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["message"] = _failure_message(report)

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            entry = self._entry(report.nodeid or ".")
            entry["outcome"] = "error"
            entry["message"] = _failure_message(report)

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        from cdk.fsutil import atomic_write_text

        data: dict[str, Any] = {"version": REPORT_VERSION, "tests": list(self.tests.values())}
        if self.stopped is not None:
            data["stopped"] = self.stopped
        atomic_write_text(self.path, json.dumps(data, indent=1))


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0][:MESSAGE_LIMIT] if lines else ""


def _failure_message(report: Any) -> str:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return _first_line(str(crash.message))
    text = str(getattr(report, "longreprtext", "") or "")
    # pytest's own text ends with the short reason (e.g. "E   AssertionError: ...")
    reasons = [line for line in text.splitlines() if line.startswith("E ")]
    return _first_line(reasons[-1][1:] if reasons else text.splitlines()[-1] if text else "")


def _skip_reason(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return _first_line(str(longrepr[2]).removeprefix("Skipped: "))
    return _first_line(str(longrepr or ""))


def read_report(path: Path) -> list[dict[str, Any]]:
    """The tests of a report file; [] when pytest never got to write it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    tests = data.get("tests") if isinstance(data, dict) else None
    return [t for t in tests or [] if isinstance(t, dict) and t.get("outcome") in OUTCOMES]


def read_stopped(path: Path) -> dict[str, Any] | None:
    """Why the run was stopped early (``{"message", "hint", "exit_code"}``), or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stopped = data.get("stopped") if isinstance(data, dict) else None
    return stopped if isinstance(stopped, dict) and stopped.get("message") else None
