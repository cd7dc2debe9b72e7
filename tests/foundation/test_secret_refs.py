"""Secret references resolved at run time — env (CDK_ENV_/BIZON_ENV_), file:, vault: — and never written.

No HashiCorp Vault binary is packaged for this machine (Debian has no `vault`; PyPI's hvac is a client),
so Vault is a local HTTP server speaking the documented KV v2 read API: `GET /v1/<mount>/data/<path>` with
`X-Vault-Token`, answering `{"data": {"data": {...}, "metadata": {...}}}`, 403 for a bad token, 404 for
an unknown path.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cdk.errors import ConfigError, OutsideError
from cdk.secret_refs import VaultResolver, register_resolver, resolve_config
from cdk.secrets import spellings
from cdk.testing.redact import recording_secrets
from tests.conftest import jsonl, run_cdk

VAULT_TOKEN = "hvs.test-root-token"
API_KEY = "vault-held-key-7f3a9c"


class KV2Server:
    def __init__(self, secrets: dict[str, dict[str, Any]]) -> None:
        self.secrets = secrets  # "mount/path" -> data
        self.reads: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.reads.append(self.path)
                if self.headers.get("X-Vault-Token") != VAULT_TOKEN:
                    return self._send(403, {"errors": ["permission denied"]})
                parts = self.path.split("/", 4)  # '', 'v1', mount, 'data', path
                key = f"{parts[2]}/{parts[4]}" if len(parts) == 5 and parts[3] == "data" else ""
                if key not in server.secrets:
                    return self._send(404, {"errors": []})
                meta = {"version": 1, "created_time": "2026-01-01T00:00:00Z", "destroyed": False}
                return self._send(200, {"data": {"data": server.secrets[key], "metadata": meta}})

            def _send(self, status: int, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def vault():
    server = KV2Server({"secret/acme": {"api_key": API_KEY, "other": "x"}})
    yield server
    server.close()


def test_vault_reference_resolved_from_kv2(vault):
    resolver = VaultResolver(vault.url, VAULT_TOKEN)
    previous = register_resolver(resolver)
    try:
        data, found = resolve_config({"authentication": {"params": {"token": "vault:secret/acme#api_key"}}})
        assert data == {"authentication": {"params": {"token": API_KEY}}}
        assert found == [("authentication.params.token", API_KEY)]
        resolve_config({"a": "vault:secret/acme#api_key", "b": "vault:secret/acme#other"})
        assert vault.reads == ["/v1/secret/data/acme"]  # one read per path, cached
        with pytest.raises(ConfigError) as missing_key:
            resolve_config({"t": "vault:secret/acme#nope"})
        assert (
            "config field 't'" in missing_key.value.message and "api_key, other" in missing_key.value.message
        )
        with pytest.raises(ConfigError) as missing_path:
            resolve_config({"t": "vault:secret/absent#k"})
        assert "404" in missing_path.value.message
        # the recorder and the scans resolve through the same registry
        assert API_KEY in {s.value for s in recording_secrets({"api_key": "vault:secret/acme#api_key"}, [])}
    finally:
        register_resolver(previous)  # type: ignore[arg-type]


def test_bad_vault_token_is_an_outside_failure(vault):
    with pytest.raises(OutsideError) as info:
        VaultResolver(vault.url, "wrong").resolve("vault:secret/acme#api_key")
    assert "403" in info.value.message and "VAULT_TOKEN" in (info.value.hint or "")


def _source(connector_copy, demo_api, write_config, token_ref: str, **extra: Any):
    demo_api.api_key = API_KEY
    folder = connector_copy("demo_source")
    cfg = write_config(
        {
            "api_url": demo_api.url,
            "authentication": {"type": "bearer", "params": {"token": token_ref}},
            **extra,
        }
    )
    return folder, cfg


def _assert_nowhere(value: str, *texts: str) -> None:
    for text in texts:
        for form in spellings(value):
            assert form not in text


def test_cdk_read_with_vault_reference_never_writes_the_value(
    vault, demo_api, connector_copy, write_config, tmp_path
):
    folder, cfg = _source(connector_copy, demo_api, write_config, "vault:secret/acme#api_key")
    state = tmp_path / "state.json"
    demo_api.script("/users", {"status": 503})  # a retry warning in the log
    env = {"VAULT_ADDR": vault.url, "VAULT_TOKEN": VAULT_TOKEN}
    result = run_cdk(
        "--debug", "read", "-s", "users", "--config", str(cfg), "--state", str(state), cwd=folder, env=env
    )
    assert result.returncode == 0, result.stderr.decode()
    assert len(jsonl(result.stdout)) == 100
    assert demo_api.requests[-1]["headers"]["Authorization"] == f"Bearer {API_KEY}"
    _assert_nowhere(API_KEY, result.stderr.decode(), state.read_text(), cfg.read_text())
    unset = run_cdk(
        "read",
        "-s",
        "users",
        "--config",
        str(cfg),
        cwd=folder,
        env={"VAULT_ADDR": vault.url, "VAULT_TOKEN": ""},
    )
    assert unset.returncode == 1 and b"VAULT_TOKEN is not set" in unset.stderr


def test_file_and_bizon_env_references(demo_api, connector_copy, write_config, tmp_path):
    (tmp_path / "token.txt").write_text(API_KEY + "\n")  # a mounted secret, trailing newline
    folder, cfg = _source(connector_copy, demo_api, write_config, "file:token.txt")  # relative to the config
    result = run_cdk("read", "-s", "users", "--config", str(cfg), cwd=folder)
    assert result.returncode == 0, result.stderr.decode()
    assert len(jsonl(result.stdout)) == 100
    cfg2 = write_config(
        {
            "api_url": demo_api.url,
            "authentication": {"type": "bearer", "params": {"token": "BIZON_ENV_API_TOKEN"}},
        },
        "bizon.json",
    )
    ok = run_cdk("read", "-s", "users", "--config", str(cfg2), cwd=folder, env={"API_TOKEN": API_KEY})
    assert ok.returncode == 0 and len(jsonl(ok.stdout)) == 100
    unset = run_cdk("read", "-s", "users", "--config", str(cfg2), cwd=folder)
    assert unset.returncode == 1
    assert b"authentication.params.token" in unset.stderr and b"API_TOKEN is not set" in unset.stderr
