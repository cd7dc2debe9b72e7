"""``cdk import source-spec``: a sourceSpec or connection specification JSON becomes a connector folder.

The folder holds connector.yaml (``declarative:`` with the stream's params), the config schema (the
spec's user inputs, plus every placeholder the URL uses and the non-secret fields of ``authSpec``),
the record schema, pyproject.toml registering the ``cdk.connectors`` entry point, and a two-line
package whose ``Source`` is built from connector.yaml.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cdk._version import REQUIREMENT
from cdk.errors import ManifestError, UsageError
from cdk.findings import Finding
from cdk.secrets import placeholder_config

SECRET_RE = re.compile(r"pass(word)?|secret|token|api_?key|credential|private", re.I)
USER_RE = re.compile(r"^(user(name)?|client_?id|login|email)$", re.I)
AUTH_TYPES = {  # the specification's authSpec type -> cdk auth type
    "basicauthentication": "basic",
    "basic": "basic",
    "oauth2refreshcode": "oauth2",
    "oauth2": "oauth2",
    "oauth2refreshtoken": "oauth2",
    "bearer": "bearer",
    "bearertoken": "bearer",
    "apikey": "api_key",
    "apikeyauth": "api_key",
}


@dataclass
class ImportResult:
    """What the import wrote and what the user should know about it."""

    folder: Path
    name: str
    stream: str
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: things the user must know about the input (e.g. JSON read leniently), printed as warnings
    warnings: list[str] = field(default_factory=list)


def read_spec_json(path: Path, warnings: list[Finding] | None = None) -> Any:
    """Parse the JSON file; a bare ``"sourceSpec": {...}`` fragment (as the specification prints it) is accepted.

    Trailing commas and comments (the specification's examples have them) are read as JSON5, and a
    warning at the line of the first one is appended to ``warnings``. Errors are reported at their line
    and column in the file as written.
    """
    from cdk.declarative.lenient import load_spec_text
    from cdk.errors import InputError
    from cdk.fsutil import read_input_text

    if not path.exists() and not path.is_symlink():
        raise UsageError(f"no such file: {path}")
    try:
        text = read_input_text(path)
    except InputError as exc:
        raise UsageError(str(exc), hint=exc.hint) from None
    stripped = text.lstrip()
    fragment = stripped.startswith('"')
    source = "{\n" + text + "\n}" if fragment else text
    try:
        doc, warning = load_spec_text(source, str(path), line_offset=1 if fragment else 0)
    except InputError as exc:
        p = exc.problem
        line = max(1, min(p.line if p else 1, text.count("\n") + 1))
        raise ManifestError(
            f"{path} cannot be read as a specification (JSON)",
            problems=[
                Finding(
                    file=str(path),
                    line=line,
                    column=p.column if p else 0,
                    message=p.message if p else str(exc),
                )
            ],
            hint=exc.hint or "fix the JSON and run the import again",
        ) from None
    if warning is not None and warnings is not None:
        warnings.append(warning)
    return doc


def generic_missing(path: str | Path, values: dict[str, str]) -> list[Any]:
    """The required inputs of a generic REST sourceSpec that ``values`` lacks (empty for other specs).

    The CLI asks for them when it runs in a terminal; otherwise the import names them in its error.
    """
    from cdk.declarative.generic import find_template, missing_inputs

    doc = read_spec_json(Path(path))
    template = find_template(doc)
    return missing_inputs(template, values) if template is not None else []


def slug(text: str) -> str:
    """A connector name (``^[a-z][a-z0-9_-]{1,63}$``) from a display name or camelCase key."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", text)
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not out or not out[0].isalpha():
        out = "source-" + out
    return out[:64].rstrip("-") or "source"


