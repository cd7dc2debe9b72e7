"""The one secret vocabulary: which config fields are secret, which values, and every spelling of them.

The validator (``cdk validate``), the recorder (``cdk test --record``), the artifact scan of
``cdk publish``/``cdk ci`` and log masking all ask this module, so they cannot disagree.

**Secret fields.** A config field is secret when any of these holds:

* its JSON Schema marks it: ``writeOnly: true``, ``format: password``, ``airbyte_secret: true``,
  ``secret: true`` or ``x-secret: true`` (:func:`is_marked_secret`; pydantic's ``SecretStr`` produces
  the first two in ``model_json_schema()``);
* it is a pydantic ``SecretStr``/``SecretBytes`` field of the config class (:func:`model_secret_paths`
  for a live class, :data:`SECRET_TYPES` for the class read from source);
* its *name* is secret (:func:`is_secret_name`), at any depth of the config.

**The name rule.** A name is split into lower-case words on every non-alphanumeric character and at
camelCase boundaries (``clientSecret`` → ``client secret``, ``X-API-Key`` → ``x api key``). The *last*
word decides, so metadata about a secret is not a secret (``token_url``, ``password_policy``,
``auth_type``, ``secret_name``, ``api_key_header``):

* last word in :data:`SECRET_WORDS` (``password``, ``passwd``, ``pwd``, ``passphrase``, ``secret``,
  ``token``, ``apikey``, ``authorization``, ``cookie``, ``credential(s)``, ...) → secret, except a
  ``token`` qualified as pagination (``next_page_token``, ``continuation_token``, ``sync_token``);
* last word ``key`` → secret when it stands alone or its previous word is a credential qualifier
  (:data:`KEY_QUALIFIERS`: ``api``, ``private``, ``secret``, ``access``, ``client``, ``signing``, ...):
  ``api_key``, ``x_api_key``, ``private_key``, ``aws_secret_access_key`` are secret; ``primary_key``,
  ``sort_key``, ``cursor_key``, ``key_id`` are not. In an API *response* body a bare ``key`` is data
  (``{"key": "PROJ-1"}``) and is not secret (``response=True``).

**Secret values.** :func:`secret_values` walks a concrete config and returns every non-empty string
under a secret field as a :class:`Secret` (its dotted field path and value, never printed). Values that
are *references* (``CDK_ENV_NAME``, ``BIZON_ENV_NAME``, ``file:PATH``, ``vault:PATH#KEY``) or
placeholders (``REDACTED``, ``<token>``, ``your-token``, ``${TOKEN}``) are not secrets themselves;
:func:`resolve_reference` turns env and file references into the real value so that a scan checks what
the reference points to.

**Spellings.** :func:`spellings` lists every way a value can appear in text: raw, URL-encoded (upper and
lower case ``%xx``, ``+`` for space), base64 (standard and URL-safe, padded or not, also as a fragment of
a longer base64 string and as ``base64(user:password)``), JSON-escaped, ``\\/``-escaped and HTML-escaped.
Values shorter than :data:`MIN_LENGTH` are never searched for in free text (a 3-letter value would hit
everywhere); fields holding them are still redacted by name.

**Credential shapes.** :func:`credential_kind` / :func:`find_credentials` recognise hard-coded
credentials whatever field they are in: provider key formats (AWS, GitHub, Slack, Stripe, Google,
OpenAI, SendGrid, Notion, PyPI, JWTs), private key blocks and literal ``Bearer``/``Basic`` values.

This module imports nothing above the standard library at import time (``cdk validate`` stays fast).
"""

from __future__ import annotations

import ast
import base64
import html
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from cdk.project import Project

PLACEHOLDER = "REDACTED"
MIN_LENGTH = 4
"""Values shorter than this are not searched for in free text by anyone (redacted by field name only)."""

# -- names ----------------------------------------------------------------------------------------

SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "sessionid",
        "privatekey",
        "accesstoken",
        "refreshtoken",
        "clientsecret",
    }
)
KEY_QUALIFIERS = frozenset(
    {
        "api",
        "xapi",
        "private",
        "secret",
        "access",
        "client",
        "signing",
        "encryption",
        "decryption",
        "master",
        "license",
        "app",
        "consumer",
        "shared",
        "auth",
        "session",
        "subscription",
        "account",
        "storage",
        "developer",
        "service",
        "ssh",
        "webhook",
        "hmac",
        "sas",
        "personal",
    }
)
# a "token" that is a pagination cursor, not a credential
PAGINATION_WORDS = frozenset({"page", "next", "continuation", "sync", "cursor", "pagination", "resume"})
# headers that carry credentials whatever the rule above says
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "x-apikey",
        "x-api-token",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "x-amz-security-token",
        "private-token",
    }
)
SECRET_TYPES = frozenset({"SecretStr", "SecretBytes"})
"""Annotations that make a pydantic field secret (matched by name, so source can be read without importing)."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def name_words(name: str) -> list[str]:
    """``"clientSecret"`` → ``["client", "secret"]``; ``"X-API-Key"`` → ``["x", "api", "key"]``."""
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if w]


@lru_cache(maxsize=4096)
def is_secret_name(name: str, *, response: bool = False) -> bool:
    """Whether a field, parameter or header called ``name`` holds a credential (rule in the module doc)."""
    if name.lower() in SECRET_HEADERS:
        return True
    words = name_words(name)
    if not words:
        return False
    last = words[-1]
    previous = words[-2] if len(words) > 1 else ""
    if last == "token":
        return previous not in PAGINATION_WORDS
    if last in SECRET_WORDS:
        return True
    if last == "key":
        if len(words) == 1:
            return not response
        return previous in KEY_QUALIFIERS
    return False


def is_marked_secret(prop: Any) -> bool:
    """Whether a JSON Schema property marks its value secret."""
    return isinstance(prop, Mapping) and bool(
        prop.get("writeOnly")
        or prop.get("format") == "password"
        or prop.get("airbyte_secret")
        or prop.get("secret") is True
        or prop.get("x-secret")
    )


def schema_secret_paths(schema: Mapping[str, Any] | None) -> set[str]:
    """Dotted paths of the properties ``schema`` marks secret (``$ref``, ``anyOf``/``oneOf``/``allOf``
    and array ``items`` followed; array items share their array's path)."""
    found: set[str] = set()
    if not isinstance(schema, Mapping):
        return found
    defs: dict[str, Any] = {**(schema.get("$defs") or {}), **(schema.get("definitions") or {})}

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
        if path and is_marked_secret(node):
            found.add(path)
        props = node.get("properties")
        if isinstance(props, Mapping):
            for key, sub in props.items():
                walk(sub, f"{path}.{key}" if path else str(key), depth + 1)
        for combo in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(combo) or []:
                walk(sub, path, depth + 1)
        if isinstance(node.get("items"), Mapping):
            walk(node["items"], path, depth + 1)

    walk(schema, "", 0)
    return found


def model_secret_paths(model: Any) -> set[str]:
    """Dotted paths of the ``SecretStr``/``SecretBytes`` fields of a pydantic model class (nested models
    followed). Works on the class without importing pydantic here."""
    out: set[str] = set()

    def annotation_types(ann: Any) -> Iterator[Any]:
        yield ann
        for arg in getattr(ann, "__args__", ()) or ():
            yield from annotation_types(arg)

    def walk(cls: Any, prefix: str, depth: int) -> None:
        fields = getattr(cls, "model_fields", None)
        if not isinstance(fields, Mapping) or depth > 8:
            return
        for name, info in fields.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            for t in annotation_types(getattr(info, "annotation", None)):
                if getattr(t, "__name__", None) in SECRET_TYPES:
                    out.add(path)
                elif isinstance(t, type) and hasattr(t, "model_fields"):
                    walk(t, path, depth + 1)

    walk(model, "", 0)
    return out


def source_secret_fields(tree: ast.Module, class_name: str) -> set[str]:
    """Names of the ``SecretStr``/``SecretBytes`` fields of ``class_name`` (and its bases in the same
    module) read from source, for callers that must not import connector code."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    out: set[str] = set()
    todo = [class_name]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in classes:
            continue
        seen.add(name)
        cls = classes[name]
        todo.extend(b.id for b in cls.bases if isinstance(b, ast.Name))
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                names = {
                    n.id if isinstance(n, ast.Name) else n.attr
                    for n in ast.walk(stmt.annotation)
                    if isinstance(n, ast.Name | ast.Attribute)
                }
                if names & SECRET_TYPES:
                    out.add(stmt.target.id)
    return out


def connector_secret_paths(project: Project) -> set[str]:
    """The config fields a connector *declares* secret, found without running its code: marked in its
    config schema, or ``SecretStr``/``SecretBytes`` fields of its ``config.class`` read from source.
    ``project`` is a :class:`cdk.project.Project`; a part that cannot be read adds nothing (the
    validator reports it)."""
    paths: set[str] = set()
    manifest = getattr(project, "manifest", None)
    spec = getattr(manifest, "config", None)
    if spec is None:
        return paths
    try:
        paths |= schema_secret_paths(project.config_schema())
    except Exception:  # noqa: BLE001 - an unreadable schema is the validator's finding, not ours
        pass
    target = getattr(spec, "class_", None)
    if target:
        module, _, cls = str(target).partition(":")
        path = project.module_path(module)
        tree = project.parse(path) if path is not None else None
        if isinstance(tree, ast.Module):
            paths |= source_secret_fields(tree, cls)
    return paths


# -- values ---------------------------------------------------------------------------------------

ENV_PREFIXES = ("CDK_ENV_", "BIZON_ENV_")
_PLACEHOLDER_RE = re.compile(
    r"^(|x+|\*+|\.+|-+|<[^>]*>|\$\{[^}]*\}|\{\{?[^}]*\}?\}|%\(\w+\)s|redacted|\[redacted\]|changeme|change_me|"
    r"replace_me|replace-me|placeholder|dummy|example|test|testing|none|null|secret|password|token|fake[\w-]*|"
    r"your[\w-]*|[\w-]*(?-i:x{4,}|X{4,})[\w-]*|\*{3}.*|bearer|basic|api_key|apikey|authorization|header|query)$",
    re.I,
)
_USERNAME_NAMES = ("username", "user", "user_name", "login", "email", "client_id", "account")


def is_reference(value: str) -> bool:
    """``CDK_ENV_NAME``, ``BIZON_ENV_NAME``, ``file:PATH`` or ``vault:PATH#KEY``: resolved at run time."""
    v = value.strip()
    if any(v.startswith(p) and len(v) > len(p) for p in ENV_PREFIXES):
        return True
    return v.startswith(("file:", "vault:", "env:"))


def is_placeholder(value: str) -> bool:
    """A stand-in, not a secret: ``""``, ``REDACTED``, ``<token>``, ``${TOKEN}``, ``your-token``, a reference."""
    v = value.strip()
    return bool(_PLACEHOLDER_RE.match(v)) or is_reference(v) or v.startswith("${")


def resolve_reference(
    value: str, *, env: Mapping[str, str] | None = None, base: Path | None = None
) -> str | None:
    """The real value a reference points to, for scanning: env references read ``env`` (default
    ``os.environ``), ``file:PATH`` reads the file (relative to ``base``) without its trailing newline.
    None when it cannot be resolved (unset variable, missing file).

    ``vault:MOUNT/PATH#KEY`` and any other scheme registered in :mod:`cdk.secret_refs` are resolved
    by the same resolvers the run time uses (Vault from ``VAULT_ADDR``/``VAULT_TOKEN``).
    """
    environ = os.environ if env is None else env
    v = value.strip()
    for prefix in ENV_PREFIXES:
        if v.startswith(prefix) and len(v) > len(prefix):
            return environ.get(v[len(prefix) :])
    if v.startswith("env:"):
        return environ.get(v[4:])
    if v.startswith("file:"):
        path = Path(v[5:]).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError):
            return None
    from cdk import secret_refs
    from cdk.errors import CdkError

    if secret_refs.reference_scheme(v) is None:
        return None
    try:
        return secret_refs.resolve(v, base=base)
    except CdkError:
        return None


