"""Fixtures suite: recorded cassettes hold no credential and no unredacted auth header.

Cassettes are the vcrpy YAML/JSON files under ``tests/`` (any folder named ``cassettes`` or
``fixtures``). Sensitive headers must carry a placeholder; query parameters and bodies are scanned
for secret-named values and provider key formats.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from cdk.findings import Finding
from cdk.secrets import SECRET_HEADERS, credential_kind, is_placeholder, is_secret_name
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy

if TYPE_CHECKING:
    from cdk.project import Project

RULES = [
    Rule(
        "F001",
        "fixtures",
        "unredacted auth header in cassette",
        "a recorded Authorization, Cookie or API-key header is not redacted",
        "record again with `cdk test --record` (it redacts), or replace the value with REDACTED",
        bad="Authorization:\n- Bearer 9f8a7c6b5d4e3f2a1b0c",
        good="Authorization:\n- REDACTED",
    ),
    Rule(
        "F002",
        "fixtures",
        "credential in cassette",
        "a recorded request or response holds a credential-looking value",
        "redact the value (query parameter, body field) and record again",
        bad="uri: https://api.example.com/users?api_key=9f8a7c6b5d4e",
        good="uri: https://api.example.com/users?api_key=REDACTED",
    ),
]
R = {r.code: r for r in RULES}
# a JSON string field of a recorded body ("name": "value"); whether the name is secret is the vocabulary's call
BODY_FIELD = re.compile(r'"([A-Za-z0-9_.-]{1,64})"\s*:\s*"([^"]*)"')


def cassette_files(root: Path) -> list[Path]:
    tests = root / "tests"
    if not tests.is_dir():
        return []
    out = []
    for p in tests.rglob("*"):
        if (
            p.suffix in (".yaml", ".yml", ".json")
            and p.is_file()
            and ({"cassettes", "fixtures"} & set(p.parts))
        ):
            out.append(p)
    return sorted(out)


def _redacted_header_value(value: str) -> bool:
    v = value.strip()
    if is_placeholder(v):
        return True
    parts = v.split(None, 1)  # "Bearer REDACTED"
    return len(parts) == 2 and is_placeholder(parts[1])


def scan_cassette(data: Any, file: str, locate: Any) -> list[Finding]:
    out: list[Finding] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                key = str(k)
                if (
                    len(path) >= 1
                    and path[-1] == "headers"
                    and (key.lower() in SECRET_HEADERS or is_secret_name(key))
                ):
                    for i, item in enumerate(v if isinstance(v, list) else [v]):
                        if isinstance(item, str) and not _redacted_header_value(item):
                            p = path + (k, i) if isinstance(v, list) else path + (k,)
                            line, col = locate(p)
                            out.append(
                                make(R["F001"], file, line, col, f"header '{key}' is recorded unredacted")
                            )
                    continue
                walk(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, path + (i,))
        elif isinstance(value, str):
            _scan_string(value, path, file, locate, out)

    walk(data, ())
    return out


def _scan_string(value: str, path: tuple[Any, ...], file: str, locate: Any, out: list[Finding]) -> None:
    line, col = locate(path)
    label = credential_kind(value)
    if label:
        out.append(make(R["F002"], file, line, col, f"a {label} is recorded"))
        return
    key = path[-1] if path else None
    if key == "uri" and "?" in value:
        for name, v in parse_qsl(urlsplit(value).query):
            if is_secret_name(name) and v and not is_placeholder(v):
                out.append(
                    make(R["F002"], file, line, col, f"query parameter '{name}' is recorded unredacted")
                )
                return
    for m in BODY_FIELD.finditer(value):
        if m.group(2) and is_secret_name(m.group(1), response=True) and not is_placeholder(m.group(2)):
            out.append(make(R["F002"], file, line, col, f"body field '{m.group(1)}' is recorded unredacted"))
            return


def check(project: Project, policy: Policy) -> list[Finding]:
    if getattr(project, "code_only", False):
        return []
    from cdk.errors import ManifestError
    from cdk.manifest import parse_yaml_with_positions

    out: list[Finding] = []
    for path in cassette_files(Path(project.root)):
        rel = project.rel(path)
        try:
            data, positions = parse_yaml_with_positions(path.read_text(encoding="utf-8"), rel)
        except (OSError, UnicodeDecodeError, ManifestError):
            continue
        out.extend(scan_cassette(data, rel, positions.locate))
    return out
