"""Secret references in configs, resolved at run time and never written anywhere.

A config value may point at its secret instead of holding it:

* ``CDK_ENV_NAME`` (alias ``BIZON_ENV_NAME``, the Python source guide's spelling) or ``env:NAME``: the
  environment variable ``NAME``;
* ``file:PATH``: the content of a file (a mounted Kubernetes/Docker secret), trailing newline removed;
  a relative path is relative to the config file's folder;
* ``vault:MOUNT/PATH#KEY``: key ``KEY`` of the secret at ``PATH`` of HashiCorp Vault's KV version 2
  engine mounted at ``MOUNT`` (``GET $VAULT_ADDR/v1/MOUNT/data/PATH`` with ``X-Vault-Token:
  $VAULT_TOKEN``; ``VAULT_NAMESPACE`` and ``VAULT_CACERT`` honoured). ``vault:secret/acme#api_key``.

Resolvers are pluggable: a :class:`SecretResolver` has a ``scheme`` (the text before the first ``:``) and
``resolve(reference) -> str``; :func:`register_resolver` adds or replaces one (an organisation's AWS
Secrets Manager, say). The run time (``cdk.connector`` building a config) and the scans
(:func:`cdk.secrets.resolve_reference`) use the same registry.

Every resolved value is a secret whatever field holds it: :func:`resolve_config` returns the values it
resolved so that the caller masks them in messages, logs, state and cassettes.

Core module: standard library only at import time (``requests`` is imported when Vault is asked).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from cdk.errors import ConfigError, OutsideError

ENV_PREFIXES = ("CDK_ENV_", "BIZON_ENV_")


class SecretResolver(Protocol):
    """Turns ``<scheme>:<rest>`` into the secret value, or raises ConfigError/OutsideError saying why."""

    scheme: str

    def resolve(self, reference: str) -> str: ...


class EnvResolver:
    scheme = "env"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = environ

    def resolve(self, reference: str) -> str:
        name = reference.split(":", 1)[1]
        environ = os.environ if self.environ is None else self.environ
        if name not in environ:
            raise ConfigError(
                f"environment variable {name} is not set",
                hint=f"export {name}=... before running",
            )
        return environ[name]


class FileResolver:
    scheme = "file"

    def __init__(self, base: Path | None = None) -> None:
        self.base = base

    def resolve(self, reference: str) -> str:
        path = Path(reference.split(":", 1)[1]).expanduser()
        if self.base is not None and not path.is_absolute():
            path = self.base / path
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except FileNotFoundError:
            raise ConfigError(
                f"secret file {path} does not exist", hint="mount the secret or fix the path"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read secret file {path}: {exc}") from None


class VaultResolver:
    """HashiCorp Vault KV v2 over its HTTP API. One GET per secret path per process (cached)."""

    scheme = "vault"

    def __init__(
        self,
        address: str | None = None,
        token: str | None = None,
        *,
        namespace: str | None = None,
        ca_cert: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.address = address
        self.token = token
        self.namespace = namespace
        self.ca_cert = ca_cert
        self.timeout = timeout
        self._cache: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def resolve(self, reference: str) -> str:
        rest = reference.split(":", 1)[1].lstrip("/")
        path, sep, key = rest.partition("#")
        mount, slash, sub = path.partition("/")
        if not sep or not key or not slash or not sub:
            raise ConfigError(
                f"bad Vault reference '{reference}': expected vault:MOUNT/PATH#KEY",
                hint="e.g. vault:secret/acme#api_key (KV v2 engine mounted at 'secret')",
            )
        data = self._read(mount, sub)
        if key not in data:
            raise ConfigError(
                f"Vault secret {mount}/{sub} has no key '{key}' (keys: {', '.join(sorted(data)) or 'none'})",
                hint="fix the #KEY part of the reference",
            )
        value = data[key]
        return value if isinstance(value, str) else str(value)

    def _read(self, mount: str, path: str) -> dict[str, Any]:
        with self._lock:
            cached = self._cache.get(f"{mount}/{path}")
        if cached is not None:
            return cached
        address = (self.address or os.environ.get("VAULT_ADDR") or "").rstrip("/")
        token = self.token or os.environ.get("VAULT_TOKEN")
        if not address or not token:
            missing = " and ".join(n for n, v in (("VAULT_ADDR", address), ("VAULT_TOKEN", token)) if not v)
            raise ConfigError(
                f"the config refers to Vault (vault:{mount}/{path}) but {missing} is not set",
                hint="export VAULT_ADDR=https://vault.example.com:8200 and VAULT_TOKEN=...",
            )
        import requests

        url = f"{address}/v1/{mount}/data/{path}"
        headers = {"X-Vault-Token": token}
        namespace = self.namespace or os.environ.get("VAULT_NAMESPACE")
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        verify: bool | str = self.ca_cert or os.environ.get("VAULT_CACERT") or True
        try:
            response = requests.get(url, headers=headers, timeout=self.timeout, verify=verify)
        except requests.RequestException as exc:
            raise OutsideError(
                f"cannot reach Vault at {address} for {mount}/{path}: {type(exc).__name__}",
                hint="check VAULT_ADDR and that Vault is reachable",
            ) from None
        if response.status_code == 404:
            raise ConfigError(
                f"Vault has no secret {mount}/{path} (GET {url} answered 404)",
                hint="check the mount (KV v2) and the path of the reference",
            )
        if response.status_code in (401, 403):
            raise OutsideError(
                f"Vault refused to read {mount}/{path}: {response.status_code} (token invalid or not allowed)",
                hint="renew VAULT_TOKEN or grant its policy read on this path",
            )
        if not response.ok:
            raise OutsideError(f"Vault answered {response.status_code} reading {mount}/{path}")
        try:
            data = response.json()["data"]["data"]
        except (ValueError, KeyError, TypeError):
            raise OutsideError(
                f"Vault's answer for {mount}/{path} is not a KV v2 secret",
                hint="is the engine at this mount KV version 2?",
            ) from None
        if not isinstance(data, dict):
            raise OutsideError(f"Vault's answer for {mount}/{path} holds no key/value data")
        with self._lock:
            self._cache[f"{mount}/{path}"] = data
        return data


_RESOLVERS: dict[str, SecretResolver] = {
    "env": EnvResolver(),
    "file": FileResolver(),
    "vault": VaultResolver(),
}


def register_resolver(resolver: SecretResolver) -> SecretResolver | None:
    """Use ``resolver`` for references of its scheme; returns the one it replaces."""
    previous = _RESOLVERS.get(resolver.scheme)
    _RESOLVERS[resolver.scheme] = resolver
    return previous


def get_resolver(scheme: str) -> SecretResolver | None:
    return _RESOLVERS.get(scheme)


def reference_scheme(value: str) -> str | None:
    """The resolver scheme of a reference (``env``, ``file``, ``vault``, a registered one) or None."""
    v = value.strip()
    for prefix in ENV_PREFIXES:
        if v.startswith(prefix) and len(v) > len(prefix):
            return "env"
    scheme, sep, rest = v.partition(":")
    if sep and rest and scheme in _RESOLVERS and not rest.startswith("//"):
        return scheme
    return None


def resolve(value: str, *, base: Path | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The secret a reference points to (a value that is no reference comes back as it is)."""
    scheme = reference_scheme(value)
    if scheme is None:
        return value
    v = value.strip()
    for prefix in ENV_PREFIXES:
        if v.startswith(prefix):
            v = "env:" + v[len(prefix) :]
    resolver = _RESOLVERS[scheme]
    if scheme == "env" and environ is not None:
        resolver = EnvResolver(environ)
    elif scheme == "file" and base is not None:
        resolver = FileResolver(base)
    return resolver.resolve(v)


def resolve_config(
    value: Any, *, base: Path | None = None, path: str = ""
) -> tuple[Any, list[tuple[str, str]]]:
    """``value`` with every reference (at any depth) resolved, and the (field path, value) of each
    resolution. Failures are ConfigError/OutsideError naming the config field."""
    resolved: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, str):
            if reference_scheme(node) is None:
                return node
            try:
                secret = resolve(node, base=base)
            except (ConfigError, OutsideError) as exc:
                kind = type(exc)
                err = kind(f"config field '{where or '(root)'}': {exc.message}", hint=exc.hint)
                if isinstance(err, ConfigError):
                    err.fields = [where]
                raise err from None
            resolved.append((where, secret))
            return secret
        if isinstance(node, dict):
            return {k: walk(v, f"{where}.{k}" if where else str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(node)]
        return node

    return walk(value, path), resolved
