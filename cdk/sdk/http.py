"""The HTTP session every connector gets as ``self.session``.

A ``requests.Session`` with what connectors otherwise each hand-write: default timeouts; retries with
exponential backoff and full jitter on connection errors, 429 and 5xx, honouring ``Retry-After`` (seconds
or HTTP-date, capped); an optional rate limit; typed errors (401/403 raise AuthenticationError); and an
egress guard that refuses any host outside the manifest's ``allowed_hosts`` — checked on every request,
redirects included, because redirects go through :meth:`send` too.

**Which requests are retried.** Idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) are retried
on connection errors, timeouts, 429 and 5xx. POST and PATCH are retried only when it is safe: the
connector opts in for the whole session (``ConnectorSession(retry_non_idempotent=True)`` or
``session.retry_non_idempotent = True``) or for one request (``session.post(url, json=..., retry=True)``),
or the request carries an idempotency key header (``Idempotency-Key`` / ``X-Idempotency-Key``). Otherwise a
POST answered 429/5xx or timing out after it was sent raises at once (the server may have accepted it);
a connection that could not even be opened is retried for every method, since nothing was sent.
``retry=False`` turns retries off for one request of any method.

**Time** goes through a :class:`Clock`. The seam is three names: :class:`Clock` (``time()``,
``monotonic()``, ``sleep(seconds)``), :class:`VirtualClock` (sleeping only advances virtual time and
records the wait in ``.sleeps``) and :func:`set_default_clock` (``set_default_clock(clock) -> previous``;
``None`` restores the real clock), which sessions created without ``clock=`` use. Only ``cdk test``'s
pytest plugin sets a virtual default clock, in its own process; no environment variable does, so a
production run always really waits.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from cdk.errors import (
    AuthenticationError,
    EgressDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    TransientError,
)
from cdk.secrets import SecretSet

log = logging.getLogger("cdk.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class Clock:
    """Wall time and sleeping, in one replaceable place."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock(Clock):
    """A clock whose sleep only advances virtual time and remembers each wait (tests, replay)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._mono = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        self._now += seconds
        self._mono += seconds
        log.info("virtual wait %.3f s", seconds)


_default_clock: Clock | None = None


def default_clock() -> Clock:
    """The clock of sessions created without ``clock=``: the real one unless :func:`set_default_clock`
    installed another in this process (``cdk test`` replay does)."""
    return _default_clock if _default_clock is not None else Clock()


def set_default_clock(clock: Clock | None) -> Clock | None:
    """Make ``clock`` the default of sessions created from now on in this process (``None``: the real
    clock again). Returns the previous default so that a caller can restore it."""
    global _default_clock
    previous, _default_clock = _default_clock, clock
    return previous


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-Idempotency-Key")


@dataclass
class RetryPolicy:
    """How hard to try: ``max_retries`` extra attempts, backoff ``base * 2**n`` with full jitter."""

    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    retry_after_max: float = 300.0
    statuses: frozenset[int] = RETRY_STATUSES
    jitter: bool = True
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Wait before retry number ``attempt`` (0-based) when the server gave no Retry-After."""
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return self.rng.uniform(ceiling / 2, ceiling) if self.jitter else ceiling


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date. None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}


def split_host_entry(entry: str) -> tuple[str, int | None]:
    """An ``allowed_hosts`` entry as (host, port): ``api.example.com:8443`` -> ("api.example.com", 8443),
    ``[::1]:8080`` -> ("::1", 8080); no port -> None (any port)."""
    entry = entry.strip().lower()
    port = ""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:
        host = entry
    return host.rstrip("."), int(port) if port.isdigit() else None


def url_port(url: str) -> int | None:
    """The port a request to ``url`` goes to: the explicit one, else the scheme's default; None if unknown.

    Raises ValueError for a port that is not a number in 0-65535 (as urllib does)."""
    parts = urlsplit(url)
    return parts.port if parts.port is not None else DEFAULT_PORTS.get(parts.scheme.lower())


def host_allowed(host: str, allowed: Iterable[str], port: int | None = None) -> bool:
    """True when ``host`` (and ``port``) match an entry: the host exact (case-insensitive) or
    ``*.example.com`` for subdomains; an entry with a port (``api.example.com:8443``) admits that port
    only, an entry without one any port. ``port=None`` (unknown) matches only entries without a port."""
    host = host.lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    for entry in allowed:
        pattern, want = split_host_entry(entry)
        if want is not None and want != port:
            continue
        if pattern.startswith("*."):
            if fnmatchcase(host, pattern) and host.count(".") >= pattern.count("."):
                return True
        elif host == pattern:
            return True
    return False


