"""Authenticators for ``config.authentication`` (``{"type": ..., "params": {...}}``).

``AuthBuilder.from_config`` knows: none, api_key (header or query), bearer, basic, oauth2 (refresh-token
grant; the access token is cached, refreshed shortly before expiry, and once on a 401), mtls (``params:
{cert, key, ca}``, files or secret references, and optionally ``auth: {type, params}`` for a second
authenticator on top), and custom
(``params.class`` names any ``requests.auth.AuthBase`` subclass; or pass an instance directly).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from cdk.errors import AuthenticationError, ConfigError


class ApiKeyAuth(AuthBase):
    """An API key in a header (default ``X-API-Key``) or a query parameter."""

    def __init__(
        self, key: str, *, header: str | None = "X-API-Key", query_param: str | None = None, prefix: str = ""
    ) -> None:
        self.key, self.header, self.query_param, self.prefix = key, header, query_param, prefix

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.query_param:
            r.prepare_url(r.url or "", {self.query_param: self.key})
        else:
            r.headers[self.header or "X-API-Key"] = f"{self.prefix}{self.key}"
        return r


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class _NoAuth(AuthBase):
    """Sends a request without the session's authenticator (the token request itself)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class OAuth2RefreshAuth(AuthBase):
    """OAuth2 refresh-token grant. Caches the access token and refreshes it ``leeway`` seconds before
    expiry; on a 401 it refreshes once and resends the request.

    The token request goes through the connector's own session (bound by the connector when the
    authenticator is installed, :meth:`bind_session`): the egress guard refuses a ``token_url`` outside
    ``allowed_hosts`` before any byte leaves, timeouts apply, and the tokens and client secret are masked
    in every message. Unbound (used outside a connector) it makes a fresh :class:`ConnectorSession`.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        scopes: list[str] | None = None,
        leeway: float = 60.0,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self.token_url, self.client_id, self.client_secret = token_url, client_id, client_secret
        self.refresh_token, self.scopes, self.leeway, self.clock = refresh_token, scopes, leeway, clock
        self._session = session
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.refresh_count = 0

    def token(self, *, force: bool = False) -> str:
        with self._lock:
            if force or self._token is None or self.clock() >= self._expires_at - self.leeway:
                self._refresh()
            assert self._token is not None
            return self._token

    def _refresh(self) -> None:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scopes:
            data["scope"] = " ".join(self.scopes)
        from cdk.sdk.http import ConnectorSession

        session = self._session if self._session is not None else ConnectorSession()
        secrets = getattr(session, "secrets", None)
        if secrets is not None:
            secrets.add(self.client_secret, self.refresh_token)
        safe_url = (
            session.safe_url(self.token_url) if isinstance(session, ConnectorSession) else self.token_url
        )
        try:
            resp = session.post(self.token_url, data=data, timeout=30, auth=_NoAuth())
        except AuthenticationError as exc:
            raise AuthenticationError(
                f"OAuth2 token refresh at {safe_url} was refused ({exc.message})",
                hint="check client_id, client_secret and refresh_token",
            ) from exc
        except requests.RequestException as exc:
            raise AuthenticationError(
                f"cannot reach the OAuth2 token endpoint {safe_url}: {exc.__class__.__name__}"
            ) from exc
        if resp.status_code != 200:
            raise AuthenticationError(
                f"OAuth2 token refresh at {self.token_url} answered {resp.status_code}",
                hint="check client_id, client_secret and refresh_token",
            )
        try:
            body = resp.json()
            self._token = body["access_token"]
        except (ValueError, KeyError) as exc:
            raise AuthenticationError(
                f"OAuth2 token endpoint {self.token_url} returned no access_token"
            ) from exc
        self._expires_at = self.clock() + float(body.get("expires_in", 3600))
        if body.get("refresh_token"):
            self.refresh_token = body["refresh_token"]
        if secrets is not None:
            secrets.add(str(self._token), self.refresh_token)
        self.refresh_count += 1

    def bind_session(self, session: requests.Session) -> None:
        """Send token requests through ``session`` (the connector's guarded session)."""
        self._session = session

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        r.register_hook("response", self._retry_on_401)
        # ignored below: a marker on requests' PreparedRequest, which declares no such attribute
        r._cdk_oauth_retried = False  # type: ignore[attr-defined]
        return r

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        request = response.request
        if response.status_code != 401 or getattr(request, "_cdk_oauth_retried", True):
            return response
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        retry = request.copy()
        # ignored below: the same marker, on the retried request
        retry._cdk_oauth_retried = True  # type: ignore[attr-defined]
        retry.headers["Authorization"] = f"Bearer {self.token(force=True)}"
        sender = self._session if self._session is not None else response.connection
        new = sender.send(retry, **kwargs)
        new.history.append(response)
        new.request = retry
        return new


class MutualTLSAuth(AuthBase):
    """Mutual TLS: the connector's session presents a client certificate (``cert`` + ``key``) and trusts
    ``ca`` (a CA bundle) for the API — set on the session when the connector binds it, so the session's
    ``verify`` wins over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (``trust_env_ca=True`` lets them win).
    ``inner`` is another authenticator applied to every request (mTLS plus a bearer token, say).

    Each of ``cert``, ``key`` and ``ca`` is a file path or the PEM text itself (what a ``vault:`` or
    ``CDK_ENV_`` reference resolves to); PEM text is written to a private temporary file (mode 0600, in
    a 0700 folder, removed at exit) because Python's ssl module loads keys only from files.
    """

    def __init__(
        self,
        cert: str,
        key: str | None = None,
        ca: str | None = None,
        *,
        inner: AuthBase | None = None,
        trust_env_ca: bool = False,
    ) -> None:
        self.cert = _pem_file(cert, "cert")
        self.key = _pem_file(key, "key") if key else None
        self.ca = _pem_file(ca, "ca") if ca else None
        self.inner = inner
        self.trust_env_ca = trust_env_ca

    def bind_session(self, session: requests.Session) -> None:
        session.cert = (self.cert, self.key) if self.key else self.cert
        if self.ca:
            session.verify = self.ca
        if hasattr(session, "trust_env_ca"):
            session.trust_env_ca = self.trust_env_ca
        bind = getattr(self.inner, "bind_session", None)
        if callable(bind):
            bind(session)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return self.inner(r) if self.inner is not None else r


_PEM_DIR: list[str] = []


def _pem_file(value: str, what: str) -> str:
    """A path for ``value``: the path itself, or PEM text written to a private temporary file."""
    import os

    if "-----BEGIN" not in value:
        if not os.path.isfile(value):
            raise ConfigError(
                f"mtls {what} file not found: {value}",
                fields=[f"authentication.params.{what}"],
                hint="give a PEM file path, or a secret reference (file:, vault:, CDK_ENV_) to the PEM text",
            )
        return value
    import atexit
    import shutil
    import tempfile

    if not _PEM_DIR:
        folder = tempfile.mkdtemp(prefix="cdk-mtls-")  # mode 0700
        _PEM_DIR.append(folder)
        atexit.register(shutil.rmtree, folder, True)
    fd, path = tempfile.mkstemp(prefix=f"{what}-", suffix=".pem", dir=_PEM_DIR[0])  # mode 0600
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value if value.endswith("\n") else value + "\n")
    return path


