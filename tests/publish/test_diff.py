"""The breaking-change diff: each kind of change, its severity, and the bump it requires."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from conftest import write_connector

from cdk.project import Project
from cdk.publish.build import build_project, read_wheel_connector
from cdk.publish.diff import Snapshot, diff, snapshot
from cdk.publish.versions import parse_version

BASE = Snapshot(
    "1.4.2",
    {
        "users": {
            "primary_key": ["id"],
            "cursor_field": "updated_at",
            "schema": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "email": {"type": ["string", "null"]},
                    "score": {"type": "number"},
                    "plan": {"type": "string", "enum": ["free", "pro"]},
                    "address": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            },
        },
        "orders": {
            "primary_key": ["id"],
            "cursor_field": None,
            "schema": {"type": "object", "properties": {}},
        },
    },
    {
        "type": "object",
        "required": ["api_key"],
        "properties": {"api_key": {"type": "string"}, "region": {"type": "string"}},
    },
)


def changed(edit) -> Snapshot:  # type: ignore[no-untyped-def]
    new = copy.deepcopy(BASE)
    new.version = "9.9.9"
    edit(new)
    return new


def users(s: Snapshot) -> dict:
    return s.streams["users"]["schema"]["properties"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s.streams.pop("orders"), "stream orders: the stream was removed"),
        (lambda s: users(s).pop("email"), "stream users: property 'email' was removed"),
        (
            lambda s: users(s)["address"]["properties"].pop("city"),
            "stream users: property 'address.city' was removed",
        ),
        (
            lambda s: users(s)["email"].update(type="string"),
            "property 'email': type narrowed from [null, string] to string",
        ),
        (
            lambda s: users(s)["score"].update(type="integer"),
            "property 'score': type narrowed from number to integer",
        ),
        (lambda s: users(s)["plan"].update(enum=["pro"]), "property 'plan': enum no longer allows ['free']"),
        (
            lambda s: s.streams["users"].update(primary_key=["id", "email"]),
            "primary_key changed from ['id'] to ['id', 'email']",
        ),
        (
            lambda s: s.streams["users"].update(cursor_field="created_at"),
            "cursor_field changed from 'updated_at' to 'created_at'",
        ),
        (
            lambda s: (
                s.config_schema["properties"].update(workspace={"type": "string"}),
                s.config_schema["required"].append("workspace"),
            ),
            "config: new required property 'workspace' has no default",
        ),
        (
            lambda s: s.config_schema["required"].append("region"),
            "config: property 'region' became required without a default",
        ),
        (lambda s: s.config_schema["properties"].pop("region"), "config: property 'region' was removed"),
    ],
)
def test_breaking_changes_are_named_and_need_a_major_bump(edit, expected: str) -> None:  # type: ignore[no-untyped-def]
    report = diff(BASE, changed(edit))
    assert [str(c) for c in report.breaking] and any(expected in str(c) for c in report.breaking), (
        report.changes
    )
    assert report.required_bump == "major"
    assert not report.allows(parse_version("1.5.0"))
    assert report.allows(parse_version("2.0.0"))


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.streams.update(invoices={"primary_key": ["id"], "cursor_field": None, "schema": {}}),
        lambda s: users(s).update(name={"type": "string"}),
        lambda s: users(s)["score"].update(type=["number", "null"]),
        lambda s: users(s)["plan"]["enum"].append("team"),
        lambda s: s.config_schema["properties"].update(timeout={"type": "integer"}),
        lambda s: (
            s.config_schema["properties"].update(page_size={"type": "integer", "default": 100}),
            s.config_schema["required"].append("page_size"),
        ),
    ],
)
def test_compatible_changes_need_only_a_minor_bump(edit) -> None:  # type: ignore[no-untyped-def]
    report = diff(BASE, changed(edit))
    assert report.changes and not report.breaking
    assert report.required_bump == "minor"
    assert report.allows(parse_version("1.4.3"))


def test_no_change_needs_only_a_patch_and_zero_x_breaks_with_a_minor() -> None:
    assert diff(BASE, changed(lambda s: None)).required_bump == "patch"
    old = copy.deepcopy(BASE)
    old.version = "0.3.1"
    report = diff(old, changed(lambda s: s.streams.pop("orders")))
    assert report.required_bump == "minor"
    assert report.allows(parse_version("0.4.0")) and not report.allows(parse_version("0.3.2"))


def test_snapshot_from_a_wheel_equals_the_snapshot_of_its_source(tmp_path: Path) -> None:
    root = write_connector(tmp_path / "acme", version="1.4.2", git=False)
    wheel = build_project(root, tmp_path / "dist", distributions=["wheel"], isolation="none").wheel
    published = read_wheel_connector(wheel)  # type: ignore[arg-type]
    from cdk.manifest import manifest_from_data, parse_yaml_with_positions

    data, pos = parse_yaml_with_positions(published.manifest_text, "connector.yaml")
    from_wheel = snapshot(manifest_from_data(data, pos, "connector.yaml"), published.load_json)
    project = Project.load(root)
    assert from_wheel == snapshot(project.manifest, project.load_json)
    schema = json.loads((root / "schemas" / "users.json").read_text())
    schema["properties"].pop("email")
    (root / "schemas" / "users.json").write_text(json.dumps(schema))
    project = Project.load(root)
    report = diff(from_wheel, snapshot(project.manifest, project.load_json, "1.5.0"))
    assert [str(c) for c in report.breaking] == ["! stream users: property 'email' was removed"]
