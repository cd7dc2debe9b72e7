"""Which config values are secrets, and every spelling of them that redaction removes."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretStr

from cdk.secrets import PLACEHOLDER, is_secret_name, secret_values
from cdk.testing.redact import Redactor


def config_secrets(config: dict, schema: dict) -> set[str]:
    return {s.value for s in secret_values(config, schema)}


def test_secret_fields_by_schema_marks_pydantic_secretstr_and_names() -> None:
    class Cfg(BaseModel):
        db_dsn: SecretStr
        region: str

    schema = {
        "properties": {
            "pin": {"type": "string", "airbyte_secret": True},
            "passcode": {"type": "string", "format": "password"},
            "nested": {"$ref": "#/$defs/N"},
        },
        "$defs": {"N": {"properties": {"hidden": {"type": "string", "writeOnly": True}}}},
    }
    config = {
        "pin": "pin-value-1",
        "passcode": "code-value-2",
        "nested": {"hidden": "hid-value-3"},
        "api_key": "key-value-4",
        "region": "eu-west-1",
        "page_size": 100,
        "authentication": {
            "type": "oauth2",
            "params": {
                "client_id": "public-id",
                "client_secret": "cs-value-5",
                "refresh_token": "rt-value-6",
                "token_url": "https://x/oauth/token",
            },
        },
    }
    found = config_secrets(config, schema)
    assert found == {"pin-value-1", "code-value-2", "hid-value-3", "key-value-4", "cs-value-5", "rt-value-6"}
    assert config_secrets({"db_dsn": "postgres://u:pw@h/db", "region": "eu"}, Cfg.model_json_schema()) == {
        "postgres://u:pw@h/db"
    }


def test_names() -> None:
    for name in (
        "password",
        "token",
        "secret",
        "key",
        "api_key",
        "apiKey",
        "client_secret",
        "refresh_token",
        "X-API-Key",
        "Authorization",
        "Set-Cookie",
        "access_token",
    ):
        assert is_secret_name(name), name
    for name in ("primary_key", "token_type", "next_page_token", "token_url", "page_size", "name", "monkey"):
        assert not is_secret_name(name), name


def test_every_encoded_form_is_replaced() -> None:
    secret = "p@ss w/rd+=&?"
    r = Redactor({secret})
    b64_in_basic = base64.b64encode(f"alice:{secret}".encode()).decode()
    text = " | ".join(
        [
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            json.dumps(secret),
            base64.b64encode(secret.encode()).decode(),
            base64.urlsafe_b64encode(secret.encode()).decode(),
            b64_in_basic,
        ]
    )
    cleaned = r.text(text)
    assert r.scan(cleaned) == []
    for form in (
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
    ):
        assert form not in cleaned
    assert b64_in_basic not in cleaned


def test_urls_headers_and_bodies() -> None:
    r = Redactor({"sk_live_abcdef"})
    assert (
        r.url("https://h/p/sk_live_abcdef/x?access_token=zzz&page=2")
        == f"https://h/p/{PLACEHOLDER}/x?access_token={PLACEHOLDER}&page=2"
    )
    headers = r.headers(
        {"Authorization": ["Bearer q"], "Cookie": ["s=1"], "X-Trace": ["sk_live_abcdef"], "Accept": ["*/*"]}
    )
    assert headers == {
        "Authorization": [PLACEHOLDER],
        "Cookie": [PLACEHOLDER],
        "X-Trace": [PLACEHOLDER],
        "Accept": ["*/*"],
    }
    body = r.json_value(
        {"access_token": "fresh-token-9", "items": [{"key": "PROJ-1", "note": "sk_live_abcdef"}]},
        response=True,
    )
    # a token handed out by the API is replaced and learned; a record's plain "key" is data, kept
    assert body == {"access_token": PLACEHOLDER, "items": [{"key": "PROJ-1", "note": PLACEHOLDER}]}
    assert r.text("Bearer fresh-token-9") == f"Bearer {PLACEHOLDER}"


def test_password_in_url_userinfo_is_replaced_even_when_unknown() -> None:
    assert (
        Redactor().url("https://alice:pw-xyz@h.example/p?q=1")
        == f"https://alice:{PLACEHOLDER}@h.example/p?q=1"
    )
