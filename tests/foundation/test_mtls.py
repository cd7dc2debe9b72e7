"""mTLS against a real local TLS server that requires a client certificate (certificates generated here)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cdk.errors import TransientError
from cdk.sdk.auth import AuthBuilder, MutualTLSAuth
from cdk.sdk.http import ConnectorSession, VirtualClock
from cdk.testing import demo_api as demo
from tests.conftest import jsonl, run_cdk


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, issuer, key, issuer_key, *, ca=False, server=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(obj) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("test-ca", "test-ca", ca_key, ca_key, ca=True)
    other_ca = _cert("other-ca", "other-ca", other_key, other_key, ca=True)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    files = {
        "ca": _pem(ca),
        "other_ca": _pem(other_ca),
        "server": _pem(_cert("127.0.0.1", "test-ca", server_key, ca_key, server=True)),
        "server_key": _pem(server_key),
        "client": _pem(_cert("connector", "test-ca", client_key, ca_key)),
        "client_key": _pem(client_key),
    }
    out = {}
    for name, data in files.items():
        (d / f"{name}.pem").write_bytes(data)
        out[name] = d / f"{name}.pem"
    return out


@pytest.fixture
def tls_api(pki):
    """The demo API behind TLS that requires a client certificate signed by the test CA."""
    api = demo.DemoAPI(100)

    class Handler(demo._Handler):
        demo = api

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server"], pki["server_key"])
    ctx.load_verify_locations(pki["ca"])
    ctx.verify_mode = ssl.CERT_REQUIRED
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    api.https_url = f"https://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    yield api
    httpd.shutdown()
    httpd.server_close()


def _session(auth) -> ConnectorSession:
    s = ConnectorSession(allowed_hosts=["127.0.0.1"], clock=VirtualClock())
    s.auth = auth
    auth.bind_session(s)
    return s


def test_client_certificate_from_files_and_pem_text(tls_api, pki):
    s = _session(MutualTLSAuth(str(pki["client"]), str(pki["client_key"]), str(pki["ca"])))
    assert s.get(f"{tls_api.https_url}/users", params={"limit": 3}).json()["total"] == 100
    # PEM text, as a vault:/CDK_ENV_ reference resolves to, works the same
    s2 = _session(
        MutualTLSAuth(pki["client"].read_text(), pki["client_key"].read_text(), pki["ca"].read_text())
    )
    assert s2.get(f"{tls_api.https_url}/health").ok


def test_without_client_certificate_the_server_refuses_clearly_and_without_retries(tls_api, pki):
    s = ConnectorSession(allowed_hosts=["127.0.0.1"], clock=VirtualClock())
    s.verify = str(pki["ca"])
    with pytest.raises(TransientError) as info:
        s.get(f"{tls_api.https_url}/users")
    assert info.value.message.startswith("TLS with 127.0.0.1")
    assert s.clock.sleeps == []  # type: ignore[attr-defined]


def test_composed_with_bearer_auth(tls_api, pki):
    tls_api.api_key = "tok-123456"
    auth = AuthBuilder.from_config(
        {
            "type": "mtls",
            "params": {
                "cert": str(pki["client"]),
                "key": str(pki["client_key"]),
                "ca": str(pki["ca"]),
                "auth": {"type": "bearer", "params": {"token": "tok-123456"}},
            },
        }
    )
    s = _session(auth)
    assert s.get(f"{tls_api.https_url}/users").ok
    assert tls_api.requests[-1]["headers"]["Authorization"] == "Bearer tok-123456"


def test_cdk_read_over_mtls_session_verify_wins_over_requests_ca_bundle(
    tls_api, pki, connector_copy, write_config
):
    folder = connector_copy("demo_source")
    cfg = write_config(
        {
            "api_url": tls_api.https_url,
            "authentication": {
                "type": "mtls",
                "params": {"cert": str(pki["client"]), "key": "CDK_ENV_CLIENT_KEY", "ca": str(pki["ca"])},
            },
        }
    )
    env = {"REQUESTS_CA_BUNDLE": str(pki["other_ca"]), "CLIENT_KEY": pki["client_key"].read_text()}
    result = run_cdk("read", "-s", "users", "--config", str(cfg), cwd=folder, env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert len(jsonl(result.stdout)) == 100
    assert "BEGIN PRIVATE KEY" not in result.stderr.decode()
    json.loads(cfg.read_text())  # the config file is untouched (still the reference)
    assert "CDK_ENV_CLIENT_KEY" in cfg.read_text()