def import_source_spec(
    path: str | Path,
    out: str | Path | None = None,
    *,
    name: str | None = None,
    stream: str | None = None,
    force: bool = False,
    primary_key: list[str] | None = None,
    cursor_field: str | None = None,
    values: dict[str, str] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> ImportResult:
    """Write a declarative connector folder for the spec in ``path``; returns what was written.

    ``values`` are the ``--set NAME=VALUE`` inputs of a generic REST sourceSpec (:mod:`cdk.declarative.generic`);
    ``on_warning`` hears each warning as soon as it is known (they are in ``ImportResult.warnings`` too).
    """
    from pydantic import ValidationError

    from cdk.declarative.checks import validate_declarative
    from cdk.declarative.engine import RESERVED, placeholders, walk_strings
    from cdk.declarative.generic import find_template, params_from_values
    from cdk.declarative.paths import compile_path
    from cdk.declarative.schema import (
        CURSOR_TYPES,
        KEY_TYPES,
        ensure_field,
        mark_generated,
        record_schema,
    )
    from cdk.declarative.spec import StreamSpec, extract_source_spec

    path = Path(path)
    lenient: list[Finding] = []
    doc = read_spec_json(path, lenient)
    for warning in lenient:  # at once: the user sees it even when the import fails further on
        if on_warning is not None:
            on_warning(str(warning))
    if not isinstance(doc, dict):
        raise ManifestError(f"{path}: expected a JSON object holding a sourceSpec")
    params, user_spec, ui = extract_source_spec(doc)
    generic_notes: list[str] = []
    template = find_template(doc) if "urlParams" not in params else None
    if template is not None:
        params, generic_notes = params_from_values(template, dict(values or {}))
    elif values:
        raise UsageError(
            f"{path}: --set gives the inputs of a generic REST sourceSpec (one whose spec describes "
            "urlParams, contentPath, ...); this specification has its own urlParams",
            hint="edit connector.yaml after the import instead",
        )
    if "urlParams" not in params:
        raise ManifestError(
            f"{path}: no urlParams found (looked under sourceSpec.attributes, sourceSpec and the top level)",
            hint="pass a sourceSpec document, a connection specification or the params themselves",
        )
    try:
        parsed = StreamSpec.model_validate(params)
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)]
        raise ManifestError(
            f"{path}: the sourceSpec does not fit the declarative REST source specification:\n"
            + "\n".join(lines)
        ) from None

    _check_user_spec(path, user_spec)
    label = doc.get("name") if isinstance(doc.get("name"), str) else None
    connector = name or slug(label or path.stem.split(".")[0])
    try:
        content_names = compile_path(parsed.contentPath.path).names
    except ValueError as exc:
        raise ManifestError(
            f"{path}: contentPath.path: {exc}", hint="write a JSONPath such as $.items"
        ) from None
    stream = stream or (content_names[-1] if content_names else "records")
    _check_names(connector, stream, named=name is not None)
    folder = Path(out) if out is not None else Path.cwd() / connector
    result = ImportResult(folder=folder, name=connector, stream=stream)
    result.warnings.extend(str(w) for w in lenient)
    result.notes.extend(generic_notes)

    # config schema: user inputs + placeholders + authSpec fields
    config_schema: dict[str, Any] = json.loads(json.dumps(user_spec)) if user_spec else {}
    config_schema.setdefault("$schema", "http://json-schema.org/draft-07/schema#")
    config_schema.setdefault("type", "object")
    props: dict[str, Any] = config_schema.setdefault("properties", {})
    required: list[str] = config_schema.setdefault("required", [])
    auth_type, auth_params = _auth(doc, props, required, result)
    used: set[str] = set()
    for _, text in walk_strings(
        [params.get("urlParams"), params.get("headerParams"), params.get("bodyParams")]
    ):
        used.update(p.split(".")[0] for p in placeholders(text) if p not in RESERVED)
    for ph in sorted(used - set(props)):
        props[ph] = {"type": "string", "description": f"value of the {{{ph}}} placeholder of the request"}
        required.append(ph)
        result.notes.append(f"config field '{ph}' added: the request uses it as a placeholder")
    for ph in sorted(used & set(props)):
        if ph not in required and "default" not in props[ph]:
            required.append(ph)
    if not required:
        config_schema.pop("required")

    # hosts: the literal host, or a wildcard for a {domain}-style label
    from urllib.parse import urlsplit

    from cdk.declarative.engine import PLACEHOLDER_RE
    from cdk.manifest import HOST_RE

    host_tpl = parsed.urlParams.host
    hosts: list[str] = []
    if not PLACEHOLDER_RE.fullmatch(host_tpl.strip()):
        hostname = urlsplit(PLACEHOLDER_RE.sub("PLACEHOLDER", host_tpl)).hostname or ""
        labels = hostname.split(".")
        if "placeholder" in labels[0] and len(labels) > 2:
            hosts.append("*." + ".".join(labels[1:]))
        elif hostname and "placeholder" not in hostname and HOST_RE.match(hostname):
            hosts.append(hostname)
    if not hosts:
        result.notes.append(
            "allowed_hosts is empty: the host comes from the config; add the API's host names"
        )

    # record schema
    custom = params.get("schema")
    rec_schema = record_schema(parsed, custom if isinstance(custom, dict) else None)
    # a deep copy: record_schema shares nodes (its permissive OBJECT) that ensure_field must not change
    rec_schema = copy.deepcopy({"$schema": "http://json-schema.org/draft-07/schema#", **rec_schema})
    # the keys named on the command line are properties of the schema (nested for dotted names), so the
    # connector passes its own validator (M008/M009) and records are checked against what they hold
    for key in primary_key or []:
        if ensure_field(rec_schema, key, KEY_TYPES, "record id (--primary-key)"):
            result.notes.append(f"schema: '{key}' added to schemas/{stream}.json for --primary-key")
    if cursor_field and ensure_field(rec_schema, cursor_field, CURSOR_TYPES, "cursor (--cursor-field)"):
        result.notes.append(f"schema: '{cursor_field}' added to schemas/{stream}.json for --cursor-field")
    rec_schema = mark_generated(
        rec_schema,
        f"written by `cdk import source-spec` from {path.name}; `cdk discover --infer --write` refines it",
    )
    stream_params = {k: v for k, v in params.items() if k != "schema"}

    manifest: dict[str, Any] = {
        "manifest_version": 1,
        "name": connector,
        "version": "0.1.0",
        "display_name": label or connector.replace("-", " ").title(),
        "description": (doc.get("description") if isinstance(doc.get("description"), str) else None)
        or f"Declarative REST source imported from {path.name}",
        "kind": "source",
        "capabilities": ["batch_extract"] + (["incremental"] if parsed.scheduleParams else []),
        "config": {"schema": "schemas/config.json"},
        "streams": [_stream_entry(stream, parsed, rec_schema, primary_key, cursor_field)],
        "allowed_hosts": hosts,
    }
    if ui:
        manifest["ui"] = _ui(ui)
    manifest["declarative"] = {"streams": {stream: stream_params}}
    if manifest["streams"][0].get("cursor_field") is None and "incremental" in manifest["capabilities"]:
        manifest["capabilities"] = ["batch_extract"]
        result.notes.append(
            "incremental not declared: set cursor_field on the stream (a field of the record) to enable it"
        )
    package = connector.replace("-", "_")
    files = {
        "connector.yaml": _yaml(manifest, path.name, auth_type),
        "schemas/config.json": json.dumps(config_schema, indent=2) + "\n",
        f"schemas/{stream}.json": json.dumps(rec_schema, indent=2) + "\n",
        "pyproject.toml": _pyproject(connector, package, manifest["description"]),
        f"{package}/__init__.py": (
            '"""Declarative connector: connector.yaml holds the sourceSpec; cdk builds the source from it."""\n\n'
            "from cdk.declarative import package_source\n\n"
            "Source = package_source(__name__)\n"
        ),
        "secrets/config.example.json": json.dumps(
            _example_config(config_schema, stream, auth_type, auth_params), indent=2
        )
        + "\n",
        # replay's config: "..." is filled in from the real config by the first `cdk test --record`
        "tests/sample_config.json": json.dumps(
            placeholder_config(_example_config(config_schema, stream, auth_type, auth_params), config_schema),
            indent=2,
        )
        + "\n",
        ".gitignore": "secrets/config.json\n__pycache__/\ndist/\n*.egg-info/\n",
    }
    findings = _write_folder(folder, files, force=force, check=validate_declarative)
    result.files.extend(files)
    result.notes.extend(f"{finding.severity}: {finding}" for finding in findings)
    return result


