"""Atomic file writes (an interrupted cdk never leaves a half-written file) and safe reads of inputs."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

#: The largest input file cdk reads whole (a connector's YAML, JSON, TOML or Python file).
MAX_INPUT_BYTES = 16 * 1024 * 1024


def read_input_bytes(
    path: str | os.PathLike[str], *, shown: str | None = None, max_bytes: int = MAX_INPUT_BYTES
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; InputError otherwise.

    Opened non-blocking and checked with fstat, so a FIFO or a device in place of a file is refused
    at once instead of hanging, and a file swapped after a check is still the one checked."""
    from cdk.errors import InputError
    from cdk.findings import Finding

    name = shown or str(path)

    def refuse(message: str, hint: str | None = None) -> InputError:
        return InputError(
            f"{name}: {message}", problem=Finding(file=name, line=0, column=0, message=message), hint=hint
        )

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise refuse("no such file") from None
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a folder"
                if stat.S_ISDIR(info.st_mode)
                else "a FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "not a regular file"
            )
            raise refuse(f"is {kind}; cdk reads regular files only", hint="replace it with a regular file")
        if info.st_size > max_bytes:
            raise refuse(f"is larger than {max_bytes:,} bytes ({info.st_size:,})")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise refuse(f"is larger than {max_bytes:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_input_text(
    path: str | os.PathLike[str], *, shown: str | None = None, max_bytes: int = MAX_INPUT_BYTES
) -> str:
    """:func:`read_input_bytes` decoded as UTF-8 (a leading BOM dropped); InputError naming the line otherwise."""
    from cdk.errors import InputError
    from cdk.findings import Finding

    name = shown or str(path)
    data = read_input_bytes(path, shown=name, max_bytes=max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        message = f"is not UTF-8 (byte 0x{data[exc.start]:02x} at line {line})"
        raise InputError(
            f"{name}:{line}:{column + 1}: {message}",
            problem=Finding(file=name, line=line, column=column, message=message),
            hint="save the file as UTF-8",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, then rename over it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    """Text form of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def parse_json(text: str, shown: str) -> object:
    """JSON text as data; InputError at the offending line and column for anything it cannot be.

    Beyond syntax errors: nesting deep enough to exhaust the parser's recursion, and numbers Python will
    not convert (an integer of more than 4,300 digits) are located errors too, never a crash."""
    import json

    from cdk.errors import InputError
    from cdk.findings import Finding

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg}"
        where = (exc.lineno, exc.colno - 1)
    except RecursionError:
        message, where = "not readable JSON: nested too deeply", (1, 0)
    except ValueError as exc:
        message, where = f"not readable JSON: {exc}", (1, 0)
    raise InputError(
        f"{shown}:{where[0]}:{where[1] + 1}: {message}",
        problem=Finding(file=shown, line=where[0], column=where[1], message=message),
    )


def parse_toml(text: str, shown: str) -> dict[str, object]:
    """TOML text as data; InputError at the offending line and column (syntax, nesting that exhausts
    the parser's recursion, numbers Python will not convert), never a crash."""
    import re

    from cdk._compat import tomllib
    from cdk.errors import InputError
    from cdk.findings import Finding

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(found.group(1)), int(found.group(2)) - 1) if found else (1, 0)
        message = str(exc).split(" (at line")[0]
    except RecursionError:
        line, col, message = 1, 0, "nested too deeply"
    except ValueError as exc:
        line, col, message = 1, 0, str(exc)
    raise InputError(
        f"{shown}:{line}:{col + 1}: not valid TOML: {message}",
        problem=Finding(file=shown, line=line, column=col, message=message),
    )


def parse_python(source: str, shown: str) -> object:
    """``ast.parse`` whose every failure is a SyntaxError with a position (returned, not raised, by callers
    that report it as a finding): null bytes, nesting that exhausts the parser or compiler recursion,
    and trees deeper than :data:`MAX_AST_DEPTH` (the recursive visitors of the validators need room)."""
    import ast

    try:
        tree = ast.parse(source, filename=shown)
    except SyntaxError:
        raise
    except (RecursionError, MemoryError, ValueError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError | MemoryError) else str(exc)
        raise SyntaxError(reason, (shown, 1, 1, None)) from None
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_AST_DEPTH:
            line = getattr(node, "lineno", 1)
            raise SyntaxError(
                f"nested deeper than {MAX_AST_DEPTH} levels",
                (shown, line, getattr(node, "col_offset", 0) + 1, None),
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree


#: Deeper Python syntax trees are refused: the validators walk trees recursively.
MAX_AST_DEPTH = 200


def special_files(
    root: str | os.PathLike[str], skip: frozenset[str] | set[str] = frozenset()
) -> list[tuple[str, str, str]]:
    """Entries under ``root`` that are not regular files or folders: ``(relative path, kind, detail)``.

    ``kind`` is ``"symlink"`` (detail: the link's target as written), ``"fifo"``, ``"socket"`` or
    ``"device"``. Links are never followed; folders named in ``skip`` (virtualenvs, caches, git) are not
    entered. Sorted by path."""
    base = Path(root)
    found: list[tuple[str, str, str]] = []
    for folder, dirs, files in os.walk(base, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in skip or (Path(folder) / d).is_symlink())
        for name in [*dirs, *files]:
            path = Path(folder) / name
            rel = path.relative_to(base).as_posix()
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                found.append((rel, "symlink", os.readlink(path)))
            elif stat.S_ISFIFO(mode):
                found.append((rel, "fifo", ""))
            elif stat.S_ISSOCK(mode):
                found.append((rel, "socket", ""))
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                found.append((rel, "device", ""))
    return sorted(found)
