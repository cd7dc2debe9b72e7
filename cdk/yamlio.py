"""The one YAML loader of cdk: every YAML file cdk reads (connector.yaml, answers files, cassettes, the
manifest inside a wheel) goes through :func:`load_yaml` or :func:`parse_yaml`.

It is PyYAML's safe loader (the C one when available) plus what a hostile or broken document needs:

* limits checked on the event stream, before anything is built: nesting depth, the size of the
  document once aliases are expanded (a "billion laughs" document is refused after a few hundred
  events, not after 20 s and a MemoryError), recursive aliases;
* duplicate keys are errors naming both lines (YAML 1.2 forbids them; PyYAML lets the last one win);
* keys are scalars (no mapping or list as a key), ``<<`` merge keys and unknown tags are refused;
* anything else the constructor refuses (a 5,000-digit integer, bad base64 in ``!!binary``) is a
  located error too.

Every failure is a :class:`cdk.errors.InputError` whose ``problem`` carries file, line and column.
Reading the file itself (regular files only, a size limit, UTF-8) is :func:`cdk.fsutil.read_input_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk.errors import InputError
from cdk.findings import Finding

MAX_DEPTH = 64
MAX_NODES = 1_000_000  # nodes of the document with every alias expanded
MAX_BYTES = 8 * 1024 * 1024
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Limits:
    """How big a document may be; cassettes, which hold recorded bodies, get a larger ``max_bytes``."""

    max_depth: int = MAX_DEPTH
    max_nodes: int = MAX_NODES
    max_bytes: int = MAX_BYTES


DEFAULT_LIMITS = Limits()
#: Cassettes hold recorded response bodies: larger files, same structure limits.
CASSETTE_LIMITS = Limits(max_bytes=256 * 1024 * 1024, max_nodes=5_000_000)


class Positions:
    """Line/column of every key and value of a YAML document, by path (tuple of keys and indexes)."""

    def __init__(self) -> None:
        self.values: dict[tuple[Any, ...], tuple[int, int]] = {}
        self.keys: dict[tuple[Any, ...], tuple[int, int]] = {}

    def locate(self, path: tuple[Any, ...], *, key: bool = False) -> tuple[int, int]:
        """Best position for ``path``: the exact key/value, else the closest enclosing one. 1-based line, 0-based col."""
        path = tuple(path)
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        for i in range(len(path), -1, -1):
            prefix = path[:i]
            if prefix in self.keys and i < len(path):
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return (1, 0)


def _fail(file: str, mark: Any, message: str, hint: str = "") -> InputError:
    line, col = (mark.line + 1, mark.column) if mark is not None else (1, 0)
    return InputError(
        f"{file}:{line}:{col + 1}: {message}",
        problem=Finding(file=file, line=line, column=col, message=message, hint=hint),
        hint=hint or None,
    )


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_events(text: str, file: str, limits: Limits) -> None:
    """Walk the event stream once: depth, expanded size and recursive aliases, before composing."""
    import yaml

    depth = 0
    sizes: list[int] = [0]  # expanded node count of each open collection (the bottom one: the documents)
    anchors: list[str | None] = [None]
    done: dict[str, int] = {}  # anchor -> expanded node count of its (closed) node
    total = 0
    for event in yaml.parse(text, Loader=_loader()):
        weight = 0
        if isinstance(event, yaml.AliasEvent):
            anchor = event.anchor
            if anchor in anchors:
                raise _fail(file, event.start_mark, f"the alias *{anchor} refers to a node that contains it")
            if anchor not in done:
                raise _fail(file, event.start_mark, f"the alias *{anchor} refers to no anchor before it")
            weight = done[anchor]
        elif isinstance(event, yaml.ScalarEvent):
            weight = 1
            if event.anchor:
                done[event.anchor] = 1
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise _fail(file, event.start_mark, f"nested deeper than {limits.max_depth} levels")
            sizes.append(1)
            anchors.append(event.anchor)
            continue
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
            weight = sizes.pop()
            anchor = anchors.pop()
            if anchor:
                done[anchor] = weight
        else:
            continue
        sizes[-1] += weight
        total += weight if depth == 0 else 0
        if sizes[-1] > limits.max_nodes or total > limits.max_nodes:
            raise _fail(
                file,
                event.start_mark,
                f"the document expands to more than {limits.max_nodes:,} nodes (aliases included)",
                hint="a document this large is not a connector file; check for alias bombs",
            )


def parse_yaml(text: str, file: str, *, limits: Limits = DEFAULT_LIMITS) -> tuple[Any, Positions]:
    """Parse YAML text once; return plain data and the position of every node. Raises InputError."""
    import yaml

    if len(text) > limits.max_bytes:
        raise InputError(
            f"{file}: larger than {limits.max_bytes:,} bytes",
            problem=Finding(file=file, line=1, column=0, message=f"larger than {limits.max_bytes:,} bytes"),
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    loader = _loader()
    try:
        _check_events(text, file, limits)
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _fail(file, mark, f"YAML syntax error: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # unmarked: e.g. a reader error on a control character
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "mark", None)
        raise _fail(file, mark, f"not valid YAML: {exc}") from None
    except UnicodeError as exc:  # a str holding lone surrogates (never read from a UTF-8 file)
        raise _fail(file, None, f"not valid text: {exc}") from None
    positions = Positions()
    if root is None:
        return None, positions
    constructor = loader("")
    try:
        return _to_data(root, (), positions, constructor, file), positions
    finally:
        constructor.dispose()


def _construct(node: Any, constructor: Any, file: str) -> Any:
    import yaml

    if node.tag == MERGE_TAG:
        raise _fail(
            file,
            node.start_mark,
            "merge keys (<<) are not supported",
            hint="write the keys out (or use a YAML anchor for a whole value)",
        )
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        raise _fail(file, exc.problem_mark or node.start_mark, str(exc.problem or exc)) from None
    except (ValueError, TypeError, OverflowError, LookupError, ArithmeticError, yaml.YAMLError) as exc:
        # PyYAML's scalar constructors fail on some odd scalars (IndexError on "0b", the int digit limit)
        raise _fail(file, node.start_mark, f"cannot read this value: {type(exc).__name__}: {exc}") from None


def _to_data(node: Any, path: tuple[Any, ...], positions: Positions, constructor: Any, file: str) -> Any:
    import yaml

    positions.values[path] = (node.start_mark.line + 1, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        if node.tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:set"):
            raise _fail(file, node.start_mark, f"unknown tag {node.tag} on a mapping")
        out: dict[Any, Any] = {}
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _fail(file, key_node.start_mark, "a key must be a plain value, not a mapping or a list")
            key = _construct(key_node, constructor, file)
            try:
                hash(key)
            except TypeError:
                raise _fail(
                    file, key_node.start_mark, f"a key must be a plain value, not {type(key).__name__}"
                ) from None
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _fail(
                    file,
                    key_node.start_mark,
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    hint="a key may appear once in a mapping; remove or merge one of them",
                )
            seen[key] = line
            positions.keys[path + (key,)] = (line, key_node.start_mark.column)
            out[key] = _to_data(value_node, path + (key,), positions, constructor, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise _fail(file, node.start_mark, f"unknown tag {node.tag} on a list")
        return [
            _to_data(item, path + (i,), positions, constructor, file) for i, item in enumerate(node.value)
        ]
    return _construct(node, constructor, file)


def compose_yaml(text: str, file: str, *, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The node tree of a document that :func:`parse_yaml` accepts (for edits that keep the text as it is)."""
    import yaml

    parse_yaml(text, file, limits=limits)
    return yaml.compose(text.removeprefix("\ufeff"), Loader=_loader())


def load_yaml(text: str, file: str, *, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The data of a YAML document (see :func:`parse_yaml`)."""
    return parse_yaml(text, file, limits=limits)[0]


def read_yaml(
    path: str | Path, *, shown: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[Any, Positions]:
    """Read a YAML file (regular files only, within ``limits.max_bytes``, UTF-8) and parse it."""
    from cdk.fsutil import read_input_text

    name = shown or str(path)
    return parse_yaml(read_input_text(path, shown=name, max_bytes=limits.max_bytes), name, limits=limits)
