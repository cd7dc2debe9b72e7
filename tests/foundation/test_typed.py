"""cdk ships typed (PEP 561): ``cdk/py.typed`` is in the package and in the wheel hatch builds, so connector
authors' type checkers read cdk's annotations instead of treating it as untyped."""

from __future__ import annotations

from pathlib import Path

import cdk

REPO = Path(__file__).resolve().parents[2]


def test_py_typed_marker_is_in_the_package() -> None:
    assert (Path(cdk.__file__).parent / "py.typed").is_file()


def test_the_wheel_build_includes_py_typed() -> None:
    # the files hatch's wheel builder would pack, listed without building anything
    from hatchling.builders.wheel import WheelBuilder

    files = {f.distribution_path.replace("\\", "/") for f in WheelBuilder(str(REPO)).recurse_included_files()}
    assert "cdk/py.typed" in files
    assert "cdk/__init__.py" in files
