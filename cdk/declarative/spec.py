"""The sourceSpec of the declarative REST source specification as pydantic models, and the loaders of its accepted forms.

Property names are the specification's (camelCase, e.g. ``offSetName``), so a sourceSpec document is accepted as
it is. Three places can hold one:

* ``declarative:`` in connector.yaml::

      declarative:
        spec: {...}            # JSON Schema of the user inputs (else the manifest's config.schema)
        defaults: {...}        # params shared by every stream (deep-merged under each stream's own)
        streams:
          members: {urlParams: ..., contentPath: ..., paginationParams: ..., scheduleParams: ..., schema: ...}

  ``declarative: {sourceSpec: {...}}`` (a sourceSpec JSON document as is) is accepted too: one stream.
* a sourceSpec document: ``{"sourceSpec": {"attributes": {...}, "spec": {...}}}``;
* a whole connection specification (``name``, ``authSpec``, ``sourceSpec``, ...).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeGuard

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from cdk.mappings import deep_merge

PAGINATION_TYPES = ("OFFSET", "POINTER", "CONTINUATION_TOKEN", "PAGE", "LINK", "NONE")
#: where the pagination parameters go: the query (default), a header (the token only), the JSON body
PARAMETER_TYPES = ("QUERYPARAM", "HEADERPARAM", "BODYPARAM")
DEFAULT_MAXIMUM_REQUEST = 10000
PARAM_KEYS = (
    "urlParams",
    "headerParams",
    "bodyParams",
    "contentPath",
    "explodeEntityPath",
    "paginationParams",
    "scheduleParams",
)
#: keys a stream entry may hold besides the params (the custom schema and record identity)
STREAM_EXTRA_KEYS = ("schema", "schemaParams", "primaryKey", "cursorField", "parent")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _as_int(value: Any) -> Any:
    """The specification writes numbers as strings ("100", "850"); accept both."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return value


class UrlParams(_Spec):
    """Where to send the request; ``{domain}`` and ``${param}`` placeholders come from the config."""

    host: str = Field(description="Scheme and host, e.g. https://{domain}.api.mailchimp.com")
    path: str = Field("", description="Resource path, e.g. /3.0/lists/${listId}/members")
    method: Literal["GET", "POST"] = "GET"
    queryParams: dict[str, Any] = Field(default_factory=dict)

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class ContentPath(_Spec):
    """The record array and how each record is flattened."""

    path: str = Field(description="JSONPath of the record array, e.g. $.members")
    skipAttributes: list[str] = Field(default_factory=list)
    keepAttributes: list[str] = Field(default_factory=list)
    overrideWrapperAttribute: str | None = None


class PaginationParams(_Spec):
    """All pagination types in one model; :meth:`missing` names what a type still needs.

    ``LINK`` (an extension: RFC 8288 ``Link: <url>; rel="next"``) and ``parameterType: BODYPARAM`` (the
    pagination parameters in the JSON body of a POST, dotted names nested) are not in the specification;
    they carry what other declarative tools call Link-header pagination and ``inject_into: body_json``.
    """

    type: Literal["OFFSET", "POINTER", "CONTINUATION_TOKEN", "PAGE", "LINK", "NONE"] = "NONE"
    limitName: str | None = None
    limitValue: int | None = Field(None, ge=1)
    offSetName: str | None = Field(None, validation_alias=AliasChoices("offSetName", "offsetName"))
    endConditionName: str | None = None
    endConditionValue: Any = None
    pointerPath: str | None = None
    continuationTokenPath: str | None = None
    parameterType: Literal["QUERYPARAM", "HEADERPARAM", "BODYPARAM"] = "QUERYPARAM"
    parameterName: str | None = None
    delayRequestMillis: int = Field(0, ge=0)
    initialPageIndex: int = 0
    endPageIndex: int | str | None = None
    pageParamName: str | None = None
    maximumRequest: int = Field(DEFAULT_MAXIMUM_REQUEST, ge=1)

    @field_validator("type", "parameterType", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "limitValue",
        "delayRequestMillis",
        "initialPageIndex",
        "maximumRequest",
        "endPageIndex",
        mode="before",
    )
    @classmethod
    def _ints(cls, value: Any) -> Any:
        return _as_int(value)

    REQUIRED: ClassVar[dict[str, tuple[str, ...]]] = {
        "OFFSET": ("limitName", "limitValue", "offSetName"),
        "POINTER": ("pointerPath",),
        "CONTINUATION_TOKEN": ("continuationTokenPath", "parameterName"),
        "PAGE": ("limitName", "limitValue", "pageParamName"),
        "LINK": (),
        "NONE": (),
    }

    def missing(self) -> list[str]:
        """Properties the type requires that are not set (the specification's per-type tables)."""
        out = [name for name in self.REQUIRED[self.type] if getattr(self, name) in (None, "")]
        if (self.endConditionName is None) != (self.endConditionValue is None):
            out.append("endConditionValue" if self.endConditionValue is None else "endConditionName")
        if self.type in ("POINTER", "CONTINUATION_TOKEN", "LINK") and (self.limitName is None) != (
            self.limitValue is None
        ):
            out.append("limitValue" if self.limitValue is None else "limitName")
        return out


