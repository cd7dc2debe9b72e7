"""{{ cookiecutter.__display_name }}: reads each stream page by page from the API.

Start here: ``streams()`` names what the API offers, ``get()`` fetches one page and says how to fetch
the next one{% if cookiecutter.__incremental == "yes" %}, ``get_records_after()`` fetches only what changed since the last run{% endif %}.
The session (``self.session``) already retries, honours Retry-After, authenticates and refuses hosts
outside ``allowed_hosts``; use it for every request.
"""

from __future__ import annotations
{% if cookiecutter.auth != "none" %}
from typing import Literal
{% endif %}
from cdk import (
    AbstractSource,
    {{ cookiecutter.__paginator_class }},
    SourceConfig,
{%- if cookiecutter.__incremental == "yes" %}
    SourceIncrementalState,
{%- endif %}
    SourceIteration,
    SourceRecord,
)
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
    page_size: int = Field(100, ge=1, le=10000, description="Records per page")
{%- if cookiecutter.auth != "none" %}
    authentication: Authentication = Field(description="How to authenticate")  # type: ignore[assignment]
{%- endif %}


class {{ cookiecutter.__class }}(AbstractSource):
    """Reads the streams of the {{ cookiecutter.__display_name }} API."""

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

    def _page(self, pagination: dict | None, params: dict) -> SourceIteration:
        paginator = self._paginator()
        url, query = paginator.request(f"{self.config.api_url}/{self.config.stream}", pagination)
        if "url" not in (pagination or {}):  # a next-page URL already carries every parameter
            query.update(params)
        response = self.session.get(url, params=query)
        items = response.json()["items"]
        records = [SourceRecord(id=str(item["id"]), data=item) for item in items]
        return SourceIteration(records=records, next_pagination=paginator.next(pagination, response, items))

    def get(self, pagination: dict | None = None) -> SourceIteration:
        return self._page(pagination, {})
{%- if cookiecutter.__incremental == "yes" %}

    def get_records_after(
        self, source_state: SourceIncrementalState, pagination: dict | None = None
    ) -> SourceIteration:
        since = source_state.last_run.strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._page(pagination, {"updated_since": since})
{%- endif %}