@dataclass(frozen=True)
class Secret:
    """One secret value and where it came from. ``field`` is safe to print; ``value`` never is."""

    field: str
    value: str
    username: str | None = None

    def __repr__(self) -> str:
        return f"Secret(field={self.field!r}, value=<{len(self.value)} characters>)"


def is_secret_field(path: str, marked: Iterable[str] = ()) -> bool:
    """Whether the config field at dotted ``path`` is secret: marked (schema/model) or by its name."""
    marked_set = marked if isinstance(marked, set | frozenset) else set(marked)
    if path in marked_set:
        return True
    name = path.rsplit(".", 1)[-1]
    return is_secret_name(name)


def secret_values(
    config: Mapping[str, Any],
    schema: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    *,
    model: Any = None,
    marked: Iterable[str] = (),
    resolve: bool = False,
    placeholders: bool = False,
    env: Mapping[str, str] | None = None,
    base: Path | None = None,
) -> list[Secret]:
    """The secret values of a concrete config.

    A value is secret when its field is (see :func:`is_secret_field`; ``schema`` may be one schema or
    several, ``model`` a pydantic class, ``marked`` extra dotted paths). References and placeholders are
    skipped — unless ``resolve`` is true, then env and file references are replaced by what they point to
    (for scanning); ``placeholders=True`` keeps placeholders (the recorder masks the stand-ins of a
    replay config exactly as it masks the real values, so both requests compare equal). A ``SecretStr``
    value is unwrapped. Basic-auth pairs get their ``username``.
    """
    paths = set(marked)
    schemas = [schema] if isinstance(schema, Mapping) else list(schema or [])
    for s in schemas:
        paths |= schema_secret_paths(s)
    if model is not None:
        paths |= model_secret_paths(model)
    out: list[Secret] = []
    seen: set[tuple[str, str]] = set()

    def text_of(value: Any) -> str | None:
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str) or not value:
            return None
        if is_reference(value):
            return resolve_reference(value, env=env, base=base) if resolve else None
        return value if placeholders or not is_placeholder(value) else None

    def username_in(parent: Mapping[str, Any]) -> str | None:
        for key in _USERNAME_NAMES:
            user = parent.get(key)
            if isinstance(user, str) and user:
                if is_reference(user):
                    return resolve_reference(user, env=env, base=base) if resolve else None
                return user
        return None

    def walk(value: Any, path: str, parent: Mapping[str, Any] | None) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k), value)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, path, parent)
        elif path and is_secret_field(path, paths):
            text = text_of(value)
            if text and (path, text) not in seen:
                seen.add((path, text))
                out.append(Secret(path, text, username_in(parent) if parent is not None else None))

    walk(config, "", None)
    return out


