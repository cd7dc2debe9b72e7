"""Record modes are one enum: the CLI, the pytest option and the cassettes derive from it, and a bad
value is refused naming the allowed ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdk.cli.test import test as cdk_test
from cdk.errors import InvalidModeError, UsageError
from cdk.testing.cassettes import Cassette
from cdk.testing.modes import CassetteMode, RecordMode
from cdk.testing.plugin import pytest_addoption


def test_the_values_are_what_users_type() -> None:
    assert [m.value for m in RecordMode] == ["none", "all", "missing"]
    assert RecordMode("missing") is RecordMode.MISSING and RecordMode.ALL == "all"
    assert str(RecordMode.ALL) == "all" and f"--cdk-record={RecordMode.NONE}" == "--cdk-record=none"


@pytest.mark.parametrize(
    ("mode", "exists", "records"),
    [
        (RecordMode.NONE, True, False),
        (RecordMode.NONE, False, False),
        (RecordMode.ALL, True, True),
        (RecordMode.ALL, False, True),
        (RecordMode.MISSING, True, False),
        (RecordMode.MISSING, False, True),
    ],
)
def test_a_record_mode_decides_each_cassette(mode: RecordMode, exists: bool, records: bool) -> None:
    assert mode.records(cassette_exists=exists) is records


def test_a_bad_record_mode_names_itself_and_the_allowed_ones() -> None:
    with pytest.raises(InvalidModeError) as info:
        RecordMode("once")
    assert str(info.value) == "'once' is not a record mode; expected one of: none, all, missing"
    assert "--record=missing" in (info.value.hint or "")
    # a usage error (exit 2) and, as an enum promises, a ValueError
    assert isinstance(info.value, UsageError) and isinstance(info.value, ValueError)
    assert info.value.exit_code == 2


def test_a_cassette_takes_its_mode_from_the_enum(tmp_path: Path) -> None:
    assert Cassette(tmp_path / "c.json", mode="record").mode is CassetteMode.RECORD
    assert Cassette(tmp_path / "c.json").mode is CassetteMode.REPLAY
    with pytest.raises(
        InvalidModeError, match="'recording' is not a cassette mode; expected one of: replay, record, block"
    ):
        Cassette(tmp_path / "c.json", mode="recording")


def test_cdk_test_record_choices_come_from_the_enum() -> None:
    option = next(p for p in cdk_test.params if p.name == "record")
    assert list(option.type.choices) == ["all", "missing"]  # type: ignore[attr-defined]
    assert option.flag_value == "all"
    result = CliRunner().invoke(cdk_test, ["--record=once"])
    assert result.exit_code == 2 and "'once' is not one of 'all', 'missing'" in result.output


def test_the_pytest_option_choices_come_from_the_enum() -> None:
    seen: dict[str, dict[str, object]] = {}

    class Group:
        def addoption(self, name: str, **kwargs: object) -> None:
            seen[name] = kwargs

    class Parser:
        def getgroup(self, *args: object) -> Group:
            return Group()

    pytest_addoption(Parser())
    assert list(seen["--cdk-record"]["choices"]) == ["none", "all", "missing"]  # type: ignore[call-overload]
    assert seen["--cdk-record"]["default"] == "none"


def test_pytest_refuses_a_bad_cdk_record(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", "--cdk-record=once"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 4
    assert "invalid choice: 'once'" in proc.stderr and "'missing'" in proc.stderr
