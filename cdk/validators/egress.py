"""Egress suite: every URL or host literal in code and manifest lies inside ``allowed_hosts``.

The run-time guard of the SDK session refuses other hosts too; finding them statically tells the
author before the first run. Docstrings are not code and are skipped.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

from cdk.findings import Finding
from cdk.validators.astutil import iter_strings
from cdk.validators.findings import Rule, make
from cdk.validators.policy import Policy

if TYPE_CHECKING:
    from cdk.project import Project
    from cdk.validators.engine import CodeProject

RULES = [
    Rule(
        "E001",
        "egress",
        "URL outside allowed_hosts",
        "the code names a URL or host outside allowed_hosts",
        "add the host to allowed_hosts in connector.yaml, or remove the URL",
        waivable=True,
        bad='BASE = "https://api.other.com/v1"  # allowed_hosts: [api.notion.com]',
        good='BASE = "https://api.notion.com/v1"',
    ),
    Rule(
        "E002",
        "egress",
        "manifest URL outside allowed_hosts",
        "connector.yaml names a URL outside allowed_hosts",
        "add the host to allowed_hosts",
        bad="url_base: https://api.other.com\nallowed_hosts: [api.notion.com]",
        good="url_base: https://api.notion.com\nallowed_hosts: [api.notion.com]",
    ),
]
R = {r.code: r for r in RULES}
URL_RE = re.compile(r"^(https?|wss?|ftp)://([^/:?#\s@]+@)?(\[[^\]]+\]|[^/:?#\s]+)(?::(\d+))?", re.I)
HOST_KEYWORDS = {"host", "hostname", "domain", "server", "base_host"}
BARE_HOST = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


def host_allowed(host: str, allowed: list[str], port: int | None = None) -> bool:
    """The runtime guard's own rule (:func:`cdk.sdk.http.host_allowed`), so validate and the session
    agree on ports: an entry with a port admits that port only. ``host`` may carry an explicit
    ``:port`` (as :func:`url_host` returns it); else ``port`` is the scheme's default."""
    from cdk.sdk.http import host_allowed as runtime_allowed
    from cdk.sdk.http import split_host_entry

    name, explicit = split_host_entry(host)
    return runtime_allowed(name, allowed, explicit if explicit is not None else port)


def default_port(url: str) -> int | None:
    """The default port of a literal URL's scheme (80, 443, ...), or None."""
    from cdk.sdk.http import DEFAULT_PORTS

    m = URL_RE.match(url.strip())
    return DEFAULT_PORTS.get(m.group(1).lower()) if m else None


def url_host(value: str) -> str | None:
    """The host of a literal URL, with ``:port`` when the URL writes one; None when not literal."""
    m = URL_RE.match(value.strip())
    if not m:
        return None
    host = m.group(3)
    if "{" in host or "%" in host or not host:
        return None
    return f"{host}:{m.group(4)}" if m.group(4) else host


def _fstring_host(node: ast.JoinedStr) -> tuple[str | None, bool]:
    """Host of an f-string URL when its literal start holds the complete host (``f"https://h/{x}"``)."""
    first = node.values[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None, False
    m = URL_RE.match(first.value)
    if not m:
        return None, False
    end = m.end()
    if m.group(4) is None and end < len(first.value) and first.value[end] == ":":
        return None, True  # the port is not literal
    complete = (
        end < len(first.value)
        and first.value[end] in "/:?#"
        or (end == len(first.value) and len(node.values) == 1)
    )
    if not complete:
        return None, True
    return (f"{m.group(3)}:{m.group(4)}" if m.group(4) else m.group(3)), True


def check_tree(tree: ast.Module, file: str, allowed: list[str]) -> list[Finding]:
    out = []
    in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for const in iter_strings(tree):
        if id(const) in in_fstrings:
            continue
        host = url_host(str(const.value))  # iter_strings yields str constants only
        if host and not host_allowed(host, allowed, default_port(str(const.value))):
            out.append(
                make(
                    R["E001"],
                    file,
                    const.lineno,
                    const.col_offset,
                    f"URL host '{host}' is not in allowed_hosts {allowed}",
                )
            )
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            host, _ = _fstring_host(node)
            first = node.values[0]
            text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
            if host and "{" not in host and not host_allowed(host, allowed, default_port(text)):
                out.append(
                    make(
                        R["E001"],
                        file,
                        node.lineno,
                        node.col_offset,
                        f"URL host '{host}' is not in allowed_hosts {allowed}",
                    )
                )
        elif isinstance(node, ast.keyword) and node.arg in HOST_KEYWORDS:
            v = node.value
            if isinstance(v, ast.Constant) and isinstance(v.value, str) and BARE_HOST.match(v.value):
                if not host_allowed(v.value, allowed):
                    out.append(
                        make(
                            R["E001"],
                            file,
                            v.lineno,
                            v.col_offset,
                            f"host '{v.value}' is not in allowed_hosts {allowed}",
                        )
                    )
    return out


def _manifest_urls(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            if path == () and k in ("description", "display_name", "ui"):
                continue
            out.extend(_manifest_urls(v, path + (k,)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(_manifest_urls(v, path + (i,)))
    elif isinstance(data, str) and url_host(data):
        out.append((path, data))
    return out


def check(project: Project | CodeProject, policy: Policy) -> list[Finding]:
    from cdk.validators.engine import CodeProject

    if isinstance(project, CodeProject):
        allowed = project.allowed_hosts
        if allowed is None:
            return []
    elif project.manifest is None:
        return []
    else:
        allowed = list(project.manifest.allowed_hosts)
    out: list[Finding] = []
    for path in project.python_files:
        tree = project.parse(path)
        if not isinstance(tree, SyntaxError):
            out.extend(check_tree(tree, project.rel(path), allowed))
    if not isinstance(project, CodeProject):
        from cdk.validators.manifest import raw_manifest

        raw = raw_manifest(project)
        if raw is None:
            return out
        data, positions = raw
        for key_path, url in _manifest_urls(data):
            host = url_host(url)
            if host and not host_allowed(host, allowed, default_port(url)):
                line, col = positions.locate(key_path)
                out.append(
                    make(
                        R["E002"],
                        "connector.yaml",
                        line,
                        col,
                        f"URL host '{host}' is not in allowed_hosts {allowed}",
                    )
                )
    return out