class ScheduleParams(_Spec):
    """Start/end parameters of a batch window, or ADVANCE expressions placed at ``{SCHEDULE_QUERY}``."""

    type: Literal["ADVANCE"] | None = None
    scheduleStartParamName: str | None = None
    scheduleEndParamName: str | None = None
    scheduleStartParamFormat: str | None = None
    scheduleEndParamFormat: str | None = None
    paramFormat: str | None = None
    incremental: str | None = None
    backfill: str | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def missing(self) -> list[str]:
        if self.type == "ADVANCE":
            return [n for n in ("paramFormat", "incremental", "backfill") if not getattr(self, n)]
        return []


JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")


class SchemaParams(_Spec):
    """A metadata endpoint whose response lists the stream's fields (cdk extension; docs/declarative.md).

    Modelled on how APIs describe their records: Mailchimp's ``/lists/{id}/merge-fields``
    (``{merge_fields: [{tag, name, type, required}]}``), Salesforce's ``/sobjects/X/describe``
    (``{fields: [{name, label, type, nillable}]}``). One request, through the connector session.
    """

    host: str | None = Field(None, description="default: the stream's urlParams.host")
    path: str = Field(description="e.g. /3.0/lists/${listId}/merge-fields")
    method: Literal["GET", "POST"] = "GET"
    queryParams: dict[str, Any] = Field(default_factory=dict)
    headerParams: dict[str, Any] = Field(default_factory=dict)
    fieldsPath: str = Field(description="JSONPath of the array of field entries, e.g. $.merge_fields")
    nameKey: str = "name"
    typeKey: str = "type"
    descriptionKey: str | None = None
    nullableKey: str | None = Field(
        None, description="entry attribute that is false when null is not allowed"
    )
    target: str | None = Field(
        None, description="dotted record path the fields go under (default: the item, i.e. the wrapper)"
    )
    typeMap: dict[str, str | dict[str, Any]] = Field(
        default_factory=dict, description="API type name -> JSON type name or schema (over the built-in map)"
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("typeMap")
    @classmethod
    def _json_types(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = {k: v for k, v in value.items() if isinstance(v, str) and v not in JSON_TYPES}
        if bad:
            raise ValueError(
                f"typeMap values must be JSON Schema types ({', '.join(JSON_TYPES)}) or schemas: {bad}"
            )
        return value


class ParentParams(_Spec):
    """A child stream's parent: the stream whose records each give one partition of requests.

    ``fields`` maps a placeholder name of the child's requests to a (dotted) field of the parent record,
    so ``fields: {campaignId: id}`` fills ``${campaignId}``; ``${parent.<field>}`` reads a parent field
    directly. The child is read once per parent record (docs/declarative.md, child streams).
    """

    stream: str = Field(min_length=1, description="name of the parent stream (a declarative stream)")
    fields: dict[str, str] = Field(
        default_factory=dict, description="placeholder name -> dotted field of the parent record"
    )


class StreamSpec(_Spec):
    """One stream: the specification's params plus the custom schema."""

    urlParams: UrlParams
    headerParams: dict[str, Any] = Field(default_factory=dict)
    bodyParams: dict[str, Any] | list[Any] | str | None = None
    contentPath: ContentPath
    explodeEntityPath: ContentPath | None = None
    paginationParams: PaginationParams = Field(default_factory=PaginationParams)
    scheduleParams: ScheduleParams | None = None
    schemaParams: SchemaParams | None = None
    schema_: dict[str, Any] | str | None = Field(None, alias="schema", description="custom schema")
    primaryKey: list[str] | None = None
    cursorField: str | None = None
    parent: ParentParams | None = None

    @field_validator("headerParams", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("primaryKey", mode="before")
    @classmethod
    def _one_key(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class DeclarativeSpec(_Spec):
    """The ``declarative:`` mapping after normalisation: named streams and the user-input schema."""

    streams: dict[str, StreamSpec] = Field(min_length=1)
    spec: dict[str, Any] | None = Field(None, description="JSON Schema of the user inputs (config)")
    ui: dict[str, Any] | None = None
    #: only when it is not a mapping (a mapping is merged into the streams and dropped): reported, not used
    defaults: dict[str, Any] | None = None

    @field_validator("spec")
    @classmethod
    def _user_inputs(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """The config class is built from ``properties`` and ``required``: they must have their JSON Schema shapes."""
        if value is None:
            return value
        if "properties" in value and not isinstance(value["properties"], dict):
            raise ValueError("properties must be a mapping of input name -> JSON Schema")
        required = value.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise ValueError("required must be a list of input names")
        return value

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        return normalise_declarative(data) if isinstance(data, dict) else data


# ---------------------------------------------------------------------------------------------
# forms


def _looks_like_schema(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and "properties" in value and ("type" in value or "$schema" in value)


def extract_source_spec(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """From a sourceSpec document, a connection specification or bare params: (params, user spec, ui).

    The specification shows params both under ``sourceSpec.attributes`` (the Mailchimp example) and directly
    under ``sourceSpec``; both are read. JSON Schemas describing the params (the specification's template, under
    ``attributes.spec``) are told apart from user-input schemas and ignored.
    """
    source = doc.get("sourceSpec", doc) if isinstance(doc, dict) else {}
    if not isinstance(source, dict):
        return {}, None, {}
    attributes = source.get("attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    params: dict[str, Any] = {}
    for holder in (source, attributes):
        for key in (*PARAM_KEYS, *STREAM_EXTRA_KEYS):
            if key in holder and not (key != "schema" and _looks_like_schema(holder[key])):
                params.setdefault(key, holder[key])
    user_spec = source.get("spec")
    if not _looks_like_schema(user_spec) or _describes_params(user_spec):
        user_spec = None
    ui = attributes.get("uiAttributes") or source.get("uiAttributes") or {}
    return params, user_spec, ui


def _describes_params(schema: dict[str, Any]) -> bool:
    """True for the specification's template schema (its properties are urlParams, contentPath, ...)."""
    return bool(set(schema.get("properties", {})) & {"urlParams", "contentPath", "paginationParams"})


def normalise_declarative(data: dict[str, Any]) -> dict[str, Any]:
    """Bring every accepted ``declarative:`` form to ``{streams: {name: params}, spec, ui}``."""
    if "streams" not in data and ("sourceSpec" in data or "urlParams" in data):
        params, user_spec, ui = extract_source_spec(data)
        name = data.get("stream") or "records"
        out: dict[str, Any] = {"streams": {name: params}}
        if data.get("spec") is not None and "sourceSpec" not in data:
            user_spec = data["spec"]
        if user_spec is not None:
            out["spec"] = user_spec
        if ui:
            out["ui"] = ui
        return out
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        return data  # the model refuses defaults that are not a mapping, at their key
    streams = data.get("streams")
    if isinstance(streams, dict):
        norm = {}
        for name, params in streams.items():
            if isinstance(params, dict) and "sourceSpec" in params:
                params = extract_source_spec(params)[0]
            norm[name] = deep_merge(defaults, params) if isinstance(params, dict) and defaults else params
        streams = norm
    return {k: v for k, v in {**data, "streams": streams}.items() if k not in ("defaults",)}


def load_declarative(data: Any, *, stream_name: str | None = None) -> DeclarativeSpec:
    """Validate a ``declarative:`` mapping (or a sourceSpec document); raises pydantic ValidationError."""
    if isinstance(data, dict) and stream_name and "streams" not in data:
        data = {**data, "stream": stream_name}
    return DeclarativeSpec.model_validate(data)


__all__ = [
    "ContentPath",
    "DeclarativeSpec",
    "PAGINATION_TYPES",
    "PARAMETER_TYPES",
    "PaginationParams",
    "ParentParams",
    "ScheduleParams",
    "SchemaParams",
    "StreamSpec",
    "UrlParams",
    "deep_merge",
    "extract_source_spec",
    "load_declarative",
    "normalise_declarative",
]
