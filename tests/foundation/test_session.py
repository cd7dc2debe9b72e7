"""The session every connector uses: retries, Retry-After, egress guard, rate limit, auth — against a real server."""

from __future__ import annotations

import email.utils

import pytest
import requests

from cdk.errors import (
    AuthenticationError,
    EgressDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    TransientError,
)
from cdk.sdk.auth import AuthBuilder, OAuth2RefreshAuth
from cdk.sdk.http import ConnectorSession, RetryPolicy, VirtualClock, host_allowed, parse_retry_after


def session(clock=None, **kw):
    return ConnectorSession(
        allowed_hosts=["127.0.0.1"], clock=clock or VirtualClock(start=1_700_000_000), **kw
    )


def test_429_retry_after_seconds_is_waited_exactly(demo_api):
    demo_api.script("/users", {"status": 429, "headers": {"Retry-After": "7"}})
    clock = VirtualClock()
    response = session(clock).get(f"{demo_api.url}/users", params={"limit": 5})
    assert response.status_code == 200 and len(response.json()["items"]) == 5
    assert clock.sleeps == [7.0]
    assert demo_api.count("/users") == 2


def test_429_retry_after_http_date(demo_api):
    clock = VirtualClock(start=1_700_000_000)
    when = email.utils.formatdate(1_700_000_000 + 12, usegmt=True)
    demo_api.script("/users", {"status": 429, "headers": {"Retry-After": when}})
    session(clock).get(f"{demo_api.url}/users")
    assert clock.sleeps == [12.0]


def test_retry_after_is_capped(demo_api):
    clock = VirtualClock()
    demo_api.script("/users", {"status": 503, "headers": {"Retry-After": "86400"}})
    session(clock, retry=RetryPolicy(retry_after_max=30)).get(f"{demo_api.url}/users")
    assert clock.sleeps == [30.0]


def test_500_twice_then_success_backs_off_exponentially(demo_api):
    clock = VirtualClock()
    demo_api.script("/users", {"status": 500}, {"status": 500})
    response = session(clock, retry=RetryPolicy(backoff_base=1.0, jitter=False)).get(f"{demo_api.url}/users")
    assert response.ok
    assert clock.sleeps == [1.0, 2.0]


def test_jitter_stays_within_the_backoff_window():
    policy = RetryPolicy(backoff_base=1.0, backoff_max=10)
    for attempt in range(8):
        wait = policy.backoff(attempt)
        ceiling = min(10, 2**attempt)
        assert ceiling / 2 <= wait <= ceiling


def test_endless_500_gives_up_after_budget(demo_api):
    clock = VirtualClock()
    demo_api.script("/users", *[{"status": 500}] * 10)
    with pytest.raises(TransientError) as info:
        session(clock, retry=RetryPolicy(max_retries=3)).get(f"{demo_api.url}/users")
    assert "500" in str(info.value) and "3 retries" in str(info.value)
    assert len(clock.sleeps) == 3 and demo_api.count("/users") == 4


def test_endless_429_is_rate_limited_error(demo_api):
    demo_api.script("/users", *[{"status": 429, "headers": {"Retry-After": "1"}}] * 10)
    with pytest.raises(RateLimitedError):
        session(retry=RetryPolicy(max_retries=2)).get(f"{demo_api.url}/users")


def test_timeout_is_retried_then_clear_error(demo_api):
    demo_api.script("/users", {"delay": 0.5}, {"delay": 0.5})
    with pytest.raises(RequestTimeoutError) as info:
        session(retry=RetryPolicy(max_retries=1), timeout=0.1).get(f"{demo_api.url}/users")
    assert "timed out" in str(info.value)


def test_connection_refused_is_transient_error():
    with pytest.raises(TransientError) as info:
        session(retry=RetryPolicy(max_retries=1)).get("http://127.0.0.1:9/x")
    assert "cannot connect" in str(info.value)


