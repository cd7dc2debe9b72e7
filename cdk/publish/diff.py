"""The breaking-change diff between the latest published connector and the one about to be published.

Pipelines pin connector versions so upgrades are explicit; a major bump (a minor bump while 0.x) is the
signal that an upgrade needs attention. A change breaks downstream users when it

* removes a stream, or a property of a record (at any depth),
* narrows a type (``["string", "null"]`` -> ``"string"``, ``number`` -> ``integer``, fewer enum values),
* adds a required config property without a default (existing configs stop validating), or makes an
  existing one required without a default, or removes / narrows a config property,
* changes a stream's primary key or cursor field (deduplication and incremental state depend on them).

Added streams and properties, widened types and new optional config are compatible changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cdk.publish.versions import Bump, Version, required_bump_for_breaking

Severity = Literal["breaking", "compatible"]


@dataclass(frozen=True)
class Change:
    severity: Severity
    where: str  # "stream users", "config"
    message: str

    def __str__(self) -> str:
        mark = "!" if self.severity == "breaking" else "+"
        return f"{mark} {self.where}: {self.message}"


@dataclass
class Snapshot:
    """What the diff compares: streams (name -> primary key, cursor, schema) and the config schema."""

    version: str
    streams: dict[str, dict[str, Any]]
    config_schema: dict[str, Any] | None


@dataclass
class DiffReport:
    old_version: str
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.severity == "breaking"]

    @property
    def required_bump(self) -> Bump:
        """The smallest bump these changes allow: major (minor while 0.x) for breaking ones,
        minor for additions, else patch."""
        if self.breaking:
            return required_bump_for_breaking(_release(self.old_version))
        return "minor" if self.changes else "patch"

    def allows(self, new: Version) -> bool:
        return not self.breaking or new.allows_breaking_change_from(_release(self.old_version))

    def as_dict(self) -> dict[str, Any]:
        return {
            "against": self.old_version,
            "required_bump": self.required_bump,
            "changes": [
                {"severity": c.severity, "where": c.where, "message": c.message} for c in self.changes
            ],
        }


def _release(version: str) -> Version:
    from cdk.publish.versions import from_pep440, parse_version

    return from_pep440(version) or parse_version(version)


def snapshot(manifest: Any, load_json: Any, version: str | None = None) -> Snapshot:
    """A Snapshot from a manifest and a function that resolves its schema refs (Project or wheel)."""
    streams = {
        s.name: {
            "primary_key": list(s.primary_key),
            "cursor_field": s.cursor_field,
            "schema": load_json(s.schema_) or {},
        }
        for s in manifest.streams
    }
    config = load_json(manifest.config.schema_) if manifest.config else None
    return Snapshot(version or manifest.version, streams, config)


def diff(old: Snapshot, new: Snapshot) -> DiffReport:
    report = DiffReport(old.version)
    add = report.changes.append
    for name, before in old.streams.items():
        where = f"stream {name}"
        after = new.streams.get(name)
        if after is None:
            add(Change("breaking", where, "the stream was removed"))
            continue
        if before["primary_key"] != after["primary_key"]:
            add(
                Change(
                    "breaking",
                    where,
                    f"primary_key changed from {before['primary_key']} to {after['primary_key']}",
                )
            )
        if before["cursor_field"] != after["cursor_field"]:
            add(
                Change(
                    "breaking",
                    where,
                    f"cursor_field changed from {before['cursor_field']!r} to {after['cursor_field']!r}",
                )
            )
        for change in _schema_diff(before["schema"], after["schema"], where, config=False):
            add(change)
    for name in new.streams.keys() - old.streams.keys():
        add(Change("compatible", f"stream {name}", "the stream was added"))
    for change in _schema_diff(old.config_schema or {}, new.config_schema or {}, "config", config=True):
        add(change)
    report.changes.sort(key=lambda c: (c.severity != "breaking", c.where, c.message))
    return report


# --- JSON Schema comparison ----------------------------------------------------------------------


def _types(schema: dict[str, Any]) -> set[str] | None:
    """The JSON types a schema allows (None = anything); anyOf/oneOf branches are joined."""
    if not isinstance(schema, dict):
        return None
    if "type" in schema:
        t = schema["type"]
        return set(t) if isinstance(t, list) else {t}
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        out: set[str] = set()
        for b in branches:
            bt = _types(b)
            if bt is None:
                return None
            out |= bt
        return out
    return None


def _lost_types(before: set[str], after: set[str]) -> set[str]:
    lost = set()
    for t in before:
        if t in after or (t == "integer" and "number" in after):
            continue
        lost.add(t)
    return lost


def _fmt(types: set[str] | None) -> str:
    if types is None:
        return "any"
    return sorted(types)[0] if len(types) == 1 else "[" + ", ".join(sorted(types)) + "]"


def _schema_diff(
    before: dict[str, Any], after: dict[str, Any], where: str, *, config: bool, path: str = ""
) -> list[Change]:
    out: list[Change] = []
    label = f"property {path!r}" if path else "the schema"
    bt, at = _types(before), _types(after)
    if bt is not None or at is not None:
        if at is not None and (bt is None or _lost_types(bt, at)):
            out.append(Change("breaking", where, f"{label}: type narrowed from {_fmt(bt)} to {_fmt(at)}"))
        elif bt is not None and (at is None or at - bt):
            out.append(Change("compatible", where, f"{label}: type widened from {_fmt(bt)} to {_fmt(at)}"))
    if "enum" in after:
        lost_values = (
            [v for v in before.get("enum", []) if v not in after["enum"]] if "enum" in before else ["(any)"]
        )
        if lost_values:
            out.append(Change("breaking", where, f"{label}: enum no longer allows {lost_values}"))
        elif [v for v in after["enum"] if v not in before["enum"]]:
            out.append(
                Change(
                    "compatible",
                    where,
                    f"{label}: enum now also allows {[v for v in after['enum'] if v not in before['enum']]}",
                )
            )
    elif "enum" in before:
        out.append(Change("compatible", where, f"{label}: enum restriction removed"))
    old_props = before.get("properties") or {}
    new_props = after.get("properties") or {}
    for key, sub in old_props.items():
        child = f"{path}.{key}" if path else key
        if key not in new_props:
            out.append(Change("breaking", where, f"property {child!r} was removed"))
        else:
            out.extend(_schema_diff(sub or {}, new_props[key] or {}, where, config=config, path=child))
    for key in new_props.keys() - old_props.keys():
        child = f"{path}.{key}" if path else key
        required = key in (after.get("required") or [])
        if config and required and "default" not in (new_props[key] or {}):
            out.append(
                Change(
                    "breaking",
                    where,
                    f"new required property {child!r} has no default (existing configs stop validating)",
                )
            )
        else:
            out.append(Change("compatible", where, f"property {child!r} was added"))
    if config:
        newly = set(after.get("required") or []) - set(before.get("required") or [])
        for key in sorted(newly & old_props.keys()):
            if "default" not in (new_props.get(key) or {}):
                child = f"{path}.{key}" if path else key
                out.append(Change("breaking", where, f"property {child!r} became required without a default"))
    if isinstance(before.get("items"), dict) and isinstance(after.get("items"), dict):
        out.extend(_schema_diff(before["items"], after["items"], where, config=config, path=f"{path}[]"))
    return out