SAMPLE_PLACEHOLDER = "REPLACE_ME"


def placeholder_config(
    config: Mapping[str, Any],
    schema: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    *,
    model: Any = None,
    placeholder: str = SAMPLE_PLACEHOLDER,
) -> dict[str, Any]:
    """A copy of ``config`` with every secret field's value (or reference) replaced by ``placeholder``.

    Secret fields are those of :func:`secret_values` (marked in a schema or model, or named like a
    secret); references (``CDK_ENV_...``, ``file:``, ``vault:``) are replaced too, since the machine
    that replays has neither the variable nor the file. What ``cdk test --record`` writes as
    ``tests/sample_config.json``, and ``cdk import source-spec`` next to the imported connector.
    """
    paths: set[str] = set()
    schemas = [schema] if isinstance(schema, Mapping) else list(schema or [])
    for s in schemas:
        paths |= schema_secret_paths(s)
    if model is not None:
        paths |= model_secret_paths(model)

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, path) for v in value]
        if path and is_secret_field(path, paths) and isinstance(value, str | int | float | bytes):
            return value if isinstance(value, bool) or value == "" else placeholder
        return value

    out = walk(config, "")
    return dict(out) if isinstance(out, Mapping) else {}


# -- spellings ------------------------------------------------------------------------------------


def _base64_forms(raw: bytes) -> set[str]:
    forms: set[str] = set()
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        full = enc(raw).decode()
        forms.add(full)
        forms.add(full.rstrip("="))
        for k in (1, 2):  # the value inside a longer base64 string, at the other two alignments
            padded = enc(b"\0" * k + raw + b"\0\0").decode()
            start = -(-8 * k // 6)
            end = (8 * (k + len(raw))) // 6
            fragment = padded[start:end]
            if len(fragment) >= max(MIN_LENGTH, 6):
                forms.add(fragment)
    return forms


_HTML_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}


def _html_forms(value: str) -> set[str]:
    """``value`` as HTML escapers write it: named entities, decimal or hex (either case) character
    references, with and without ``/`` escaped (OWASP style)."""
    specials = "&<>\"'"
    if not any(c in value for c in specials + "/"):
        return set()
    forms: set[str] = set()
    for style in ("named", "decimal", "hex", "HEX"):
        for chars in (specials, specials + "/"):
            forms.add("".join(_html_ref(c, style) if c in chars else c for c in value))
    return forms