def test_egress_guard_refuses_other_hosts_and_redirects(demo_api):
    s = ConnectorSession(allowed_hosts=["localhost"], clock=VirtualClock())
    with pytest.raises(EgressDeniedError) as info:
        s.get(f"{demo_api.url}/users")
    assert "127.0.0.1" in str(info.value)
    # a redirect to a host outside the list is refused too
    demo_api.script("/users", {"status": 302, "headers": {"Location": "http://evil.example/steal"}})
    with pytest.raises(EgressDeniedError):
        session().get(f"{demo_api.url}/users")


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("api.notion.com", ["api.notion.com"], True),
        ("API.Notion.com", ["api.notion.com"], True),
        ("x.notion.so", ["*.notion.so"], True),
        ("notion.so", ["*.notion.so"], False),
        ("evilnotion.so", ["*.notion.so"], False),
        ("api.notion.com.evil.io", ["api.notion.com"], False),
    ],
)
def test_host_matching(host, allowed, ok):
    assert host_allowed(host, allowed) is ok


def test_rate_limit_spaces_requests(demo_api):
    clock = VirtualClock()
    s = session(clock, delay_request_ms=250)
    for _ in range(3):
        s.get(f"{demo_api.url}/health")
    assert clock.sleeps == [0.25, 0.25]


def test_401_raises_authentication_error(demo_api):
    demo_api.api_key = "right"
    s = session()
    s.auth = AuthBuilder.from_config({"type": "bearer", "params": {"token": "wrong"}})
    with pytest.raises(AuthenticationError) as info:
        s.get(f"{demo_api.url}/users")
    assert "401" in str(info.value)
    s.auth = AuthBuilder.from_config({"type": "bearer", "params": {"token": "right"}})
    assert s.get(f"{demo_api.url}/users").ok


@pytest.mark.parametrize(
    "auth",
    [
        {"type": "api_key", "params": {"token": "k1"}},
        {"type": "api_key", "params": {"api_key": "k1", "location": "query", "param_name": "api_key"}},
        {"type": "bearer", "params": {"token": "k1"}},
    ],
)
def test_api_key_and_bearer_variants(demo_api, auth):
    demo_api.api_key = "k1"
    s = session()
    s.auth = AuthBuilder.from_config(auth)
    assert s.get(f"{demo_api.url}/users").ok


def test_basic_auth_header(demo_api):
    s = session()
    s.auth = AuthBuilder.from_config({"type": "basic", "params": {"username": "u", "password": "p"}})
    s.get(f"{demo_api.url}/health")
    assert demo_api.requests[-1]["headers"]["Authorization"] == "Basic dTpw"


def test_oauth2_token_cached_refreshed_before_expiry_and_on_401(demo_api):
    demo_api.refresh_token = "refresh-1"
    now = [1000.0]
    auth = OAuth2RefreshAuth(
        f"{demo_api.url}/oauth/token", "cid", "csecret", "refresh-1", clock=lambda: now[0]
    )
    s = session()
    s.auth = auth
    s.get(f"{demo_api.url}/users")
    s.get(f"{demo_api.url}/users")
    assert auth.refresh_count == 1  # cached
    now[0] += 3600 - 30  # inside the leeway before expiry
    s.get(f"{demo_api.url}/users")
    assert auth.refresh_count == 2
    demo_api.api_key = "rotated-by-server"  # the server revokes the token: one 401, refresh, resend
    demo_api.script("/users", {"status": 401})
    assert s.get(f"{demo_api.url}/users").ok
    assert auth.refresh_count == 3


def test_custom_authbase_passes_through():
    class Signer(requests.auth.AuthBase):
        def __call__(self, r):
            r.headers["X-Sig"] = "1"
            return r

    signer = Signer()
    assert AuthBuilder.from_config(signer) is signer


def test_unknown_auth_type_is_config_error():
    from cdk.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        AuthBuilder.from_config({"type": "kerberos"})
    assert "kerberos" in str(info.value)


def test_parse_retry_after_garbage_is_none():
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after("3", now=0) == 3.0
