"""Secret-looking field names are secret by name alone, nested or not, whether or not a schema marks
them (issue 19 item 14): the one vocabulary (cdk.secrets) that recording, scanning and masking share."""

from __future__ import annotations

import pytest

from cdk.secrets import is_secret_field, is_secret_name, secret_values

NESTED = {
    "authentication": {
        "type": "oauth2",
        "params": {"client_id": "cid-visible", "client_secret": "cs-7f3a9e", "refresh_token": "rt-5c2b8d"},
    },
    "tls": {"key_file": "/k.pem", "passphrase": "pp-1d4e6f"},
    "headers": {"x_api_key": "xk-9b8a7c", "X-Api-Key": "xk-hyphen-42", "accept": "application/json"},
    "database": {"password": "pw-3e2d1c", "user": "ann"},
    "page_size": 100,
}


@pytest.mark.parametrize(
    "path",
    [
        "authentication.params.client_secret",
        "tls.passphrase",
        "headers.x_api_key",
        "headers.X-Api-Key",
        "database.password",
        "authentication.params.refresh_token",
    ],
)
def test_nested_secret_looking_names_are_secret_without_a_schema(path):
    assert is_secret_field(path)


@pytest.mark.parametrize(
    "name", ["client_id", "accept", "page_size", "user", "type", "key_file", "secretary"]
)
def test_ordinary_names_are_not(name):
    assert not is_secret_name(name)


def test_secret_values_of_a_nested_config_with_no_schema():
    values = {s.value for s in secret_values(NESTED)}
    assert values == {"cs-7f3a9e", "rt-5c2b8d", "pp-1d4e6f", "xk-9b8a7c", "xk-hyphen-42", "pw-3e2d1c"}
