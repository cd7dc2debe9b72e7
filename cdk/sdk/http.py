"""The HTTP session every connector gets as ``self.session``.

A ``requests.Session`` with what connectors otherwise each hand-write: default timeouts; retries with
exponential backoff and full jitter on connection errors, 429 and 5xx, honouring ``Retry-After`` (seconds
or HTTP-date, capped); an optional rate limit; typed errors (401/403 raise AuthenticationError); and an
egress guard that refuses any host outside the manifest's ``allowed_hosts`` — checked on every request,
redirects included, because redirects go through :meth:`send` too.

Time goes through a :class:`Clock`, so tests replace the sleeper and never really wait. With
``CDK_VIRTUAL_TIME=1`` in the environment, waits are logged and skipped (used by ``cdk test`` replay).
"""

from __future__ import annotations

import logging
import os
import random
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


def default_clock() -> Clock:
    """The real clock, or a virtual one when CDK_VIRTUAL_TIME is set."""
    return VirtualClock() if os.environ.get("CDK_VIRTUAL_TIME") else Clock()


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


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """True when ``host`` matches an entry: exact (case-insensitive) or ``*.example.com`` for subdomains."""
    host = host.lower().rstrip(".")
    for pattern in allowed:
        pattern = pattern.lower()
        if ":" in pattern and not pattern.startswith("["):
            pattern = pattern.rsplit(":", 1)[0]
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
    ) -> None:
        super().__init__()
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

    # -- the guard, the rate limit and the retries all live in send(), which redirects also use ---
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self._check_egress(request.url or "")
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        attempt = 0
        while True:
            self._throttle()
            self.request_count += 1
            try:
                response = super().send(request, **kwargs)
            except requests.Timeout as exc:
                if attempt >= self.retry.max_retries:
                    raise RequestTimeoutError(
                        f"{request.method} {self.safe_url(request.url)} timed out after {attempt + 1} attempts ({exc.__class__.__name__})",
                        hint="the API is slow or down; raise the timeout or try later",
                    ) from exc
                self._wait(
                    self.retry.backoff(attempt), f"timeout on {request.method} {self.safe_url(request.url)}"
                )
                attempt += 1
                continue
            except requests.ConnectionError as exc:
                if attempt >= self.retry.max_retries:
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
                if attempt >= self.retry.max_retries:
                    kind = RateLimitedError if status == 429 else TransientError
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
        if not host_allowed(host, self.allowed_hosts):
            raise EgressDeniedError(
                f"request to host '{host}' refused: it is not in allowed_hosts {self.allowed_hosts}",
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


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if marker in text:
            return marker
    return exc.__class__.__name__
