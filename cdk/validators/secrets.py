"""Secrets suite: hard-coded credentials in code, connector.yaml and sample configs.

Looks for provider key formats, literals assigned to secret names, literal Authorization values and
high-entropy strings. What a secret name, a placeholder and a credential shape are is decided by the
one secret vocabulary, :mod:`cdk.secrets` (placeholders such as ``""``, ``<token>``, ``${TOKEN}``,
``CDK_ENV_TOKEN``, ``REDACTED`` are not secrets).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.findings import Finding
from cdk.secrets import (
    AUTH_LITERAL,
    credential_kind,
    high_entropy,
    is_auth_literal,
    is_placeholder,
    is_secret_name,
    looks_random,
)
from cdk.validators.astutil import docstring_ids, find_key_line
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy

if TYPE_CHECKING:
    from cdk.project import Project
    from cdk.validators.engine import CodeProject

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

PASSWORD_NAME = re.compile(r"(passw|passphrase|^pwd$|_pwd$)", re.I)


def provider_match(value: str) -> str | None:
    """The kind of provider credential in ``value`` (the vocabulary's credential shapes)."""
    return credential_kind(value)


def scan_value(value: str, name: str | None, add: Any, line: int, col: int) -> None:
    """Report the strongest reason ``value`` (optionally stored under ``name``) is a secret."""
    label = provider_match(value)
    if label:
        add("K001", line, col, f"string looks like a {label}")
        return
    m = AUTH_LITERAL.match(value.strip())
    if is_auth_literal(value) or (
        name
        and name.lower() in ("authorization", "proxy-authorization")
        and value.strip()
        and not is_placeholder(value)
        and not m
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


def _sample_files(project: Project) -> list[Path]:
    """The sample configs under tests/ (the same files the config suite validates)."""
    from cdk.validators.config import _sample_configs

    return _sample_configs(project)


def check(project: Project | CodeProject, policy: Policy) -> list[Finding]:
    from cdk.validators.engine import CodeProject

    out: list[Finding] = []
    for path in project.python_files:
        tree = project.parse(path)
        if not isinstance(tree, SyntaxError):
            out.extend(check_tree(tree, project.rel(path)))
    if isinstance(project, CodeProject):
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
