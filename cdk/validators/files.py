"""The files suite: a connector folder holds regular files and folders only.

A symlink is refused wherever it points: validate and build read through links, so a link to
``/etc/passwd`` (or to ``../other-connector/secrets``) would pass validation and ship in the wheel, and
an sdist would carry the link itself. FIFOs, sockets and devices are refused because reading one hangs
or reads something that is not the connector. Folders that are never packaged (virtualenvs, caches,
``.git``, ``build``, ``dist``, ``secrets``) are not looked into; the same walk guards ``cdk build``.

The engine runs this suite first and stops there when it finds anything: every other suite reads the
connector's files, and would read through the link (or hang on the FIFO).
"""

from __future__ import annotations

from typing import Any

from cdk.findings import Finding
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy

RULES = [
    Rule(
        "I001",
        "files",
        "symlink in the connector",
        "a symbolic link in the connector folder",
        "replace the link with the file it points to (or remove it): a link makes validate and build "
        "read, and the wheel ship, whatever it points to; the other suites run once no link is left",
        bad="schemas/pages.json -> /etc/passwd",
        good="schemas/pages.json   (a regular file)",
    ),
    Rule(
        "I002",
        "files",
        "special file in the connector",
        "a FIFO, socket or device file in the connector folder",
        "remove it: a connector holds regular files and folders only; the other suites run once it is gone",
        bad="schemas/pages.json   (a FIFO made with mkfifo)",
        good="schemas/pages.json   (a regular file)",
    ),
]
R = {r.code: r for r in RULES}


def findings_for(root: Any) -> list[Finding]:
    """One finding per symlink or special file under ``root`` (line 0: about the whole file)."""
    from cdk.fsutil import special_files
    from cdk.project import SKIP_DIRS

    out: list[Finding] = []
    for rel, kind, target in special_files(root, set(SKIP_DIRS)):
        if kind == "symlink":
            out.append(
                make(R["I001"], rel, 1, 0, f"'{rel}' is a symlink (to {target}); cdk does not follow links")
            )
        else:
            out.append(make(R["I002"], rel, 1, 0, f"'{rel}' is a {kind}, not a regular file"))
    return out


def check(project: Any, policy: Policy) -> list[Finding]:
    if getattr(project, "code_only", False):
        return []
    return findings_for(project.root)
