"""Connector configs: pydantic models with the base fields of the Python source guide, plus env-variable references."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "CDK_ENV_"  # alias BIZON_ENV_ (cdk.secret_refs.ENV_PREFIXES)
BASE_SOURCE_FIELDS = (
    "name",
    "stream",
    "sync_mode",
    "authentication",
    "force_ignore_checkpoint",
    "max_iterations",
)
BASE_DESTINATION_FIELDS = ("name", "authentication", "buffer_size")


class SyncMode(str, Enum):
    full_refresh = "full_refresh"
    incremental = "incremental"


class AuthConfig(BaseModel):
    """``authentication:`` of a config: a type and its params (see :class:`cdk.sdk.auth.AuthBuilder`)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="none | api_key | bearer | basic | oauth2 | mtls | custom")
    params: dict[str, Any] = Field(default_factory=dict)


class SourceConfig(BaseModel):
    """Base of every source config. Subclasses add their own fields."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Source identifier")
    stream: str = Field(description="Stream to sync")
    sync_mode: SyncMode = Field(SyncMode.full_refresh, description="full_refresh or incremental")
    authentication: AuthConfig | None = Field(None, description="Auth config")
    force_ignore_checkpoint: bool = Field(False, description="Ignore saved checkpoints and start over")
    max_iterations: int | None = Field(None, ge=1, description="Stop after this many pages")


class DestinationConfig(BaseModel):
    """Base of every destination config."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Destination identifier")
    authentication: AuthConfig | None = None
    buffer_size: int = Field(500, ge=1, description="Records per write() call")


def resolve_env(value: Any, *, path: str = "") -> Any:
    """``value`` with every secret reference resolved (``CDK_ENV_NAME``/``BIZON_ENV_NAME``, ``env:``,
    ``file:``, ``vault:``; see :mod:`cdk.secret_refs`). Raises ConfigError naming the field when one
    cannot be resolved, so a secret never has to be written into a config file."""
    from cdk.secret_refs import resolve_config

    return resolve_config(value, path=path)[0]


def own_fields_schema(config_class: type[BaseModel]) -> dict[str, Any]:
    """JSON Schema of a config class without the runtime base fields (what a user fills in)."""
    schema = config_class.model_json_schema()
    base = set(BASE_SOURCE_FIELDS) | set(BASE_DESTINATION_FIELDS)
    props = schema.get("properties", {})
    for name in list(props):
        if name in base and name != "authentication":
            props.pop(name)
    if "required" in schema:
        schema["required"] = [r for r in schema["required"] if r in props]
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    return schema
