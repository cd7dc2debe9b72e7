"""Retries never duplicate a write, and the token refresh goes through the guarded session (issue 14 items 1-2)."""

from __future__ import annotations

import socket
import threading

import pytest

from cdk.errors import EgressDeniedError, RequestTimeoutError, TransientError
from cdk.sdk.config import SourceConfig
from cdk.sdk.http import ConnectorSession, RetryPolicy, VirtualClock
from cdk.sdk.records import SourceIteration
from cdk.sdk.source import AbstractSource


def session(**kw):
    return ConnectorSession(allowed_hosts=["127.0.0.1"], clock=VirtualClock(), **kw)


def posts(demo_api, path="/ingest/users"):
    return [r for r in demo_api.requests if r["method"] == "POST" and r["path"] == path]


def test_post_answered_503_is_delivered_once_and_raises(demo_api):
    demo_api.script("/ingest/users", {"status": 503}, {"status": 503})
    with pytest.raises(TransientError) as info:
        session().post(f"{demo_api.url}/ingest/users", json=[{"id": 1}])
    assert len(posts(demo_api)) == 1
    assert "not retried" in info.value.message and "POST" in info.value.message
    assert "Idempotency-Key" in (info.value.hint or "")


def test_post_with_per_request_opt_in_is_retried(demo_api):
    demo_api.script("/ingest/users", {"status": 503}, {"status": 503})
    response = session().post(f"{demo_api.url}/ingest/users", json=[{"id": 1}], retry=True)
    assert response.ok and len(posts(demo_api)) == 3
    assert demo_api.ingested["users"] == [{"id": 1}]


def test_post_with_session_opt_in_is_retried(demo_api):
    demo_api.script("/ingest/users", {"status": 502})
    assert session(retry_non_idempotent=True).post(f"{demo_api.url}/ingest/users", json=[{"id": 1}]).ok
    assert len(posts(demo_api)) == 2


def test_post_with_idempotency_key_is_retried(demo_api):
    demo_api.script("/ingest/users", {"status": 500})
    s = session()
    assert s.post(f"{demo_api.url}/ingest/users", json=[{"id": 1}], headers={"Idempotency-Key": "b-1"}).ok
    assert len(posts(demo_api)) == 2


def test_which_methods_are_retried_by_default():
    import requests

    s = session()

    def retryable(method, **kw):
        return s.retryable(requests.Request(method, "http://127.0.0.1/x", **kw).prepare())

    assert [m for m in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH") if retryable(m)] == [
        "GET",
        "HEAD",
        "OPTIONS",
        "PUT",
        "DELETE",
    ]
    assert retryable("PATCH", headers={"X-Idempotency-Key": "k"})


def test_retry_false_turns_retries_off_for_a_get(demo_api):
    demo_api.script("/users", {"status": 503})
    with pytest.raises(TransientError):
        session().get(f"{demo_api.url}/users", retry=False)
    assert demo_api.count("/users") == 1


def test_post_read_timeout_is_not_resent(demo_api):
    demo_api.script("/ingest/users", {"delay": 1.0})
    s = session(timeout=(2.0, 0.3))
    with pytest.raises(RequestTimeoutError) as info:
        s.post(f"{demo_api.url}/ingest/users", json=[{"id": 1}])
    assert "not retried" in info.value.message
    import time

    time.sleep(1.0)  # let the slow request land
    assert len(posts(demo_api)) == 1


def test_refused_connection_is_retried_even_for_post():
    """Nothing left the machine when the connection was refused, so retrying a POST is safe."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = VirtualClock()
    s = ConnectorSession(allowed_hosts=["127.0.0.1"], clock=clock, retry=RetryPolicy(max_retries=2))
    with pytest.raises(TransientError) as info:
        s.post(f"http://127.0.0.1:{port}/ingest", json={})
    assert len(clock.sleeps) == 2 and "after 3 attempts" in info.value.message


class _Listener:
    """A TCP listener that counts connections (to prove that no byte was sent to it)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class _Cfg(SourceConfig):
    api_url: str


class _Src(AbstractSource):
    @staticmethod
    def streams():
        return ["users"]

    @staticmethod
    def get_config_class():
        return _Cfg

    def check_connection(self):
        return True, None

    def get(self, pagination=None):
        self.session.get(f"{self.config.api_url}/users")
        return SourceIteration(records=[], next_pagination={})


def test_oauth_token_url_outside_allowed_hosts_is_refused_before_any_byte_leaves(demo_api):
    outside = _Listener()  # "localhost" is not in allowed_hosts, only 127.0.0.1 is
    try:
        config = _Cfg(
            name="x",
            stream="users",
            api_url=demo_api.url,
            authentication={
                "type": "oauth2",
                "params": {
                    "token_url": f"http://localhost:{outside.port}/oauth/token",
                    "client_id": "cid",
                    "client_secret": "the-client-secret",
                    "refresh_token": "refresh-1",
                },
            },
        )
        source = _Src(config, session=session())
        with pytest.raises(EgressDeniedError) as info:
            source.get()
        assert "localhost" in info.value.message
        assert outside.connections == 0
        assert demo_api.count("/users") == 0
    finally:
        outside.close()


def test_oauth_token_refresh_uses_the_connector_session(demo_api):
    demo_api.refresh_token = "refresh-1"
    config = _Cfg(
        name="x",
        stream="users",
        api_url=demo_api.url,
        authentication={
            "type": "oauth2",
            "params": {
                "token_url": f"{demo_api.url}/oauth/token",
                "client_id": "cid",
                "client_secret": "the-client-secret",
                "refresh_token": "refresh-1",
            },
        },
    )
    s = session()
    demo_api.script("/oauth/token", {"status": 503})  # the token request gets the session's timeouts/guard
    source = _Src(config, session=s)
    with pytest.raises(TransientError) as info:
        source.get()
    assert "oauth/token" in info.value.message
    source.get()  # next attempt: token fetched through the session, then the data request
    assert demo_api.count("/oauth/token") == 2 and demo_api.count("/users") == 1
    assert demo_api.requests[-1]["headers"]["Authorization"] == "Bearer access-1"
    # the token and the client secret are masked in the session's messages
    assert s.secrets.mask("Bearer access-1 the-client-secret") == "Bearer REDACTED REDACTED"