def _html_ref(c: str, style: str) -> str:
    if style == "named" and c in _HTML_NAMED:
        return _HTML_NAMED[c]
    if style == "decimal":
        return f"&#{ord(c)};"
    return f"&#x{ord(c):x};" if style == "hex" else f"&#x{ord(c):X};"


@lru_cache(maxsize=1024)
def _spellings(value: str, username: str | None) -> tuple[str, ...]:
    if len(value) < MIN_LENGTH:
        return ()
    upper = quote(value, safe="")
    plus = quote_plus(value)
    json_escaped = json.dumps(value)[1:-1]
    json_unicode = json.dumps(value, ensure_ascii=False)[1:-1]
    forms = {
        value,
        upper,
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), upper),
        plus,
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), plus),
        quote(value, safe="/"),
        json_escaped,
        json_unicode,
        json_escaped.replace("/", "\\/"),
        json_unicode.replace("/", "\\/"),
        html.escape(value),
        html.escape(value, quote=False),
        html.escape(value).replace("&#x27;", "&#39;"),
    }
    # JSON as Go and others write it (<, >, &, ' as \u00XX), and a JSON string inside HTML
    go = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"}
    for escaped in (json_escaped, json_unicode):
        for chars in ("<>&", "<>&'"):  # Go's encoding/json; others add the apostrophe
            go_json = "".join(go[c] if c in chars else c for c in escaped)
            forms |= {go_json, go_json.replace("/", "\\/")}
    for text in (value, json_escaped, json_escaped.replace("/", "\\/")):  # HTML, and JSON inside HTML
        forms |= _html_forms(text)
    forms |= {quote(upper, safe=""), quote(upper.lower(), safe="")} if "%" in upper else set()  # twice
    forms |= _base64_forms(value.encode("utf-8"))
    if username:
        forms |= _base64_forms(f"{username}:{value}".encode())
    return tuple(sorted((f for f in forms if len(f) >= MIN_LENGTH), key=lambda f: (-len(f), f)))


def spellings(secret: str | Secret) -> list[str]:
    """Every spelling of a secret value in text, longest first (empty below :data:`MIN_LENGTH`)."""
    if isinstance(secret, Secret):
        return list(_spellings(secret.value, secret.username))
    return list(_spellings(secret, None))


@dataclass(frozen=True)
class Hit:
    """A secret found in text: which field (never the value), where, and its length."""

    field: str
    start: int
    end: int


def _as_secrets(secrets: Iterable[str | Secret]) -> list[Secret]:
    return [s if isinstance(s, Secret) else Secret("secret", s) for s in secrets if s]


class SecretSet:
    """A compiled set of secrets: mask or find every spelling of any of them in text or bytes."""

    def __init__(self, secrets: Iterable[str | Secret] = ()) -> None:
        self.secrets: list[Secret] = []
        self._owner: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._bytes_pattern: re.Pattern[bytes] | None = None
        self.add(*secrets)

    @property
    def values(self) -> set[str]:
        return {s.value for s in self.secrets}

    def add(self, *secrets: str | Secret) -> bool:
        """Learn more secrets; True when something new was learned."""
        known = {(s.value, s.username) for s in self.secrets}
        new = [
            s for s in _as_secrets(secrets) if s.value != PLACEHOLDER and (s.value, s.username) not in known
        ]
        if not new:
            return False
        self.secrets.extend(new)
        for s in new:
            for form in spellings(s):
                self._owner.setdefault(form, s.field)
        forms = sorted(self._owner, key=lambda f: (-len(f), f))
        self._pattern = re.compile("|".join(re.escape(f) for f in forms)) if forms else None
        self._bytes_pattern = (
            re.compile(b"|".join(re.escape(f.encode("utf-8")) for f in forms)) if forms else None
        )
        return True

    def mask(self, text: str, placeholder: str = PLACEHOLDER) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(placeholder, text)

    def mask_bytes(self, data: bytes, placeholder: bytes = PLACEHOLDER.encode()) -> bytes:
        if self._bytes_pattern is None or not data:
            return data
        return self._bytes_pattern.sub(placeholder, data)

    def find(self, text: str) -> list[Hit]:
        if self._pattern is None or not text:
            return []
        return [Hit(self._owner[m.group(0)], m.start(), m.end()) for m in self._pattern.finditer(text)]

    def find_bytes(self, data: bytes) -> list[Hit]:
        if self._bytes_pattern is None or not data:
            return []
        return [
            Hit(self._owner[m.group(0).decode("utf-8")], m.start(), m.end())
            for m in self._bytes_pattern.finditer(data)
        ]


