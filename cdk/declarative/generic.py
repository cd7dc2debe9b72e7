"""The generic REST form of a sourceSpec: the request shape itself is user input.

The first example of the specification (the "generic REST" source) has no ``urlParams`` of its own: its
``spec`` is a JSON Schema whose properties *are* the params (``urlParams.host``, ``contentPath.path``,
``paginationParams.type``, ...). Importing it means asking the user for those values:
``cdk import source-spec FILE --set urlParams.host=https://api.example.com --set contentPath.path=$.items``.

:func:`inputs` lists the template's leaves as dotted names; :func:`params_from_values` builds the stream's
params from the given values and names what is still missing. What counts as required: the leaves the
template marks required inside ``urlParams`` and ``contentPath`` (without them there is no request),
and inside any other object the user gave a value for. ``paginationParams`` and ``scheduleParams``,
which the template lists as required objects, default to the engine's defaults (one request, no
time window) when the user gives none of their fields; ``urlParams.method`` defaults to the first
value of its enum (GET).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdk.errors import UsageError

#: objects whose required leaves are always required (the engine cannot build a request without them)
ALWAYS = ("urlParams", "contentPath")


@dataclass(frozen=True)
class Input:
    """One user input of the template: ``urlParams.host``, its JSON type, description, example, choices."""

    name: str
    type: str
    required_in_object: bool
    description: str = ""
    example: str = ""
    choices: tuple[str, ...] = ()

    @property
    def default(self) -> str | None:
        return self.choices[0] if self.choices and self.name == "urlParams.method" else None

    def describe(self) -> str:
        extra = [self.type]
        if self.choices:
            extra.append("one of " + "/".join(self.choices))
        if self.example:
            extra.append(f"e.g. {self.example}")
        text = f"{self.name} ({', '.join(extra)})"
        return f"{text}: {self.description}" if self.description else text


def find_template(doc: Any) -> dict[str, Any] | None:
    """The params-describing schema of a generic REST sourceSpec (under ``attributes.spec`` or ``spec``)."""
    from cdk.declarative.spec import _describes_params, _looks_like_schema

    if not isinstance(doc, dict):
        return None
    source = doc.get("sourceSpec", doc)
    if not isinstance(source, dict):
        return None
    attributes = source.get("attributes")
    holders = [source, attributes] if isinstance(attributes, dict) else [source]
    for holder in holders:
        schema = holder.get("spec")
        if _looks_like_schema(schema) and _describes_params(schema):
            return schema
    return None


def inputs(template: dict[str, Any]) -> list[Input]:
    """Every leaf of the template as an :class:`Input` (objects without properties are leaves too)."""
    out: list[Input] = []
    props = template.get("properties")
    for top, sub in (props if isinstance(props, dict) else {}).items():
        if not isinstance(sub, dict):
            continue
        leaves = sub.get("properties")
        required = set(sub.get("required") or [])
        if not isinstance(leaves, dict):
            out.append(Input(top, str(sub.get("type", "object")), False, str(sub.get("description", ""))))
            continue
        for leaf, schema in leaves.items():
            schema = schema if isinstance(schema, dict) else {}
            enum = schema.get("enum")
            out.append(
                Input(
                    f"{top}.{leaf}",
                    str(schema.get("type", "string")),
                    leaf in required,
                    str(schema.get("description", "")),
                    str(schema.get("example", "")),
                    tuple(str(e) for e in enum) if isinstance(enum, list) else (),
                )
            )
    return out


def _no_constant(name: str) -> Any:
    """NaN and Infinity are no JSON values: connector.yaml would hold ``.nan``, a schema invalid JSON."""
    raise ValueError(f"{name} is not a JSON value")


def _convert(item: Input, raw: str) -> Any:
    """A --set value as the template's type: JSON for objects, JSON or a comma list for arrays."""
    if item.type == "object":
        try:
            value = json.loads(raw, parse_constant=_no_constant)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise UsageError(
                f'--set {item.name}: expected a JSON object such as {{"key": "value"}}, got {raw!r}'
            )
        return value
    if item.type == "array":
        if raw.lstrip().startswith("["):
            try:
                value = json.loads(raw, parse_constant=_no_constant)
            except ValueError:
                raise UsageError(f"--set {item.name}: not a JSON array: {raw!r}") from None
            if isinstance(value, list):
                return value
        return [part.strip() for part in raw.split(",") if part.strip()]
    if item.type == "integer":
        if not raw.strip().lstrip("-").isdigit() or len(raw) > 18:
            raise UsageError(f"--set {item.name}: expected an integer, got {raw!r}")
        return int(raw)
    # only the method's enum is enforced: the template's pagination enum predates the other types
    if item.name == "urlParams.method" and raw.upper() not in [c.upper() for c in item.choices]:
        raise UsageError(f"--set {item.name}: expected one of {', '.join(item.choices)}, got {raw!r}")
    return raw


