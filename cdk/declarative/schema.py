"""The record schema of a declarative stream, derived from the spec's custom schema.

The specification's custom schema describes the API *response* (``results: {type: array, items: {...}}``). The
engine's records are shaped by contentPath and explodeEntityPath (see :mod:`cdk.declarative.engine`),
so the stream schema is the same transformation applied to the schema: the array's ``items`` under the
wrapper name, the carried attributes beside it, skip/keep applied, and the explode step after.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
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
    names = _names("contentPath.path", content.path)
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
            if (
                parent is not None
            ):  # none when the array is the response itself (contentPath $, GitHub's lists)
                carried = {
                    k: v for k, v in (parent.get("properties") or {}).items() if k != (names or ("",))[-1]
                }
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


def _names(where: str, text: str) -> tuple[str, ...] | None:
    """The member names of JSONPath ``text``; one that does not parse is a ManifestError naming ``where``."""
    from cdk.errors import ManifestError

    try:
        return compile_path(text).names
    except ValueError as exc:
        raise ManifestError(
            f"declarative {where}: {exc}", hint="`cdk validate` lists every such problem"
        ) from None


def _explode(schema: dict[str, Any], spec: ContentPath) -> dict[str, Any]:
    names = _names("explodeEntityPath.path", spec.path) or ()
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


#: a key's property added by :func:`ensure_field` when the schema does not describe it: the types keys and
#: cursors take in APIs (ids: strings or integers; cursors: date-time strings or epoch numbers)
KEY_TYPES: dict[str, Any] = {"type": ["string", "integer"]}
CURSOR_TYPES: dict[str, Any] = {"type": ["string", "integer", "number"]}


def ensure_field(schema: dict[str, Any], dotted: str, leaf: dict[str, Any], why: str) -> bool:
    """Make the dotted record field ``dotted`` (``member.id``) a property of ``schema``, in place.

    Every object on the way gets ``properties`` (an object typed ``{type: object}`` alone keeps
    admitting any other name: ``additionalProperties`` is not touched); a leaf already described is
    left as it is. Returns whether anything was added, so callers can say so.
    """
    node = schema
    parts = dotted.split(".")
    added = False
    for i, part in enumerate(parts):
        props = node.get("properties")
        if not isinstance(props, dict):
            props = node["properties"] = {}
            node.setdefault("type", "object")
        if part not in props or not isinstance(props[part], dict):
            last = i == len(parts) - 1
            props[part] = dict(leaf, description=why) if last else {"type": "object", "properties": {}}
            added = True
        node = props[part]
    return added


# -- generated schema files --------------------------------------------------------------------------
# A schema file cdk writes (the importer's, `cdk discover --write`) says so in its $comment, with a hash of
# its content: while the hash matches, nobody edited it and a later `discover --write` may replace it; a
# file without the mark, or edited since, is hand-written and is only replaced with --force.

_MARK_RE = re.compile(r"\[cdk-generated sha256=([0-9a-f]{16})\]")


def _digest(schema: dict[str, Any]) -> str:
    body = {k: v for k, v in schema.items() if k != "$comment"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def mark_generated(schema: dict[str, Any], how: str) -> dict[str, Any]:
    """``schema`` with a ``$comment`` saying who wrote it and the hash that proves it unedited."""
    body = {k: v for k, v in schema.items() if k != "$comment"}
    comment = (
        f"{how}; edit freely (cdk discover --write then needs --force) [cdk-generated sha256={_digest(body)}]"
    )
    out: dict[str, Any] = {}
    if "$schema" in body:
        out["$schema"] = body.pop("$schema")
    return {**out, "$comment": comment, **body}


def is_generated(schema: Any) -> bool:
    """Whether ``schema`` was written by cdk and not edited since (see :func:`mark_generated`)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("$comment"), str):
        return False
    match = _MARK_RE.search(schema["$comment"])
    return match is not None and match.group(1) == _digest(schema)


__all__ = ["ensure_field", "is_generated", "mark_generated", "record_schema"]
