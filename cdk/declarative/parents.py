"""Static checks of child streams (``parent:``), rules R030–R035 of ``cdk validate``.

Kept apart from :mod:`cdk.declarative.checks` because they look across streams (a parent's schema, the
chain of parents) where the other rules look at one stream at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdk.declarative.spec import DeclarativeSpec, StreamSpec
    from cdk.project import Project

#: the answer of :func:`schema_has` when the schema cannot tell
UNKNOWN = None


def schema_has(schema: dict[str, Any] | None, field: str, wrapper: str | None) -> bool | None:
    """Whether a record schema declares the dotted ``field`` (at the top, else inside the wrapper, as
    the engine looks it up); None when it cannot tell (no schema, or an object without properties)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return UNKNOWN
    tries = [field.split(".")]
    if wrapper:
        tries.append([wrapper, *field.split(".")])
    unknown = False
    for parts in tries:
        node: Any = schema
        for part in parts:
            props = node.get("properties") if isinstance(node, dict) else None
            if not isinstance(props, dict) or not props:
                unknown = True  # an open object: anything may be inside
                break
            if part not in props:
                node = None
                break
            node = props[part]
        else:
            return True
    return UNKNOWN if unknown else False


def schema_node(schema: dict[str, Any] | None, field: str, wrapper: str | None) -> dict[str, Any] | None:
    """The schema the dotted ``field`` has (at the top, else inside the wrapper); None when not declared."""
    if not isinstance(schema, dict):
        return None
    for parts in [field.split(".")] + ([[wrapper, *field.split(".")]] if wrapper else []):
        node: Any = schema
        for part in parts:
            props = node.get("properties") if isinstance(node, dict) else None
            if not isinstance(props, dict) or part not in props:
                node = None
                break
            node = props[part]
        if isinstance(node, dict):
            return node
    return None


def _only_containers(node: dict[str, Any] | None) -> str | None:
    """'object' or 'array' when the schema admits nothing else (no string, number, boolean); else None."""
    if node is None:
        return None
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not isinstance(kinds, list) or not kinds:
        return None
    rest = {k for k in kinds if k != "null"}
    return next(iter(rest)) if rest and rest <= {"object", "array"} and len(rest) == 1 else None


def _key_wrapper(stream: StreamSpec) -> str | None:
    """The wrapper the engine looks inside for a field that is not at the top of the record."""
    from cdk.declarative.engine import wrapper_name
    from cdk.declarative.paths import compile_path

    if stream.explodeEntityPath is not None:
        try:
            names = compile_path(stream.explodeEntityPath.path).names
        except ValueError:
            return None
        return stream.explodeEntityPath.overrideWrapperAttribute or (names[-1] if names else None)
    try:
        names = compile_path(stream.contentPath.path).names
    except ValueError:
        return None
    return wrapper_name(stream.contentPath.overrideWrapperAttribute, names)


def _parent_schema(project: Project, name: str) -> dict[str, Any] | None:
    from cdk.declarative import stream_schema

    try:
        return stream_schema(project, name)
    except Exception:  # noqa: BLE001 - a schema that cannot be loaded is reported by R013/M-rules
        return None


def _parent_uses(stream: StreamSpec) -> list[tuple[tuple[Any, ...], str, str]]:
    """(where, placeholder, parent field) for every parent value a stream's requests use."""
    from cdk.declarative.engine import PARENT_PREFIX, placeholders, request_strings

    out: list[tuple[tuple[Any, ...], str, str]] = []
    mapped = stream.parent.fields if stream.parent is not None else {}
    for where, text in request_strings(stream):
        for ph in placeholders(text):
            if ph.startswith(PARENT_PREFIX):
                out.append((where, ph, ph[len(PARENT_PREFIX) :]))
            elif ph in mapped:
                out.append((where, ph, mapped[ph]))
    return out


def check_parents(project: Project, spec: DeclarativeSpec, add: Any) -> None:
    """Report unknown parents, cycles, parent fields missing from the parent's schema, and
    ``${parent.x}`` in a stream without a parent; ``add`` is the checks' located-finding callback."""
    for name, stream in spec.streams.items():
        uses = _parent_uses(stream)
        parent = stream.parent
        if parent is None:
            for where, ph, _ in uses:
                add(
                    "R034",
                    name,
                    where,
                    f"{'.'.join(map(str, where))}: '${{{ph}}}' needs a parent stream, and '{name}' declares none",
                    "add parent: {stream: <parent stream>} to the stream",
                )
            continue
        if parent.stream not in spec.streams:
            add(
                "R030",
                name,
                ("parent", "stream"),
                f"parent.stream '{parent.stream}' is not a declarative stream (streams: {', '.join(spec.streams)})",
                "name one of the streams under declarative.streams",
            )
            continue
        chain = [name]
        at: str | None = parent.stream
        while at is not None and at not in chain and at in spec.streams:
            chain.append(at)
            up = spec.streams[at].parent
            at = up.stream if up is not None else None
        if at is not None and at in chain:
            add(
                "R031",
                name,
                ("parent", "stream"),
                f"parent streams form a cycle: {' -> '.join([*chain[chain.index(at) :], at])}",
                "a stream cannot be its own parent or ancestor",
            )
            continue
        if not uses:
            add(
                "R035",
                name,
                ("parent",),
                f"stream '{name}' declares parent '{parent.stream}' but its requests use none of its values, "
                "so every parent record gives the same requests (read once)",
                "map a parent field into a placeholder: parent.fields {campaignId: id} with ${campaignId}, "
                "or ${parent.id}",
            )
        _check_fields(project, spec, name, stream, uses, add)


def _check_fields(
    project: Project,
    spec: DeclarativeSpec,
    name: str,
    stream: StreamSpec,
    uses: list[tuple[tuple[Any, ...], str, str]],
    add: Any,
) -> None:
    parent = stream.parent
    assert parent is not None
    schema = _parent_schema(project, parent.stream)
    wrapper = _key_wrapper(spec.streams[parent.stream])
    checked: set[str] = set()
    fields: list[tuple[tuple[Any, ...], str]] = [
        (("parent", "fields", ph), field) for ph, field in parent.fields.items()
    ]
    fields += [(where, field) for where, ph, field in uses if ph not in parent.fields]
    for where, field in fields:
        if field in checked:
            continue
        checked.add(field)
        found = schema_has(schema, field, wrapper)
        container = _only_containers(schema_node(schema, field, wrapper)) if found else None
        if container is not None:
            add(
                "R036",
                name,
                where,
                f"parent field '{field}' is an {container} in the schema of stream '{parent.stream}': a "
                "placeholder needs a string or a number (the read would stop at the first parent record)",
                f"name a field inside it with a dotted name ('{field}.id', '{field}.login')",
            )
        elif found is False:
            add(
                "R032",
                name,
                where,
                f"parent field '{field}' is not in the schema of stream '{parent.stream}'",
                "name a field of the parent's records (dotted for nested ones), or add it to its schema",
            )
        elif found is UNKNOWN:
            add(
                "R033",
                name,
                where,
                f"parent field '{field}' cannot be checked: the schema of stream '{parent.stream}' does "
                "not describe that part of its records",
                "declare the parent stream's schema (streams: schema, or the spec's schema)",
            )


__all__ = ["check_parents", "schema_has"]
