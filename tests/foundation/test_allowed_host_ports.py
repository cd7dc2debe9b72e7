"""allowed_hosts honours ports when an entry gives one, at run time (the session's egress guard) and in
validate (the egress suite uses the same rule): ``api.example.com:8443`` admits that port only."""

from __future__ import annotations

import ast

import pytest

from cdk.errors import EgressDeniedError
from cdk.sdk.http import ConnectorSession, VirtualClock, host_allowed, url_port
from cdk.validators.egress import check_tree


@pytest.mark.parametrize(
    ("url", "allowed", "ok"),
    [
        ("https://api.example.com/x", ["api.example.com"], True),  # no port in the entry: any port
        ("https://api.example.com:9999/x", ["api.example.com"], True),
        ("https://api.example.com:8443/x", ["api.example.com:8443"], True),
        ("https://api.example.com/x", ["api.example.com:8443"], False),  # 443 is not 8443
        ("https://api.example.com:9443/x", ["api.example.com:8443"], False),
        ("https://api.example.com/x", ["api.example.com:443"], True),  # the scheme's default port
        ("http://api.example.com/x", ["api.example.com:443"], False),  # http goes to 80
        ("https://a.example.com:8443/", ["*.example.com:8443"], True),
        ("https://a.example.com:8444/", ["*.example.com:8443"], False),
        ("http://[::1]:8080/", ["[::1]:8080"], True),
        ("http://[::1]:8081/", ["[::1]:8080"], False),
    ],
)
def test_host_allowed_with_ports(url, allowed, ok):
    from urllib.parse import urlsplit

    assert host_allowed(urlsplit(url).hostname or "", allowed, url_port(url)) is ok


def test_session_refuses_another_port_before_connecting():
    s = ConnectorSession(allowed_hosts=["127.0.0.1:8443"], clock=VirtualClock())
    with pytest.raises(EgressDeniedError) as info:
        s.get("http://127.0.0.1:9/x")  # nothing listens on 9: refused by the guard, not by the network
    assert "'127.0.0.1:9'" in str(info.value)


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ('URL = "https://api.example.com:8443/v1"', False),
        ('URL = "https://api.example.com:9443/v1"', True),
        ('URL = "https://api.example.com/v1"', True),
        ('URL = f"https://api.example.com:9443/{x}"', True),
        ('URL = f"https://api.example.com:8443/{x}"', False),
    ],
)
def test_validate_egress_honours_ports(code, flagged):
    findings = check_tree(ast.parse(code), "source.py", ["api.example.com:8443"])
    assert bool(findings) is flagged, findings
