"""{{ cookiecutter.__display_name }}: a streaming source that reads changes after a checkpoint.

Start here: ``read_stream()`` yields the records of a stream changed after ``checkpoint`` (None: from the
start); the runner saves a checkpoint after each batch (``checkpoint_for`` says what it holds) and then
calls ``commit()`` so you can acknowledge it upstream. The session (``self.session``) already retries,
honours Retry-After, authenticates and refuses hosts outside ``allowed_hosts``; use it for every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any{% if cookiecutter.auth != "none" %}, Literal{% endif %}

from cdk import {{ cookiecutter.__paginator_class }}, SourceConfig, SourceRecord, StreamingSource
from pydantic import {% if cookiecutter.auth != "none" %}BaseModel, ConfigDict, {% endif %}Field

STREAMS = ["users"]
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


class {{ cookiecutter.__config_class }}(SourceConfig):
    """What a user fills in (schemas/config.json describes the same fields for editors and validation)."""

    api_url: str = Field({{ cookiecutter.base_url | tojson }}, description="Base URL of the API")
    page_size: int = Field(100, ge=1, le=10000, description="Records per request")
{%- if cookiecutter.auth != "none" %}
    authentication: Authentication = Field(description="How to authenticate")  # type: ignore[assignment]
{%- endif %}


class {{ cookiecutter.__class }}(StreamingSource):
    """Streams changes from the {{ cookiecutter.__display_name }} API."""

    config: {{ cookiecutter.__config_class }}

    @staticmethod
    def streams() -> list[str]:
        return list(STREAMS)

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return {{ cookiecutter.__config_class }}

    def check_connection(self) -> tuple[bool, str | None]:
        try:
            response = self.session.get(f"{self.config.api_url}/health")
        except Exception as exc:  # a refused host, a timeout, bad credentials: say why
            return False, str(exc)
        if response.ok:
            return True, None
        return False, f"GET /health answered {response.status_code}"

    def _paginator(self) -> {{ cookiecutter.__paginator_class }}:
{%- if cookiecutter.pagination == "offset" %}
        return OffsetPaginator(limit=self.config.page_size)
{%- elif cookiecutter.pagination == "page" %}
        return PagePaginator(per_page=self.config.page_size, total_pages_path="total_pages")
{%- elif cookiecutter.pagination == "cursor" %}
        return CursorPaginator("next_cursor", limit=self.config.page_size)
{%- elif cookiecutter.pagination == "next_url" %}
        return NextUrlPaginator("next", first_params={"limit": self.config.page_size})
{%- elif cookiecutter.pagination == "link" %}
        return LinkHeaderPaginator(first_params={"limit": self.config.page_size})
{%- endif %}

    def read_stream(self, stream: str, checkpoint: dict[str, Any] | None) -> Iterator[SourceRecord]:
        params: dict[str, Any] = {}
        if checkpoint and checkpoint.get("last_timestamp"):
            params["updated_since"] = checkpoint["last_timestamp"]
        paginator = self._paginator()
        pagination: dict[str, Any] | None = None
        while True:
            url, query = paginator.request(f"{self.config.api_url}/{stream}", pagination)
            if "url" not in (pagination or {}):  # a next-page URL already carries every parameter
                query.update(params)
            response = self.session.get(url, params=query)
            items = response.json()["items"]
            for item in items:
                changed = datetime.fromisoformat(item["updated_at"].replace("Z", "+00:00"))
                yield SourceRecord(id=str(item["id"]), data=item, timestamp=changed)
            pagination = paginator.next(pagination, response, items)
            if not pagination:
                return

    def checkpoint_for(self, record: SourceRecord) -> dict[str, Any]:
        """Resume right after this record: the API filters on updated_since (UTC, second precision)."""
        assert record.timestamp is not None
        return {"last_id": record.id, "last_timestamp": record.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def commit(self, checkpoint: dict[str, Any]) -> None:
        """Acknowledge upstream that everything up to ``checkpoint`` is safely stored.

        A REST API that filters by time needs no acknowledgement; a queue or log would commit its offset here.
        """
        self.committed = dict(checkpoint)
