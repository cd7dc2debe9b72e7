"""A declarative stream's schema from the API's own field metadata (``schemaParams``, a cdk extension).

Many APIs describe their records at an endpoint: Mailchimp lists a list's merge fields
(``GET /3.0/lists/{id}/merge-fields`` -> ``{"merge_fields": [{"tag": "FNAME", "type": "text"}, ...]}``),
Salesforce describes an object (``GET /services/data/vXX/sobjects/Account/describe`` ->
``{"fields": [{"name": "Id", "type": "id", "nillable": false}, ...]}``). ``schemaParams`` names that
endpoint, where its field array is (``fieldsPath``), and which attribute of an entry holds the field's
name and API type (``nameKey``, ``typeKey``). The API's type names map to JSON Schema through
:data:`TYPE_MAP` (Mailchimp's and Salesforce's names and the common SQL ones) overridden by the
stream's ``typeMap``; an unknown type becomes a string, with a warning in the log and in the field's
description. Fields are nullable unless ``nullableKey`` names an attribute that is false.

The request goes through the source's session (its auth, retries and ``allowed_hosts`` guard), with the
stream's placeholders filled from the config, the stream's headers and the endpoint's own.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any

from cdk.errors import ConnectorError, InvalidResponseError

if TYPE_CHECKING:
    from cdk.declarative.spec import SchemaParams, StreamSpec

log = logging.getLogger("cdk.declarative")

_STRING: dict[str, Any] = {"type": "string"}
#: API type name (lower case) -> JSON Schema of the value
TYPE_MAP: dict[str, dict[str, Any]] = {
    **dict.fromkeys(
        (
            "string",
            "text",
            "textarea",
            "varchar",
            "char",
            "email",
            "phone",
            "url",
            "imageurl",
            "picklist",
            "multipicklist",
            "combobox",
            "radio",
            "dropdown",
            "reference",
            "id",
            "zip",
            "birthday",
            "encryptedstring",
            "uuid",
        ),
        _STRING,
    ),  # fmt: skip
    **dict.fromkeys(("int", "integer", "long", "short", "bigint", "smallint"), {"type": "integer"}),
    **dict.fromkeys(
        ("number", "double", "float", "decimal", "numeric", "real", "currency", "percent"),
        {"type": "number"},
    ),
    **dict.fromkeys(("boolean", "bool", "checkbox"), {"type": "boolean"}),
    "date": {"type": "string", "format": "date"},
    **dict.fromkeys(("datetime", "date-time", "timestamp"), {"type": "string", "format": "date-time"}),
    "time": {"type": "string", "format": "time"},
    **dict.fromkeys(("address", "location", "object", "map", "json", "struct"), {"type": "object"}),
    **dict.fromkeys(("array", "list"), {"type": "array"}),
    "base64": {"type": "string", "contentEncoding": "base64"},
    "anytype": {},
}


def field_schema(api_type: Any, params: SchemaParams) -> tuple[dict[str, Any], bool]:
    """(JSON Schema of a field of API type ``api_type``, whether the type was known)."""
    if isinstance(api_type, str):
        own = params.typeMap.get(api_type, params.typeMap.get(api_type.lower()))
        if own is not None:
            return ({"type": own} if isinstance(own, str) else copy.deepcopy(own)), True
        known = TYPE_MAP.get(api_type.lower())
        if known is not None:
            return copy.deepcopy(known), True
    return dict(_STRING), False


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "null":
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    return schema


def fields_to_properties(doc: Any, params: SchemaParams, stream: str) -> dict[str, Any]:
    """The properties the metadata response ``doc`` describes (see the module doc)."""
    from cdk.declarative.paths import compile_path

    found = compile_path(params.fieldsPath).all(doc)
    entries = found[0] if len(found) == 1 and isinstance(found[0], list) else found
    if not entries:
        raise InvalidResponseError(
            f"stream '{stream}': the metadata response has no field entries at schemaParams.fieldsPath "
            f"{params.fieldsPath}",
            hint="check fieldsPath against the endpoint's response",
        )
    props: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get(params.nameKey), str):
            raise InvalidResponseError(
                f"stream '{stream}': a metadata entry at {params.fieldsPath} has no string "
                f"'{params.nameKey}' (schemaParams.nameKey): {str(entry)[:200]}"
            )
        name = entry[params.nameKey]
        api_type = entry.get(params.typeKey)
        schema, known = field_schema(api_type, params)
        if params.descriptionKey and isinstance(entry.get(params.descriptionKey), str):
            schema["description"] = entry[params.descriptionKey]
        if not known:
            log.warning(
                "stream '%s': field '%s' has API type %r, which cdk does not know: typed as string "
                "(map it under schemaParams.typeMap)",
                stream,
                name,
                api_type,
            )
            schema["description"] = f"API type {api_type!r} is not known: read as a string"
        if not (params.nullableKey and entry.get(params.nullableKey) is False):
            schema = _nullable(schema)
        if name in props and props[name] != schema:
            # the last entry silently won before: records of the first type then failed the schema
            log.warning(
                "stream '%s': the metadata endpoint lists field '%s' twice, with different types "
                "(%r, then %r): both are admitted",
                stream,
                name,
                props[name].get("type"),
                schema.get("type"),
            )
            schema = {"anyOf": [props[name], schema]}
        props[name] = schema
    return props


def place_fields(base: dict[str, Any] | None, target: str, props: dict[str, Any]) -> dict[str, Any]:
    """``base`` (the stream's schema) with ``props`` as the properties of the object at dotted ``target``."""
    out: dict[str, Any] = copy.deepcopy(base) if isinstance(base, dict) else {"type": "object"}
    node: dict[str, Any] = out
    for part in [p for p in target.split(".") if p]:
        node.setdefault("type", "object")
        children = node.setdefault("properties", {})
        if not isinstance(children.get(part), dict):
            children[part] = {"type": "object"}
        node = children[part]
    node.setdefault("type", "object")
    node.setdefault("properties", {}).update(props)
    return out


def default_target(spec: StreamSpec) -> str:
    """Where the API's item sits in the record: under its wrapper (``member``), or the record itself."""
    from cdk.declarative.engine import wrapper_name
    from cdk.declarative.paths import compile_path

    if spec.explodeEntityPath is not None:
        names = compile_path(spec.explodeEntityPath.path).names or ()
        return spec.explodeEntityPath.overrideWrapperAttribute or (names[-1] if names else "")
    return (
        wrapper_name(spec.contentPath.overrideWrapperAttribute, compile_path(spec.contentPath.path).names)
        or ""
    )


def _evaluated_headers(session: Any, spec: StreamSpec, values: dict[str, Any]) -> dict[str, Any]:
    """The stream's headers and schemaParams.headerParams with their pipeline expressions evaluated as a
    full refresh's first request would (``ingestionStart`` null, ``ingestionEnd`` now), so an
    ``@{...}`` header never reaches the metadata endpoint as text."""
    from datetime import datetime, timezone

    from cdk.declarative.expressions import Context, evaluate_all
    from cdk.declarative.templating import origin_lookup, run_parameters

    assert spec.schemaParams is not None
    headers = {**spec.headerParams, **spec.schemaParams.headerParams}
    clock = getattr(session, "clock", None)
    stamp = clock.time() if clock is not None else datetime.now(timezone.utc).timestamp()
    now = datetime.fromtimestamp(stamp, tz=timezone.utc)
    ctx = Context(run_parameters(values, None, now), now)
    out: dict[str, Any] = evaluate_all(headers, ctx, origin_lookup(None), ("headerParams",))
    return out


def fetch_properties(session: Any, spec: StreamSpec, values: dict[str, Any], stream: str) -> dict[str, Any]:
    """Ask the metadata endpoint (one request through ``session``) for the stream's field properties."""
    from cdk.declarative.engine import Renderer, header_values, query_values
    from cdk.declarative.paths import compile_path
    from cdk.errors import ManifestError
    from cdk.sdk.http import _safe_url  # the query string may hold an API key: never print it

    params = spec.schemaParams
    assert params is not None
    try:  # a fieldsPath that cannot be used fails before the request
        compile_path(params.fieldsPath)
    except ValueError as exc:
        raise ManifestError(f"stream '{stream}' schemaParams.fieldsPath: {exc}") from None
    render = Renderer(values, stream)
    host = render.text(params.host or spec.urlParams.host, where="schemaParams.host").rstrip("/")
    path = render.text(params.path, escape=True, where="schemaParams.path")
    if path and not path.startswith("/"):
        path = "/" + path
    headers = render.deep(_evaluated_headers(session, spec, values), "schemaParams.headerParams")
    response = session.request(
        params.method,
        host + path,
        params=query_values(render.deep(params.queryParams, "schemaParams.queryParams")) or None,
        headers=header_values(headers) or None,
    )
    if response.status_code >= 400:
        raise ConnectorError(
            f"stream '{stream}': the metadata endpoint {params.method} {_safe_url(response.url)} answered "
            f"{response.status_code} {response.reason}: {response.text[:200]}",
            hint="check schemaParams.path and the config values it uses",
        )
    try:
        doc = response.json()
    except ValueError as exc:
        raise InvalidResponseError(
            f"stream '{stream}': the metadata endpoint {_safe_url(response.url)} did not answer JSON ({exc})"
        ) from None
    return fields_to_properties(doc, params, stream)


def metadata_schema(
    session: Any, spec: StreamSpec, values: dict[str, Any], stream: str, base: dict[str, Any] | None
) -> dict[str, Any]:
    """The stream's schema: ``base`` with the metadata endpoint's fields at ``schemaParams.target``."""
    assert spec.schemaParams is not None
    props = fetch_properties(session, spec, values, stream)
    target = spec.schemaParams.target if spec.schemaParams.target is not None else default_target(spec)
    return place_fields(base, target, props)


__all__ = ["TYPE_MAP", "field_schema", "fields_to_properties", "metadata_schema", "place_fields"]