class ConnectorSession(requests.Session):
    """requests.Session with timeouts, retries, rate limiting, typed errors and an egress guard.

    ``allowed_hosts=None`` disables the guard (a session built outside a manifest); the runner always
    passes the manifest's list. ``raise_for_auth`` turns 401/403 into AuthenticationError so that a
    connector cannot mistake an error page for data.
    """

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str] | None = None,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        delay_request_ms: int = 0,
        clock: Clock | None = None,
        raise_for_auth: bool = True,
        on_wait: Callable[[float, str], None] | None = None,
        retry_non_idempotent: bool = False,
    ) -> None:
        super().__init__()
        self.retry_non_idempotent = retry_non_idempotent
        self.trust_env_ca = False  # True: REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a verify set here
        self._per_request = threading.local()
        self.allowed_hosts = list(allowed_hosts) if allowed_hosts is not None else None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.delay_request_ms = delay_request_ms
        self.clock = clock or default_clock()
        self.raise_for_auth = raise_for_auth
        self.on_wait = on_wait
        self.request_count = 0
        self.secrets = SecretSet()  # the config's secrets: masked in every message and warning
        self._last_request: float | None = None
        self.headers["User-Agent"] = (
            f"connector-cdk/{_version()} {self.headers.get('User-Agent', '')}".strip()
        )

    def request(
        self, method: str, url: str | bytes, *args: Any, retry: bool | None = None, **kwargs: Any
    ) -> requests.Response:
        """``requests.Session.request`` plus ``retry``: True retries this request even when it is a POST
        or PATCH, False never retries it, None (default) follows the session's rule."""
        previous = getattr(self._per_request, "retry", None)
        self._per_request.retry = retry
        try:
            return super().request(method, url, *args, **kwargs)
        finally:
            self._per_request.retry = previous

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """requests lets REQUESTS_CA_BUNDLE override the session's ``verify``; here the session's own
        ``verify`` (a CA bundle for mTLS, or False) wins unless ``trust_env_ca`` is set."""
        settings: dict[str, Any] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify is not True and not self.trust_env_ca:
            settings["verify"] = self.verify
        return settings

    def retryable(self, request: requests.PreparedRequest) -> bool:
        """May ``request`` be sent again after it may have reached the server? (See the module doc.)"""
        override = getattr(self._per_request, "retry", None)
        if override is not None:
            return bool(override)
        if (request.method or "GET").upper() in IDEMPOTENT_METHODS or self.retry_non_idempotent:
            return True
        return any(request.headers.get(name) for name in IDEMPOTENCY_HEADERS)

    # -- the guard, the rate limit and the retries all live in send(), which redirects also use ---
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self._check_egress(request.url or "")
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        retryable = self.retryable(request)
        forbidden = getattr(self._per_request, "retry", None) is False
        max_retries = 0 if forbidden else self.retry.max_retries
        attempt = 0
        while True:
            self._throttle()
            self.request_count += 1
            try:
                response = super().send(request, **kwargs)
            except requests.ConnectTimeout as exc:  # never connected: nothing was sent, safe to retry
                if attempt >= max_retries:
                    raise RequestTimeoutError(
                        f"{request.method} {self.safe_url(request.url)}: connecting timed out after {attempt + 1} attempts",
                        hint="the API is slow or down; raise the timeout or try later",
                    ) from exc
                self._wait(
                    self.retry.backoff(attempt),
                    f"connect timeout on {request.method} {self.safe_url(request.url)}",
                )
                attempt += 1
                continue
            except requests.Timeout as exc:
                if not retryable:
                    raise RequestTimeoutError(
                        f"{request.method} {self.safe_url(request.url)} timed out waiting for the answer; "
                        f"not retried: the server may have accepted it and {request.method} is not idempotent",
                        hint="retry it only if the API deduplicates: send an Idempotency-Key header or "
                        "pass retry=True (see cdk.sdk.http)",
                    ) from exc
                if attempt >= max_retries:
                    raise RequestTimeoutError(
                        f"{request.method} {self.safe_url(request.url)} timed out after {attempt + 1} attempts ({exc.__class__.__name__})",
                        hint="the API is slow or down; raise the timeout or try later",
                    ) from exc
                self._wait(
                    self.retry.backoff(attempt), f"timeout on {request.method} {self.safe_url(request.url)}"
                )
                attempt += 1
                continue
            except requests.exceptions.SSLError as exc:  # retrying a refused certificate cannot help
                raise TransientError(
                    f"TLS with {_host(request.url)} failed for {request.method} {self.safe_url(request.url)}: "
                    f"{_tls_reason(exc)}",
                    hint="check the CA bundle (verify / mtls ca) and, for mTLS, the client certificate and key",
                ) from exc
            except requests.ConnectionError as exc:
                if attempt >= max_retries or not (retryable or _never_sent(exc)):
                    raise TransientError(
                        f"cannot connect to {_host(request.url)} for {request.method} {self.safe_url(request.url)} "
                        f"after {attempt + 1} attempts: {_reason(exc)}",
                        hint="check the URL and that the API is reachable",
                    ) from exc
                self._wait(self.retry.backoff(attempt), f"connection error on {self.safe_url(request.url)}")
                attempt += 1
                continue
            status = response.status_code
            if status in self.retry.statuses:
                kind = RateLimitedError if status == 429 else TransientError
                if not retryable:
                    response.close()
                    raise kind(
                        f"{request.method} {self.safe_url(request.url)} answered {status} {response.reason}; "
                        f"not retried: {request.method} is not idempotent and the server may have acted on it",
                        hint="if the API deduplicates, send an Idempotency-Key header or pass retry=True "
                        "(or set session.retry_non_idempotent = True)",
                    )
                if attempt >= max_retries:
                    raise kind(
                        f"{request.method} {self.safe_url(request.url)} answered {status} {response.reason} "
                        f"{attempt + 1} times; gave up after {self.retry.max_retries} retries",
                        hint="the API is rate limiting or failing; try later or lower the request rate (delay_request_ms)",
                    )
                wait = parse_retry_after(response.headers.get("Retry-After"), now=self.clock.time())
                if wait is None:
                    wait = self.retry.backoff(attempt)
                else:
                    wait = min(wait, self.retry.retry_after_max)
                response.close()
                self._wait(wait, f"{status} from {self.safe_url(request.url)}")
                attempt += 1
                continue
            if self.raise_for_auth and status in (401, 403):
                raise AuthenticationError(
                    f"authentication failed: {request.method} {self.safe_url(request.url)} answered {status} {response.reason}",
                    hint="check the credentials in the config (authentication.params)",
                )
            _fast_json(response)
            return response

    def safe_url(self, url: str | None) -> str:
        """The URL for a message: no query string (it may hold an API key), known secrets masked."""
        return self.secrets.mask(_safe_url(url))

    def _check_egress(self, url: str) -> None:
        if self.allowed_hosts is None:
            return
        host = urlsplit(url).hostname or ""
        try:
            port = url_port(url)
        except ValueError:
            port = -1  # not a port: no entry admits it
        if not host_allowed(host, self.allowed_hosts, port):
            shown = (
                host if port in (None, DEFAULT_PORTS.get(urlsplit(url).scheme.lower())) else f"{host}:{port}"
            )
            raise EgressDeniedError(
                f"request to host '{shown}' refused: it is not in allowed_hosts {self.allowed_hosts}",
                hint="add the host to allowed_hosts in connector.yaml if the connector really needs it",
            )

    def _throttle(self) -> None:
        if not self.delay_request_ms:
            return
        now = self.clock.monotonic()
        if self._last_request is not None:
            gap = self.delay_request_ms / 1000 - (now - self._last_request)
            if gap > 0:
                self.clock.sleep(gap)
                now = self.clock.monotonic()
        self._last_request = now

    def _wait(self, seconds: float, why: str) -> None:
        log.warning("%s; retrying in %.1f s", why, seconds)
        if self.on_wait is not None:
            self.on_wait(seconds, why)
        self.clock.sleep(seconds)


