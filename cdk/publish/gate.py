"""The publish gate: ``cdk validate`` (errors stop it) and ``cdk test`` in replay (failures stop it).

Both are built elsewhere; they are reached through the two small functions here, imported lazily, so
the contract is in one place. A gate that cannot run fails loudly ("validate is not available") — it
never passes silently; only the explicit ``--skip-validate`` / ``--skip-tests`` flags skip a step.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cdk.errors import (
    GateUnavailable,  # re-exported: moved to cdk.errors
    TestsFailed,  # re-exported: moved to cdk.errors
    ValidationFailed,
)


@dataclass
class GateStep:
    name: str
    status: str  # passed | skipped
    details: list[str] = field(default_factory=list)


def run_validate(root: Path) -> GateStep:
    """``cdk.validators.engine.validate_project(path) -> Report`` with ``.errors``; any error stops publish."""
    if importlib.util.find_spec("cdk.validators.engine") is None:
        raise GateUnavailable(
            "validate is not available in this cdk (cdk.validators.engine is missing), so the publish gate cannot run",
            hint="install a cdk with `cdk validate`, or pass --skip-validate to publish without it (not recommended)",
        )
    from cdk.validators.engine import validate_project  # type: ignore[import-not-found,unused-ignore]

    report = validate_project(root)
    errors = list(getattr(report, "errors", []) or [])
    if errors:
        shown = "\n".join(f"  {e}" for e in errors[:20]) + (
            f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        )
        raise ValidationFailed(
            f"the publish gate stopped: cdk validate found {len(errors)} error(s)\n{shown}",
            hint="fix them (cdk validate shows details), then publish again",
        )
    warnings = list(getattr(report, "warnings", []) or [])
    return GateStep("validate", "passed", [f"{len(warnings)} warning(s)"] if warnings else [])


def run_tests(root: Path, *, timeout: float = 1800) -> GateStep:
    """``cdk test`` in replay mode (its default), run as the command itself: exit 0 passes, 1 fails."""
    from cdk.cli.main import COMMANDS

    target = COMMANDS.get("test")
    if target is None or importlib.util.find_spec(target[0].split(":")[0]) is None:
        raise GateUnavailable(
            "test is not available in this cdk (no `cdk test` command), so the publish gate cannot run",
            hint="install a cdk with `cdk test`, or pass --skip-tests to publish without it (not recommended)",
        )
    proc = subprocess.run(
        [sys.executable, "-m", "cdk", "test", "--connector", str(root)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise TestsFailed(
            f"the publish gate stopped: cdk test (replay) failed with exit {proc.returncode}\n{tail}",
            hint="run cdk test to see the failures; cdk test --record re-records fixtures",
        )
    return GateStep("test", "passed")