def _check_user_spec(path: Path, user_spec: dict[str, Any] | None) -> None:
    """The user-input schema (``spec``) becomes schemas/config.json: its properties must be an object and
    its required a list of names, or the config schema the import extends would be broken."""
    if user_spec is None:
        return
    if not isinstance(user_spec.get("properties"), dict):
        raise ManifestError(
            f"{path}: sourceSpec.spec.properties must be an object (name -> schema), "
            f"not {type(user_spec.get('properties')).__name__}"
        )
    required = user_spec.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ManifestError(
            f"{path}: sourceSpec.spec.required must be a list of property names, not {required!r:.100}"
        )


#: longest stream name the import takes: it becomes schemas/NAME.json, and a file name has 255 bytes
MAX_STREAM_NAME = 128


def _check_names(connector: str, stream: str, *, named: bool) -> None:
    """Refuse a connector or stream name that cannot be a manifest name, a file name or a package, before
    anything is written (``../x`` as a stream would write schemas/../x.json outside the folder)."""
    from cdk.manifest import NAME_RE, STREAM_NAME_PATTERN, package_name_problem

    how = "--name" if named else "the name taken from the specification (pass --name to choose one)"
    if not NAME_RE.match(connector):
        raise UsageError(
            f"connector name {connector!r} ({how}) is not valid: lowercase letter first, then 1-63 of "
            "a-z 0-9 _ - (e.g. 'mailchimp-members')"
        )
    problem = package_name_problem(connector)
    if problem:
        raise UsageError(
            f"connector name {connector!r} ({how}): {problem}; pick another, e.g. '{connector}-source'"
        )
    if not re.match(STREAM_NAME_PATTERN, stream) or len(stream) > MAX_STREAM_NAME:
        raise UsageError(
            f"stream name {stream[:200]!r} is not valid: a letter or _ first, then letters, digits, _ . -, "
            f"at most {MAX_STREAM_NAME} characters (e.g. 'members')",
            hint="pass --stream NAME (the default is the last name of contentPath.path)",
        )