def parse_sets(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a mapping; a pair without ``=`` is a usage error."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"--set {pair!r}: expected KEY=VALUE, e.g. urlParams.host=https://api.example.com"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # bytes that were not UTF-8 on the command line (surrogate escapes)
            raise UsageError(
                f"--set {key.strip()}: the value is not UTF-8 text: {value.encode('utf-8', 'replace')!r}"
            ) from None
        out[key.strip()] = value
    return out


def missing_inputs(template: dict[str, Any], values: dict[str, str]) -> list[Input]:
    """The required inputs (see the module docstring) that ``values`` does not give."""
    items = inputs(template)
    given_objects = {name.split(".")[0] for name in values}
    return [
        item
        for item in items
        if item.required_in_object
        and item.name not in values
        and item.default is None
        and (item.name.split(".")[0] in ALWAYS or item.name.split(".")[0] in given_objects)
    ]


def params_from_values(template: dict[str, Any], values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """(the stream's params, notes) from the template and the user's values; UsageError when incomplete."""
    items = {item.name: item for item in inputs(template)}
    params: dict[str, Any] = {}
    notes: list[str] = []
    for key, raw in values.items():
        top, _, rest = key.partition(".")
        item = items.get(key)
        if item is None and top in items and items[top].type == "object" and rest:
            params.setdefault(top, {})[rest] = raw  # a free-form object (headerParams.X-Key=...)
            continue
        parent = items.get(f"{top}.{rest.split('.')[0]}") if rest else None
        if item is None and parent is not None and parent.type == "object" and "." in rest:
            params.setdefault(top, {}).setdefault(parent.name.split(".", 1)[1], {})[rest.split(".", 1)[1]] = (
                raw
            )
            continue
        if item is None:
            known = ", ".join(sorted(items))
            raise UsageError(f"--set {key}: the specification has no such input; its inputs: {known}")
        value = _convert(item, raw)
        if "." in key:
            params.setdefault(top, {})[rest] = value
        else:
            params[top] = value
    missing = missing_inputs(template, values)
    if missing:
        lines = "\n".join(f"  {m.describe()}" for m in missing)
        raise UsageError(
            "this is the generic REST form of a sourceSpec: its request is user input, and these required "
            f"inputs are missing:\n{lines}",
            hint="pass each as --set NAME=VALUE (or run the import in a terminal to be asked)",
        )
    for item in items.values():
        if item.default is not None and item.name not in values:
            top, _, leaf = item.name.partition(".")
            params.setdefault(top, {})[leaf] = item.default
            notes.append(f"{item.name} not given: {item.default}")
    for top in ("paginationParams", "scheduleParams"):
        if top not in params:
            notes.append(
                f"no {top} given: "
                + ("one request per read (type NONE)" if top == "paginationParams" else "no time window")
            )
    return params, notes


__all__ = ["Input", "find_template", "inputs", "missing_inputs", "params_from_values", "parse_sets"]
