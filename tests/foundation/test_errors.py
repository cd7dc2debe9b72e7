"""cdk.errors is the one exception hierarchy: the tree drawn in its docstring is the real one, and no
exception class is defined anywhere else in the package."""

from __future__ import annotations

import ast
import builtins
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cdk import errors

PACKAGE = Path(errors.__file__).parent
# one line of the drawn tree: box-drawing indent, class name, optional "(exit code)", the why
TREE_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)\s+(?:\((?P<code>\d)\))?")


def drawn_tree() -> dict[str, tuple[str | None, int | None]]:
    """Every class drawn in the module docstring: name -> (drawn parent, drawn exit code)."""
    block = (errors.__doc__ or "").split("::", 1)[1]
    drawn: dict[str, tuple[str | None, int | None]] = {}
    stack: list[str] = []
    for line in block.splitlines():
        m = TREE_LINE.match(line.removeprefix("    "))
        if not m or not line.startswith("    "):
            if drawn and line.strip() and not line.startswith("    "):
                break  # the prose after the drawing
            continue
        depth = len(m["indent"]) // 4
        del stack[depth:]
        parent = stack[-1] if stack else None
        drawn[m["name"]] = (parent, int(m["code"]) if m["code"] else None)
        stack.append(m["name"])
    return drawn


def defined_exceptions() -> dict[str, type[BaseException]]:
    return {
        name: obj
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    }


def test_the_drawn_tree_is_the_real_tree() -> None:
    drawn = drawn_tree()
    defined = defined_exceptions()
    assert set(defined) == set(drawn) - {"AssertionError"}, "draw every class of cdk.errors, and only those"
    for name, (parent, code) in drawn.items():
        if name == "AssertionError":
            continue
        cls = defined[name]
        parent = parent or "Exception"  # a root of the drawing
        assert cls.__bases__[0].__name__ == parent, f"{name} is drawn under {parent}"
        if issubclass(cls, errors.CdkError):
            assert code == cls.exit_code, (
                f"{name} is drawn with exit {code}, its exit_code is {cls.exit_code}"
            )
        else:
            assert code is None, f"{name} is not a CdkError, so it has no exit code"
    assert set(errors.__all__) == set(defined) | {"Problem"}


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.UsageError, 2),
        (errors.AnswerError, 2),
        (errors.VersionRefused, 1),
        (errors.AlreadyPublished, 1),
        (errors.PackagingError, 1),
        (errors.TestsFailed, 1),
        (errors.FolderNotEmptyError, 1),
        (errors.SecretLeakError, 1),
        (errors.CassetteFormatError, 1),
        (errors.UnrecordedRequestError, 1),
        (errors.NetworkBlockedError, 1),
        (errors.TransientError, 3),
        (errors.RateLimitedError, 3),
        (errors.OutsideError, 3),
    ],
)
def test_exit_codes_follow_the_convention(cls: type[errors.CdkError], code: int) -> None:
    """1: the check said no; 2: usage; 3: an outside failure (DESIGN §10)."""
    assert cls.exit_code == code


def test_answer_error_is_a_usage_error_and_a_value_error() -> None:
    """A bad answer exits 2 when it escapes, and click's prompt treats it as a bad value."""
    exc = errors.AnswerError("name 'X' must be lowercase")
    assert isinstance(exc, errors.UsageError) and isinstance(exc, ValueError)
    assert str(exc) == "name 'X' must be lowercase" and exc.hint is None


def test_standard_test_failures_are_assertions_not_cdk_errors() -> None:
    """A test's verdict, not a command's failure: `except CdkError` handlers must not catch it."""
    assert issubclass(errors.PaginationNeverEnds, errors.StandardTestFailure)
    assert issubclass(errors.StandardTestFailure, AssertionError)
    assert not issubclass(errors.StandardTestFailure, errors.CdkError)


def test_no_exception_class_is_defined_outside_cdk_errors() -> None:
    exception_names = {
        name
        for name, obj in vars(builtins).items()
        if isinstance(obj, type) and issubclass(obj, BaseException)
    } | set(defined_exceptions())
    outside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            if bases & exception_names:
                outside.append(f"{path.relative_to(PACKAGE.parent)}: class {node.name}")
    assert outside == [], "define exception classes in cdk/errors.py (and draw them in its tree)"


def test_importing_cdk_errors_stays_light() -> None:
    code = (
        "import sys, cdk.errors\n"
        "heavy = {'pydantic', 'requests', 'yaml', 'click', 'jsonschema'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
