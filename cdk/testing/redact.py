"""Redaction of recorded HTTP: secrets are replaced before anything touches disk, then scanned for.

What counts as a secret:

* every value of a secret config field — marked in the config JSON Schema (``writeOnly``,
  ``format: password``, ``airbyte_secret``; pydantic ``SecretStr`` produces the first two) or with a
  secret-looking name (password, token, secret, key, api_key, client_secret, refresh_token, ...);
* tokens the API hands out while recording (``access_token`` and friends in JSON/form responses),
  learned on the fly so that later requests carrying them are redacted too.

Each secret is searched in every form it can take on the wire: as is, URL-encoded (``quote`` and
``quote_plus``), JSON-escaped, and base64 (standard and URL-safe, also as a fragment of a longer base64
string such as ``Basic base64(user:password)``). Headers (Authorization, Proxy-Authorization, Cookie,
Set-Cookie, API-key headers), query parameters and JSON/form body fields with secret names are replaced
by name, whatever their value.

The same redaction runs on the requests of a replay (built from the sample config), so a recorded
request and its replay compare equal although their secrets differ.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

PLACEHOLDER = "REDACTED"
MIN_SECRET_LENGTH = 4  # shorter values are redacted by name only (substring replacement would mangle data)

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "x-amz-security-token",
        "private-token",
    }
)
# words that make a field name secret (names are split on _ - . and camelCase)
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "token",
        "secret",
        "apikey",
        "key",
        "signature",
        "credential",
        "credentials",
        "cookie",
        "sessionid",
        "auth",
    }
)
# a response body's own fields: "key" and "signature" are too often plain data there
_RESPONSE_SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "token", "secret", "apikey"})
_NOT_SECRET = frozenset(
    {
        "token_type",
        "tokentype",
        "expires_in",
        "key_id",
        "keyid",
        "primary_key",
        "sort_key",
        "cursor_key",
        "partition_key",
        "token_url",
        "auth_url",
        "auth_type",
        "authentication",
        "type",
        "next_page_token",
        "page_token",
        "pagetoken",
        "nextpagetoken",
        "continuation_token",
        "sync_token",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if w]


@lru_cache(maxsize=4096)
def is_secret_name(name: str, *, response: bool = False) -> bool:
    """True for field, parameter or header names that hold credentials (``api_key``, ``clientSecret``)."""
    lowered = name.lower()
    if lowered in _NOT_SECRET or lowered.replace("-", "_") in _NOT_SECRET:
        return False
    if lowered in SECRET_HEADERS:
        return True
    words = _words(name)
    if not words:
        return False
    joined = "".join(words)
    vocab = _RESPONSE_SECRET_WORDS if response else _SECRET_WORDS
    if joined in vocab or words[-1] in vocab:
        return True
    return joined in {
        "apikey",
        "xapikey",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "clientsecret",
        "privatekey",
    }


def secret_forms(value: str) -> list[str]:
    """Every spelling of ``value`` that may appear in HTTP traffic, longest first."""
    raw = value.encode()
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        full = enc(raw).decode()
        forms.add(full)
        forms.add(full.rstrip("="))
        for k in (1, 2):  # the secret inside a longer base64 string, at the other two alignments
            padded = enc(b"\0" * k + raw + b"\0\0").decode()
            start = -(-8 * k // 6)
            end = (8 * (k + len(raw))) // 6
            fragment = padded[start:end]
            if len(fragment) >= max(MIN_SECRET_LENGTH, 6):
                forms.add(fragment)
    return sorted((f for f in forms if len(f) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def _schema_secret_paths(schema: Mapping[str, Any] | None) -> set[str]:
    """Dotted paths of fields the JSON Schema marks secret (writeOnly, format password, airbyte_secret)."""
    found: set[str] = set()
    if not schema:
        return found
    defs = {**(schema.get("$defs") or {}), **(schema.get("definitions") or {})}

    def resolve(node: Any) -> Any:
        seen = 0
        while isinstance(node, Mapping) and "$ref" in node and seen < 20:
            node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
            seen += 1
        return node

    def walk(node: Any, path: str, depth: int) -> None:
        node = resolve(node)
        if not isinstance(node, Mapping) or depth > 12:
            return
        if path and (node.get("writeOnly") or node.get("airbyte_secret") or node.get("format") == "password"):
            found.add(path)
        for key, sub in (node.get("properties") or {}).items():
            walk(sub, f"{path}.{key}" if path else key, depth + 1)
        for combo in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(combo) or []:
                walk(sub, path, depth + 1)
        if isinstance(node.get("items"), Mapping):
            walk(node["items"], path, depth + 1)

    walk(schema, "", 0)
    return found


def config_secrets(config: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> set[str]:
    """The secret values of a config: fields the schema marks secret, or whose names look secret."""
    marked = _schema_secret_paths(schema)
    out: set[str] = set()

    def walk(value: Any, path: str, name: str) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k), str(k))
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, path, name)
        elif value is not None and not isinstance(value, bool):
            text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
            if text and (path in marked or is_secret_name(name)):
                out.add(text)

    walk(config, "", "")
    return out


class Redactor:
    """Replaces secrets in URLs, headers and bodies; ``scan`` reports any that survived."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: set[str] = set()
        self._forms: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *values: str) -> None:
        """Learn more secrets (e.g. an access token the API just issued)."""
        new = {v for v in values if isinstance(v, str) and v and v != PLACEHOLDER}
        if not new - self.secrets:
            return
        self.secrets |= new
        forms = {f for s in self.secrets for f in secret_forms(s)}
        self._forms = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in self._forms)) if self._forms else None

    # -- text ------------------------------------------------------------------------------------
    def text(self, value: str) -> str:
        """``value`` with every known secret form replaced."""
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(PLACEHOLDER, value)

    def found_in(self, value: str) -> list[str]:
        """Which secret forms occur in ``value`` (masked, for messages)."""
        if self._pattern is None:
            return []
        return sorted({mask(m.group(0)) for m in self._pattern.finditer(value)})

    # -- HTTP parts ------------------------------------------------------------------------------
    def url(self, url: str) -> str:
        """The URL with secret query parameters (by name) and secret values (anywhere) replaced."""
        parts = urlsplit(url)
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            pairs = [(k, PLACEHOLDER if is_secret_name(k) and v else self.text(v)) for k, v in pairs]
            query = urlencode(pairs, safe="/:")
        netloc = parts.netloc
        if "@" in netloc:  # user:password@host
            userinfo, _, host = netloc.rpartition("@")
            user, sep, _password = userinfo.partition(":")
            netloc = f"{self.text(user)}{sep}{PLACEHOLDER if sep else ''}@{host}"
        return urlunsplit((parts.scheme, netloc, self.text(parts.path), query, ""))

    def headers(self, headers: Mapping[str, list[str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, values in headers.items():
            if is_secret_name(name) or name.lower() in SECRET_HEADERS:
                out[name] = [PLACEHOLDER for _ in values]
            else:
                out[name] = [self.text(v) for v in values]
        return out

    def json_value(self, value: Any, *, response: bool = False) -> Any:
        """A parsed JSON document with secret-named fields replaced (their values learned) and secrets masked."""
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if (
                    isinstance(v, (str, int, float))
                    and not isinstance(v, bool)
                    and v != ""
                    and is_secret_name(str(k), response=response)
                ):
                    if response and isinstance(v, str):
                        self.add(v)
                    out[k] = PLACEHOLDER
                else:
                    out[k] = self.json_value(v, response=response)
            return out
        if isinstance(value, list):
            return [self.json_value(v, response=response) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def form(self, body: str, *, response: bool = False) -> str:
        pairs = parse_qsl(body, keep_blank_values=True)
        out = []
        for k, v in pairs:
            if v and is_secret_name(k, response=response):
                if response:
                    self.add(v)
                out.append((k, PLACEHOLDER))
            else:
                out.append((k, self.text(v)))
        return urlencode(out)

    def scan(self, data: str) -> list[str]:
        """Masked secret forms still present in ``data`` (empty when clean)."""
        return self.found_in(data)


def mask(value: str) -> str:
    """A secret shown safely: its length and first two characters at most."""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 2)


SKIP_DIRS = frozenset(
    {
        ".git",
        "secrets",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "node_modules",
        "dist",
        "build",
    }
)


def scan_tree(root: Path, redactor: Redactor, *, skip: Iterable[Path] = ()) -> list[str]:
    """Files under ``root`` holding a known secret in any form, as ``"path: masked forms"``.

    ``secrets/`` (where the real config lives), VCS and tool folders are not scanned.
    """
    import os

    skipped = {Path(p).resolve() for p in skip}
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(folder) / name
            if path.resolve() in skipped or name.endswith((".pyc", ".whl", ".tar.gz")):
                continue
            try:
                text = path.read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            hits = redactor.scan(text)
            if hits:
                found.append(f"{path.relative_to(root)}: {', '.join(hits)}")
    return found
