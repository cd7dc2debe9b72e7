"""The record schema of a declarative stream, derived from the spec's custom schema.

The specification's custom schema describes the API *response* (``results: {type: array, items: {...}}``). The
engine's records are shaped by contentPath and explodeEntityPath (see :mod:`cdk.declarative.engine`),
so the stream schema is the same transformation applied to the schema: the array's ``items`` under the
wrapper name, the carried attributes beside it, skip/keep applied, and the explode step after.
"""

from __future__ import annotations

import copy
from typing import Any

from cdk.declarative.engine import wrapper_name
from cdk.declarative.paths import compile_path
from cdk.declarative.spec import ContentPath, StreamSpec

OBJECT: dict[str, Any] = {"type": "object"}


def _filter(props: dict[str, Any], content: ContentPath, *, drop: str | None = None) -> dict[str, Any]:
    keep = set(content.keepAttributes) if content.keepAttributes else None
    skip = set(content.skipAttributes)
    return {k: v for k, v in props.items() if k != drop and k not in skip and (keep is None or k in keep)}


def _item_filtered(schema: Any, content: ContentPath) -> Any:
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        schema = copy.deepcopy(schema)
        schema["properties"] = _filter(schema["properties"], content)
    return schema


def record_schema(stream: StreamSpec, custom: dict[str, Any] | None) -> dict[str, Any]:
    """JSON Schema of one record of ``stream`` (permissive where the custom schema says nothing)."""
    content = stream.contentPath
    names = compile_path(content.path).names
    wrapper = wrapper_name(content.overrideWrapperAttribute, names)
    item: Any = OBJECT
    carried: dict[str, Any] = {}
    if custom is not None:
        node: Any = custom
        parent: Any = None
        for name in names or ():
            props = node.get("properties") if isinstance(node, dict) else None
            if not isinstance(props, dict) or name not in props:
                node = None
                break
            parent, node = node, props[name]
        if isinstance(node, dict) and node.get("type") == "array":
            item = node.get("items", OBJECT)
            carried = {k: v for k, v in (parent.get("properties") or {}).items() if k != (names or ("",))[-1]}
        elif node is None or node is custom:
            item = custom  # already the schema of one item
    item = _item_filtered(item, content)
    if wrapper is None:
        out: dict[str, Any] = copy.deepcopy(item) if isinstance(item, dict) else dict(OBJECT)
    else:
        out = {"type": "object", "properties": {**_filter(carried, content), wrapper: item}}
    if stream.explodeEntityPath is not None:
        out = _explode(out, stream.explodeEntityPath)
    return out


def _explode(schema: dict[str, Any], spec: ContentPath) -> dict[str, Any]:
    names = compile_path(spec.path).names or ()
    if not names:
        return schema
    schema = copy.deepcopy(schema)
    container = schema
    for name in names[:-1]:
        container = (container.get("properties") or {}).get(name) or {}
    props = container.get("properties") if isinstance(container, dict) else None
    element: Any = OBJECT
    if isinstance(props, dict):
        array = props.get(names[-1]) or {}
        element = array.get("items", OBJECT) if isinstance(array, dict) else OBJECT
        container["properties"] = _filter(props, spec, drop=names[-1])
    schema.setdefault("properties", {})[spec.overrideWrapperAttribute or names[-1]] = element
    return schema


__all__ = ["record_schema"]