def _write_folder(
    folder: Path, files: dict[str, str], *, force: bool, check: Callable[[Any], list[Finding]]
) -> list[Finding]:
    """Write ``files`` into ``folder`` all or nothing; returns ``check``'s findings on the written project.

    Everything is written into a staging folder beside the target and checked there first. A new folder
    is then the staging folder renamed (one step: a killed import leaves no half-written folder); into an
    existing folder the files are moved one by one, and a file already there is replaced only with
    ``force`` (an import into a project folder must not silently replace its pyproject.toml).
    """
    import os
    import shutil
    import tempfile

    from cdk.fsutil import atomic_write_text
    from cdk.project import Project

    if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
        raise UsageError(f"--out {folder} is a file (or a broken symlink), not a folder")
    if folder.is_dir() and not force:
        present = [rel for rel in files if (folder / rel).exists() or (folder / rel).is_symlink()]
        if present:
            raise UsageError(
                f"{folder} already holds {', '.join(present)}; nothing was written",
                hint="pass --force to overwrite them, or --out a new folder",
            )
    parent = folder.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name[:100]}.import-", dir=parent))
    try:
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, text)
        try:
            findings = check(Project.load(staging))
        except ManifestError as exc:  # name the folder the user asked for, not the staging folder
            listed = "".join(f"\n  {p}" for p in exc.problems)
            head = exc.message[: len(exc.message) - len(listed)] if listed else exc.message
            raise ManifestError(
                head.replace(str(staging), str(folder)),
                problems=[replace(p, file=p.file.replace(str(staging), str(folder))) for p in exc.problems],
                hint=f"nothing was written; {exc.hint}" if exc.hint else "nothing was written",
            ) from None
        if not folder.exists():
            os.rename(staging, folder)
            return findings
        for rel in files:
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target)
        return findings
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stream_entry(
    stream: str,
    parsed: Any,
    rec_schema: dict[str, Any],
    primary_key: list[str] | None,
    cursor_field: str | None,
) -> dict[str, Any]:
    """The manifest stream: the given keys, else guessed from the record schema when it names them."""
    entry: dict[str, Any] = {"name": stream}
    if primary_key or cursor_field:
        if primary_key:
            entry["primary_key"] = primary_key
        if cursor_field:
            entry["cursor_field"] = cursor_field
        entry["schema"] = f"schemas/{stream}.json"
        return entry
    wrapper_props = {}
    for key, sub in (rec_schema.get("properties") or {}).items():
        if isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
            wrapper_props = {f"{key}.{k}": v for k, v in sub["properties"].items()}
    flat = {**{k: v for k, v in (rec_schema.get("properties") or {}).items()}, **wrapper_props}
    for candidate in ("id", "uuid"):
        match = next((k for k in flat if k == candidate or k.endswith("." + candidate)), None)
        if match:
            entry["primary_key"] = [match]
            break
    for candidate in ("updated_at", "last_changed", "updated", "modified_at", "last_modified"):
        match = next((k for k in flat if k == candidate or k.endswith("." + candidate)), None)
        if match:
            entry["cursor_field"] = match
            break
    entry["schema"] = f"schemas/{stream}.json"
    return entry


