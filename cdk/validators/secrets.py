"""Secrets suite: hard-coded credentials in code, connector.yaml and sample configs.

Looks for provider key formats, literals assigned to password/token/secret names, literal
Authorization values and high-entropy strings. Placeholders (``""``, ``<token>``, ``${TOKEN}``,
``CDK_ENV_TOKEN``, ``REDACTED``, ``xxx``...) are not secrets.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from cdk.findings import Finding
from cdk.validators.astutil import docstring_ids, find_key_line
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy

RULES = [
    Rule(
        "K001",
        "secrets",
        "provider key in source",
        "a string has the format of a provider's credential",
        "remove it, rotate the key, and read it from the config (CDK_ENV_NAME references an environment variable)",
        bad='API_KEY = "AKIAIOSFODNN7EXAMPLE"',
        good='api_key = self.config.authentication.params["api_key"]',
    ),
    Rule(
        "K002",
        "secrets",
        "hard-coded credential",
        "a literal is assigned to a password, token, secret or key name",
        "read the value from the config instead",
        bad='password = "hunter2-prod"',
        good="password = self.config.password",
    ),
    Rule(
        "K003",
        "secrets",
        "literal Authorization value",
        "an Authorization value is written in the code",
        "let the SDK's AuthBuilder build the header from the config",
        bad='headers = {"Authorization": "Bearer 9f8a7c6b5d4e3f2a1b0c"}',
        good="auth = AuthBuilder.from_config(config.authentication)",
    ),
    Rule(
        "K004",
        "secrets",
        "high-entropy string",
        "a long random-looking string may be a credential",
        "move it to the config; waive K004 if it is not a secret",
        severity="warning",
        waivable=True,
        bad='SIGNING = "q8Zr3LmN0pXv7TbY2kWc9HsJ4dGf6Ae1"',
        good="signing = self.config.signing_key",
    ),
]
R = {r.code: r for r in RULES}

PROVIDER_PATTERNS = [
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Stripe key", re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("private key", re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY")),
    ("JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("OpenAI key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9]{32,}")),
    ("SendGrid key", re.compile(r"\bSG\.[\w-]{16,}\.[\w-]{20,}")),
    ("Notion token", re.compile(r"\b(?:secret|ntn)_[A-Za-z0-9]{40,}")),
]
SECRET_NAME = re.compile(
    r"(passw|secret|token|api_?key|apikey|private_?key|access_?key|credential|^key$|_key$|auth_?header)", re.I
)
NOT_SECRET_NAME = re.compile(
    r"(_url|_uri|_type|_name|_field|_path|_param|_header_name|_prefix|_expires.*|_env|_var|_count|_len|_location)$",
    re.I,
)
PLACEHOLDER = re.compile(
    r"^(|x+|\*+|\.+|-+|<[^>]*>|\$\{[^}]*\}|\{\{?[^}]*\}?\}|%\(\w+\)s|CDK_ENV_\w+|redacted|\[redacted\]|changeme|change_me|"
    r"placeholder|dummy|example|test|testing|none|null|secret|password|token|fake[\w-]*|your[\w-]*|[\w-]*x{3,}[\w-]*|\*{3}.*|"
    r"bearer|basic|api_key|apikey|authorization|header|query)$",
    re.I,
)
PASSWORD_NAME = re.compile(r"(passw|passphrase|^pwd$|_pwd$)", re.I)
AUTH_LITERAL = re.compile(r"^(Bearer|Basic|Token|Digest)\s+([A-Za-z0-9._~+/=-]{8,})$")


def is_placeholder(value: str) -> bool:
    v = value.strip()
    return bool(PLACEHOLDER.match(v)) or v.startswith(("CDK_ENV_", "env:", "vault:", "${"))


def provider_match(value: str) -> str | None:
    for label, pattern in PROVIDER_PATTERNS:
        if pattern.search(value):
            return label
    return None


def looks_random(value: str) -> bool:
    """A credential-like literal: 8+ characters, no spaces, letters and digits (``nextPageToken`` is not)."""
    v = value.strip()
    return (
        len(v) >= 8
        and not any(c.isspace() for c in v)
        and any(c.isdigit() for c in v)
        and any(c.isalpha() for c in v)
        and "://" not in v
    )


def entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def high_entropy(value: str) -> bool:
    if (
        len(value) < 24
        or len(value) > 200
        or any(c.isspace() for c in value)
        or "://" in value
        or "/" in value
        and "." in value
    ):
        return False
    if re.fullmatch(r"[0-9a-fA-F]{32,}", value):
        return any(c.isdigit() for c in value) and any(c.isalpha() for c in value) and entropy(value) > 3.0
    if not re.fullmatch(r"[A-Za-z0-9+/=_\-]{24,}", value):
        return False
    classes = sum(
        (any(c.isdigit() for c in value), any(c.islower() for c in value), any(c.isupper() for c in value))
    )
    return classes == 3 and entropy(value) > 4.0


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET_NAME.search(name)


def scan_value(value: str, name: str | None, add: Any, line: int, col: int) -> None:
    """Report the strongest reason ``value`` (optionally stored under ``name``) is a secret."""
    label = provider_match(value)
    if label:
        add("K001", line, col, f"string looks like a {label}")
        return
    m = AUTH_LITERAL.match(value.strip())
    if (
        m
        and not is_placeholder(m.group(2))
        or (
            name
            and name.lower() in ("authorization", "proxy-authorization")
            and value.strip()
            and not is_placeholder(value)
            and not m
        )
    ):
        add("K003", line, col, "literal Authorization value")
        return
    if (
        name
        and is_secret_name(name)
        and not is_placeholder(value)
        and ((PASSWORD_NAME.search(name) and len(value) >= 4) or looks_random(value))
    ):
        add("K002", line, col, f"literal assigned to '{name}'")
        return
    if high_entropy(value):
        add("K004", line, col, f"high-entropy string ({len(value)} characters)")


def _target_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None


def check_tree(tree: ast.Module, file: str) -> list[Finding]:
    out: list[Finding] = []
    seen: set[int] = set()
    skip = docstring_ids(tree)

    def add(code: str, line: int, col: int, message: str) -> None:
        out.append(make(R[code], file, line, col, message))

    def named(value: ast.AST | None, name: str | None) -> None:
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and id(value) not in skip:
            seen.add(id(value))
            scan_value(value.value, name, add, value.lineno, value.col_offset)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                named(node.value, _target_name(t))
        elif isinstance(node, ast.AnnAssign):
            named(node.value, _target_name(node.target))
        elif isinstance(node, ast.keyword) and node.arg:
            named(node.value, node.arg)
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=False):
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    named(v, k.value)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            for a, d in zip(args.args[len(args.args) - len(args.defaults) :], args.defaults, strict=False):
                named(d, a.arg)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in seen
            and id(node) not in skip
        ):
            scan_value(node.value, None, add, node.lineno, node.col_offset)
    return out


def scan_data(data: Any, file: str, locate: Any, path: tuple[Any, ...] = ()) -> list[Finding]:
    """Secrets in parsed YAML/JSON data; ``locate(path)`` gives (line, col) of a value."""
    out: list[Finding] = []

    def walk(value: Any, p: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, p + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, p + (i,))
        elif isinstance(value, str):
            name = next((str(x) for x in reversed(p) if isinstance(x, str)), None)
            line, col = locate(p)
            scan_value(
                value,
                name,
                lambda code, _l, _c, msg: out.append(make(R[code], file, line, col, msg)),
                line,
                col,
            )

    walk(data, path)
    return out


def _sample_files(project: Any) -> list[Path]:
    """The sample configs under tests/ (the same files the config suite validates)."""
    from cdk.validators.config import _sample_configs

    return _sample_configs(project)


def check(project: Any, policy: Policy) -> list[Finding]:
    out: list[Finding] = []
    for path in project.python_files:
        tree = project.parse(path)
        if not isinstance(tree, SyntaxError):
            out.extend(check_tree(tree, project.rel(path)))
    if getattr(project, "code_only", False):
        return out
    if project.manifest is not None:
        from cdk.validators.manifest import raw_manifest

        raw = raw_manifest(project)
        if raw is not None:
            out.extend(scan_data(raw[0], "connector.yaml", raw[1].locate))
    for path in _sample_files(project):
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue

        def locate(p: tuple[Any, ...], text: str = text) -> tuple[int, int]:
            key = next((str(x) for x in reversed(p) if isinstance(x, str)), None)
            return find_key_line(text, json.dumps(key)) if key else (1, 0)

        out.extend(scan_data(data, project.rel(path), locate))
    return out
