"""Redaction of recorded HTTP: secrets are replaced before anything touches disk, then scanned for.

What counts as a secret, and every spelling of one, is decided by :mod:`cdk.secrets` (the one secret
vocabulary shared with ``cdk validate`` and the publish scan):

* every value of a secret config field (:func:`cdk.secrets.secret_values`);
* tokens the API hands out while recording (``access_token`` and friends in JSON/form responses),
  learned on the fly so that later requests carrying them are redacted too.

Each secret is searched in every spelling (:func:`cdk.secrets.spellings`). Headers (Authorization,
Proxy-Authorization, Cookie, Set-Cookie, API-key headers), query parameters and JSON/form body fields
with secret names are replaced by name, whatever their value. Binary bodies are masked on their bytes
and left byte-identical when no secret is inside.

The same redaction runs on the requests of a replay (built from the sample config), so a recorded
request and its replay compare equal although their secrets differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cdk.secrets import (
    PLACEHOLDER,
    SECRET_HEADERS,
    Secret,
    SecretSet,
    is_secret_name,
    secret_values,
)


def recording_secrets(
    config: Mapping[str, Any], schemas: Sequence[Mapping[str, Any]], *, base: Path | None = None
) -> list[Secret]:
    """What recording (and replay) redacts: the secret values of ``config`` with its env and file
    references resolved (one that cannot be resolved is simply not a value). Placeholders count: a
    replay config's stand-ins are masked like the real values, so recorded and replayed requests match."""
    found = secret_values(config, schemas, resolve=True, placeholders=True, base=base)
    return found


class Redactor:
    """Replaces secrets in URLs, headers and bodies; ``scan`` reports any that survived."""

    def __init__(self, secrets: Iterable[str | Secret] = ()) -> None:
        self._set = SecretSet()
        self.add(*secrets)

    @property
    def secrets(self) -> set[str]:
        """The secret values known so far."""
        return self._set.values

    def add(self, *values: str | Secret) -> None:
        """Learn more secrets (e.g. an access token the API just issued)."""
        self._set.add(*(v for v in values if isinstance(v, str | Secret)))

    # -- text ------------------------------------------------------------------------------------
    def text(self, value: str) -> str:
        """``value`` with every known secret form replaced."""
        return self._set.mask(value)

    def binary(self, data: bytes) -> bytes:
        """``data`` with every known secret form replaced; the very same bytes when none is inside."""
        return self._set.mask_bytes(data)

    def found_in(self, value: str) -> list[str]:
        """Which secrets occur in ``value``, by config field (never the value)."""
        return sorted({hit.field for hit in self._set.find(value)})

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
                        self.add(Secret(f"response field '{k}'", v))
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
                    self.add(Secret(f"response field '{k}'", v))
                out.append((k, PLACEHOLDER))
            else:
                out.append((k, self.text(v)))
        return urlencode(out)

    def scan(self, data: str) -> list[str]:
        """The secrets (by config field) still present in ``data`` in any spelling (empty when clean)."""
        return self.found_in(data)


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
    """Files under ``root`` holding a known secret in any spelling, as ``"path: field, field"``.

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