def _auth(
    doc: dict[str, Any], props: dict[str, Any], required: list[str], result: ImportResult
) -> tuple[str | None, dict[str, Any]]:
    """authSpec of a connection specification: credentials go to ``authentication``, the rest to config fields."""
    specs = doc.get("authSpec")
    if not isinstance(specs, list) or not specs or not isinstance(specs[0], dict):
        return None, {}
    first = specs[0]
    kind = AUTH_TYPES.get(re.sub(r"[^a-z0-9]", "", str(first.get("type", "")).lower()))
    spec = first.get("spec")
    schema: dict[str, Any] = spec if isinstance(spec, dict) else {}
    properties = schema.get("properties")
    auth_required = schema.get("required")
    auth_required = auth_required if isinstance(auth_required, list) else []
    params: dict[str, Any] = {}
    for prop, sub in (properties if isinstance(properties, dict) else {}).items():
        if SECRET_RE.search(prop) or USER_RE.match(prop):
            params[prop] = (
                f"CDK_ENV_{slug(prop).upper().replace('-', '_')}" if SECRET_RE.search(prop) else "..."
            )
        elif prop not in props:
            props[prop] = sub if isinstance(sub, dict) else {"type": "string"}
            if prop in auth_required:
                required.append(prop)
            result.notes.append(
                f"config field '{prop}' taken from authSpec '{first.get('name', first.get('type'))}'"
            )
    if kind:
        result.notes.append(
            f"authentication: {kind} (from authSpec); credentials go under authentication.params"
        )
    return kind, params


def _ui(ui: Any) -> dict[str, Any]:
    """The manifest's ``ui`` from uiAttributes; what is not a string key (or a boolean flag) is left out."""
    if not isinstance(ui, dict):
        return {}

    def key(value: Any) -> Any:
        value = value.get("key") if isinstance(value, dict) else value
        return value if isinstance(value, str) else None

    out = {
        "label": key(ui.get("label")),
        "category": key(ui.get("category")),
        "icon": key(ui.get("icon")),
        "beta": ui.get("isBeta") is True,
        "preview": ui.get("isPreview") is True,
    }
    return {k: v for k, v in out.items() if v is not None}


def _example_config(
    schema: dict[str, Any], stream: str, auth_type: str | None, auth_params: dict[str, Any]
) -> dict[str, Any]:
    """A config for the schema: defaults, ``...`` for the user's values (``cdk test --record`` fills them
    in tests/sample_config.json), ``CDK_ENV_NAME`` references for secrets (never a value)."""
    from cdk.secrets import is_marked_secret, is_secret_name

    out: dict[str, Any] = {"name": "example", "stream": stream}
    for prop, sub in (schema.get("properties") or {}).items():
        if is_marked_secret(sub) or is_secret_name(prop):
            out[prop] = f"CDK_ENV_{slug(prop).upper().replace('-', '_')}"
        else:
            out[prop] = sub.get("default", "...") if isinstance(sub, dict) else "..."
    if auth_type:
        out["authentication"] = {"type": auth_type, "params": auth_params}
    return out


def _yaml(manifest: dict[str, Any], source_name: str, auth_type: str | None) -> str:
    import yaml

    head = (
        f"# Imported from {source_name} by `cdk import source-spec`.\n"
        "# declarative: holds the sourceSpec of each stream (declarative REST source specification); see docs/declarative.md of connector-cdk.\n"
    )
    if auth_type:
        head += f"# Credentials: config 'authentication: {{type: {auth_type}, params: ...}}'.\n"
    from cdk.errors import InputError
    from cdk.yamlio import parse_yaml

    body: str = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=110)
    try:
        same = parse_yaml(body, "connector.yaml")[0] == manifest
    except InputError:
        same = False
    if not same:
        # PyYAML writes some characters (U+0085 NEL) raw that its reader folds into a line break: the
        # escaped form reads back exactly what the specification and --set gave
        body = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=False, width=110)
    return head + body


def _pyproject(name: str, package: str, description: str) -> str:
    import tomlkit

    doc = tomlkit.document()
    doc["build-system"] = {"requires": ["hatchling"], "build-backend": "hatchling.build"}
    doc["project"] = {
        "name": name,
        "version": "0.1.0",
        "description": description,
        "requires-python": ">=3.10",
        "dependencies": [REQUIREMENT],
        "entry-points": {"cdk.connectors": {name: f"{package}:Source"}},
    }
    doc["tool"] = {
        "hatch": {
            "build": {
                "targets": {
                    "wheel": {
                        "packages": [package],
                        "force-include": {
                            "connector.yaml": f"{package}/connector.yaml",
                            "schemas": f"{package}/schemas",
                        },
                    }
                }
            }
        }
    }
    return tomlkit.dumps(doc)


__all__ = ["ImportResult", "generic_missing", "import_source_spec", "read_spec_json", "slug"]
