"""The sandbox for user code: a separate process isolated by the OS (bubblewrap), see :mod:`.runner`."""

from __future__ import annotations

from cdk.sandbox.runner import Limits, SandboxResult, available, run

__all__ = ["Limits", "SandboxResult", "available", "run"]
