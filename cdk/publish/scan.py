"""Scanning built artifacts for secrets before they leave the machine.

Looks for the values of the connector's real config (``secrets/config.json``, the file ``cdk test
--record`` uses) and the registry password, and for well-known credential shapes. A finding names the
artifact, the member and what kind of secret it is — never the secret. Findings are about a whole
member (``line`` 0), printed ``artifact: member: kind``.
"""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from cdk.findings import Finding

PATTERNS: dict[str, re.Pattern[bytes]] = {
    "AWS access key id": re.compile(rb"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(rb"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Stripe live key": re.compile(rb"\b[sr]k_live_[A-Za-z0-9]{16,}"),
    "Google API key": re.compile(rb"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "private key": re.compile(rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "PyPI token": re.compile(rb"\bpypi-AgE[A-Za-z0-9_\-]{50,}"),
}
SUSPICIOUS_FILES = re.compile(r"(^|/)(secrets/[^/]+|\.env|\.pypirc|id_rsa|id_ed25519)$")
MIN_SECRET_LEN = 6


def config_secret_values(root: Path) -> dict[str, bytes]:
    """Every string value (long enough to matter) of ``secrets/config.json``, by its key path."""
    path = root / "secrets" / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    out: dict[str, bytes] = {}

    def walk(value: object, where: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{where}.{k}" if where else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
        elif isinstance(value, str) and len(value) >= MIN_SECRET_LEN:
            out[where] = value.encode("utf-8")

    walk(data, "")
    return out


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
    """Findings in ``artifacts``: config secret values, ``extra_secrets`` (e.g. the registry password),
    credential patterns, and files that should never ship (secrets/, .env, .pypirc, private keys)."""
    values = {f"value of secrets/config.json '{k}'": v for k, v in config_secret_values(root).items()}
    for label, secret in (extra_secrets or {}).items():
        if secret and len(secret) >= MIN_SECRET_LEN:
            values[label] = secret.encode("utf-8")
    findings: list[Finding] = []
    for artifact in artifacts:
        for member, data in _members(artifact):
            if SUSPICIOUS_FILES.search(member):
                findings.append(_found(artifact, member, "a secrets file that must not ship"))
            for label, secret in values.items():
                if secret in data:
                    findings.append(_found(artifact, member, label))
            for kind, pattern in PATTERNS.items():
                if pattern.search(data):
                    findings.append(_found(artifact, member, f"something that looks like a {kind}"))
    return findings
