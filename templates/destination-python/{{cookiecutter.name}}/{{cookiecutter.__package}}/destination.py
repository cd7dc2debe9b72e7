"""{{ cookiecutter.__display_name }}: loads record batches into the API.

Start here: ``write()`` receives one batch of records of a stream and sends it; ``finalize()`` runs once
after the last batch. The session (``self.session``) already retries, honours Retry-After, authenticates
and refuses hosts outside ``allowed_hosts``; use it for every request.
"""

from __future__ import annotations
{% if cookiecutter.auth != "none" %}
from typing import Literal
{% endif %}
from cdk import AbstractDestination, DestinationConfig, SourceRecord, WriteResult
from pydantic import {% if cookiecutter.auth != "none" %}BaseModel, ConfigDict, {% endif %}Field

{%- if cookiecutter.auth != "none" %}


class Credentials(BaseModel):
    """The params of the '{{ cookiecutter.auth }}' authentication; cdk.AuthBuilder turns them into an authenticator."""

    model_config = ConfigDict(extra="forbid")
{% if cookiecutter.auth == "api_key" %}
    api_key: str = Field(description="API key", json_schema_extra={"writeOnly": True})
    header: str = Field("X-API-Key", description="Header that carries the key")
{%- elif cookiecutter.auth == "bearer" %}
    token: str = Field(description="Bearer token", json_schema_extra={"writeOnly": True})
{%- elif cookiecutter.auth == "basic" %}
    username: str = Field(description="User name")
    password: str = Field(description="Password", json_schema_extra={"writeOnly": True})
{%- elif cookiecutter.auth == "oauth2" %}
    token_url: str = Field({{ (cookiecutter.base_url ~ "/oauth/token") | tojson }}, description="OAuth2 token endpoint")
    client_id: str = Field(description="OAuth2 client id")
    client_secret: str = Field(description="OAuth2 client secret", json_schema_extra={"writeOnly": True})
    refresh_token: str = Field(description="OAuth2 refresh token", json_schema_extra={"writeOnly": True})
{%- endif %}


class Authentication(BaseModel):
    """``authentication`` in the config: the method and its params."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["{{ cookiecutter.auth }}"] = Field("{{ cookiecutter.auth }}", description="Authentication method")
    params: Credentials = Field(description="Credentials")
{%- endif %}


class {{ cookiecutter.__config_class }}(DestinationConfig):
    """What a user fills in (schemas/config.json describes the same fields for editors and validation)."""

    api_url: str = Field({{ cookiecutter.base_url | tojson }}, description="Base URL of the API")
{%- if cookiecutter.auth != "none" %}
    authentication: Authentication = Field(description="How to authenticate")  # type: ignore[assignment]
{%- endif %}


class {{ cookiecutter.__class }}(AbstractDestination):
    """Writes records to the {{ cookiecutter.__display_name }} API."""

    config: {{ cookiecutter.__config_class }}

    @staticmethod
    def get_config_class() -> type[DestinationConfig]:
        return {{ cookiecutter.__config_class }}

    def check_connection(self) -> tuple[bool, str | None]:
        try:
            response = self.session.get(f"{self.config.api_url}/health")
        except Exception as exc:  # a refused host, a timeout, bad credentials: say why
            return False, str(exc)
        if response.ok:
            return True, None
        return False, f"GET /health answered {response.status_code}"

    def write(self, stream: str, records: list[SourceRecord]) -> WriteResult:
        rows = [record.data for record in records]
        response = self.session.post(f"{self.config.api_url}/ingest/{stream}", json=rows)
        if not response.ok:
            reason = f"POST /ingest/{stream} answered {response.status_code}"
            return WriteResult(written=0, failed=len(rows), errors=[reason])
        return WriteResult(written=int(response.json().get("written", len(rows))))