def _require(params: Mapping[str, Any], *names: str, kind: str) -> list[Any]:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise ConfigError(
            f"authentication type '{kind}' needs params {missing}",
            fields=[f"authentication.params.{n}" for n in missing],
        )
    return [params[n] for n in names]


class AuthBuilder:
    """Builds a requests authenticator from ``{"type": ..., "params": {...}}`` (or an AuthConfig)."""

    TYPES = ("none", "api_key", "bearer", "basic", "oauth2", "mtls", "custom")

    @staticmethod
    def from_config(config: Any) -> AuthBase | None:
        if config is None:
            return None
        if isinstance(config, AuthBase):
            return config
        if hasattr(config, "model_dump"):
            config = config.model_dump()
        kind = str(config.get("type", "none")).lower()
        params: dict[str, Any] = dict(config.get("params") or {})
        if kind in ("none", ""):
            return None
        if kind == "api_key":
            (key,) = _require(params, "token" if "token" in params else "api_key", kind=kind)
            location = params.get("location", "header")
            if location == "query":
                return ApiKeyAuth(key, header=None, query_param=params.get("param_name", "api_key"))
            return ApiKeyAuth(key, header=params.get("header", "X-API-Key"), prefix=params.get("prefix", ""))
        if kind == "bearer":
            (token,) = _require(params, "token", kind=kind)
            return BearerAuth(token)
        if kind == "basic":
            user, password = _require(params, "username", "password", kind=kind)
            return HTTPBasicAuth(user, password)
        if kind == "oauth2":
            url, cid, secret, refresh = _require(
                params, "token_url", "client_id", "client_secret", "refresh_token", kind=kind
            )
            return OAuth2RefreshAuth(url, cid, secret, refresh, scopes=params.get("scopes"))
        if kind == "mtls":
            (cert,) = _require(params, "cert", kind=kind)
            inner = AuthBuilder.from_config(params["auth"]) if params.get("auth") else None
            return MutualTLSAuth(
                cert,
                params.get("key"),
                params.get("ca"),
                inner=inner,
                trust_env_ca=bool(params.get("trust_env_ca", False)),
            )
        if kind == "custom":
            (target,) = _require(params, "class", kind=kind)
            import importlib

            module, _, name = str(target).partition(":")
            cls = getattr(importlib.import_module(module), name)
            if not (isinstance(cls, type) and issubclass(cls, AuthBase)):
                raise ConfigError(f"authentication class {target} is not a requests.auth.AuthBase")
            return cls(**{k: v for k, v in params.items() if k != "class"})
        raise ConfigError(
            f"unknown authentication type '{kind}'",
            fields=["authentication.type"],
            hint=f"use one of {', '.join(AuthBuilder.TYPES)}",
        )