def mask(text: str, secrets: Iterable[str | Secret], placeholder: str = PLACEHOLDER) -> str:
    """``text`` with every spelling of every secret replaced by ``placeholder``."""
    return SecretSet(secrets).mask(text, placeholder)


def find(text: str, secrets: Iterable[str | Secret]) -> list[Hit]:
    """Where any spelling of any secret occurs in ``text`` (by field name, never the value)."""
    return SecretSet(secrets).find(text)


def hint(value: str) -> str:
    """A secret shown safely: its length and first two characters at most."""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 2)


# -- credential shapes ----------------------------------------------------------------------------

CREDENTIAL_PATTERNS: tuple[tuple[str, str], ...] = (
    ("AWS access key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("Stripe key", r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("private key", r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY"),
    ("JSON Web Token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("OpenAI key", r"\bsk-(?:proj-)?[A-Za-z0-9]{32,}"),
    ("SendGrid key", r"\bSG\.[\w-]{16,}\.[\w-]{20,}"),
    ("Notion token", r"\b(?:secret|ntn)_[A-Za-z0-9]{40,}"),
    ("PyPI token", r"\bpypi-AgE[A-Za-z0-9_\-]{50,}"),
)
_CREDENTIALS = tuple((label, re.compile(p)) for label, p in CREDENTIAL_PATTERNS)
_CREDENTIALS_BYTES = tuple((label, re.compile(p.encode())) for label, p in CREDENTIAL_PATTERNS)
AUTH_LITERAL = re.compile(r"^(Bearer|Basic|Token|Digest)\s+([A-Za-z0-9._~+/=-]{8,})$")


def credential_kind(value: str) -> str | None:
    """The kind of provider credential ``value`` contains (``"GitHub token"``), or None."""
    for label, pattern in _CREDENTIALS:
        if pattern.search(value):
            return label
    return None


def find_credentials(data: str | bytes) -> list[str]:
    """Kinds of credential-shaped strings in ``data`` (text or bytes), each once, in table order."""
    table: Sequence[tuple[str, re.Pattern[Any]]] = (
        _CREDENTIALS_BYTES if isinstance(data, bytes) else _CREDENTIALS
    )
    return [label for label, pattern in table if pattern.search(data)]


def is_auth_literal(value: str) -> bool:
    """A literal ``Authorization`` value with a real credential (``Bearer 9f8a...``, not ``Bearer <token>``)."""
    m = AUTH_LITERAL.match(value.strip())
    return m is not None and not is_placeholder(m.group(2))


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
    """Shannon entropy of ``value`` in bits per character."""
    import math
    from collections import Counter

    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def high_entropy(value: str) -> bool:
    """A long random-looking string (24-200 characters of one token alphabet, mixed classes)."""
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


# -- this process's secrets: what failure messages and --debug tracebacks are masked with -----------

PROCESS_SECRETS = SecretSet()
"""Every secret value this process has resolved (config secrets, tokens): the CLI masks any failure
message and ``--debug`` traceback with it before printing."""

_URL_QUERY = re.compile(r"(?P<base>\bhttps?://[^\s?#'\"<>]+)\?(?P<query>[^\s#'\"<>]*)")


def _mask_query(match: re.Match[str]) -> str:
    pairs = []
    for pair in match.group("query").split("&"):
        name, sep, value = pair.partition("=")
        pairs.append(f"{name}={PLACEHOLDER}" if sep and value and is_secret_name(name) else pair)
    return f"{match.group('base')}?{'&'.join(pairs)}"


def mask_urls(text: str) -> str:
    """``text`` with the value of every secret-named query parameter of a URL (``?api_key=...``) replaced."""
    return _URL_QUERY.sub(_mask_query, text)


def mask_for_display(text: str) -> str:
    """``text`` (a message, a traceback) safe to print: this process's secrets masked in every spelling,
    and the value of every secret-named query parameter of a URL (``?api_key=...``) replaced."""
    return mask_urls(PROCESS_SECRETS.mask(text))


class MaskingFormatter(logging.Formatter):
    """A log formatter whose lines (message, arguments, traceback) go out through :func:`mask_for_display`:
    connector code that logs its config at DEBUG does not print a secret this process knows."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_for_display(super().format(record))