def _fast_json(response: requests.Response) -> None:
    """Make ``response.json()`` parse with orjson (about 1.5x faster on large pages); anything orjson
    refuses, or a call with keyword arguments, falls back to requests' own parser and its errors."""
    original = response.json

    def json(**kwargs: Any) -> Any:
        if kwargs:
            return original(**kwargs)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return original()

    # ignored below: the instance's json() is replaced by the orjson one (a per-response monkeypatch)
    response.json = json  # type: ignore[method-assign]


def _version() -> str:
    from cdk._version import __version__

    return __version__


def _host(url: str | None) -> str:
    return urlsplit(url or "").netloc


def _safe_url(url: str | None) -> str:
    """The URL without its query string, which may hold an API key."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")


def _never_sent(exc: BaseException) -> bool:
    """True when a connection error happened before any byte of the request left (refused, DNS, connect
    timeout), so that even a POST may be sent again."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if type(node).__name__ in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError"):
            return True
        reason = getattr(node, "reason", None)
        if isinstance(reason, BaseException):
            node = reason
            continue
        args = getattr(node, "args", ())
        nxt = next((a for a in args if isinstance(a, BaseException)), None)
        node = nxt or node.__cause__ or node.__context__
    return False


def _tls_reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in (
        "CERTIFICATE_VERIFY_FAILED",
        "certificate required",
        "CERTIFICATE_REQUIRED",
        "WRONG_VERSION_NUMBER",
        "bad certificate",
        "unknown ca",
        "EOF occurred in violation of protocol",
    ):
        if marker.lower() in text.lower():
            return marker
    return exc.__class__.__name__


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if marker in text:
            return marker
    return exc.__class__.__name__
