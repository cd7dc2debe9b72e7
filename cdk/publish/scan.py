"""Scanning built artifacts for secrets before they leave the machine.

What is secret is decided by the one secret vocabulary (:mod:`cdk.secrets`): the values of the secret
fields of the connector's real config (``secrets/config.json``, the file ``cdk test --record`` uses) —
with ``CDK_ENV_``/``file:`` references resolved to what they point to — in every spelling, the registry
password, and credential-shaped strings. Ordinary config values (base URL, auth type, names) are not
secrets. A finding names the artifact, the member and what kind of secret it is — never the secret;
it is about a whole member (``line`` 0), printed ``artifact: member: kind``.
"""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from cdk.findings import Finding
from cdk.secrets import Secret, SecretSet, connector_secret_paths, find_credentials, secret_values

SUSPICIOUS_FILES = re.compile(r"(^|/)(secrets/[^/]+|\.env|\.pypirc|id_rsa|id_ed25519)$")


def config_secrets(root: Path) -> list[Secret]:
    """The secrets of ``secrets/config.json``: values of its secret fields (references resolved), each
    labelled by its field path."""
    path = root / "secrets" / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return []
    if not isinstance(data, dict):
        return []
    marked: set[str] = set()
    try:
        from cdk.project import Project

        marked = connector_secret_paths(Project.load(root))
    except Exception:  # noqa: BLE001 - without a loadable manifest, secret names still decide
        pass
    return [
        Secret(f"value of secrets/config.json '{s.field}'", s.value, s.username)
        for s in secret_values(data, marked=marked, resolve=True, base=root)
    ]


def _members(artifact: Path) -> Iterator[tuple[str, bytes]]:
    if artifact.suffix == ".whl" or artifact.suffix == ".zip":
        with zipfile.ZipFile(artifact) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, zf.read(info)
    elif artifact.name.endswith(".tar.gz"):
        with tarfile.open(artifact, "r:gz") as tf:
            for member in tf.getmembers():
                if member.isfile():
                    fh = tf.extractfile(member)
                    yield member.name, fh.read() if fh else b""
    else:
        yield artifact.name, artifact.read_bytes()


def _found(artifact: Path, member: str, kind: str) -> Finding:
    """A secret of ``kind`` somewhere in ``member`` of ``artifact`` (a whole-file finding: line 0)."""
    return Finding(file=member, line=0, column=0, message=kind, artifact=artifact.name)


def scan_artifacts(
    artifacts: list[Path], *, root: Path, extra_secrets: dict[str, str] | None = None
) -> list[Finding]:
    """Findings in ``artifacts``: config secret values in any spelling, ``extra_secrets`` (label → value,
    e.g. the registry password), credential shapes, and files that should never ship (secrets/, .env,
    .pypirc, private keys)."""
    known = SecretSet(config_secrets(root))
    known.add(*(Secret(label, value) for label, value in (extra_secrets or {}).items() if value))
    findings: list[Finding] = []
    for artifact in artifacts:
        for member, data in _members(artifact):
            if SUSPICIOUS_FILES.search(member):
                findings.append(_found(artifact, member, "a secrets file that must not ship"))
            for label in sorted({hit.field for hit in known.find_bytes(data)}):
                findings.append(_found(artifact, member, label))
            for kind in find_credentials(data):
                findings.append(_found(artifact, member, f"something that looks like a {kind}"))
    return findings
