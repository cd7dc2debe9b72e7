"""Each suite on a real connector folder: what a user breaks, the rule, file and line they are told."""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_fixture import CONNECTOR_FILES

from cdk.validators.engine import validate_code, validate_project
from cdk.validators.policy import load_policy

SOURCE = CONNECTOR_FILES["demo_connector/source.py"]
PYPROJECT = CONNECTOR_FILES["pyproject.toml"]
MANIFEST = CONNECTOR_FILES["connector.yaml"]
CONFIG_SCHEMA = CONNECTOR_FILES["schemas/config.json"]


def hits(report, rule: str):
    return [f for f in report.findings if f.rule == rule]


def one(report, rule: str):
    found = hits(report, rule)
    assert len(found) == 1, (rule, [(f.rule, f.file, f.line, f.message) for f in report.findings])
    return found[0]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_realistic_connector_is_clean(make_connector) -> None:
    report = validate_project(make_connector())
    assert report.findings == [], [(f.rule, f.file, f.line, f.message) for f in report.findings]
    assert report.valid


# --- manifest -----------------------------------------------------------------------------------
def test_broken_manifest_becomes_findings_and_other_suites_still_run(make_connector) -> None:
    manifest = MANIFEST.replace("name: demo", "name: Demo Connector").replace("version: 1.0.0", "version: v1")
    source = "import os\n" + SOURCE
    report = validate_project(
        make_connector(files={"connector.yaml": manifest, "demo_connector/source.py": source})
    )
    assert one(report, "M002").line == 2
    assert one(report, "M003").line == 3
    assert one(report, "S001").file == "demo_connector/source.py"  # security ran despite the manifest


def test_yaml_syntax_error_is_located(make_connector) -> None:
    report = validate_project(
        make_connector(files={"connector.yaml": MANIFEST.replace("kind: source", "kind: [source")})
    )
    f = one(report, "M012")
    assert f.file == "connector.yaml" and f.line >= 5


def test_syntax_error_is_a_finding_and_other_files_still_checked(make_connector) -> None:
    root = make_connector(
        files={
            "demo_connector/broken.py": "def get(self)\n    return 1\n",
            "demo_connector/helpers.py": "import subprocess\n",
        }
    )
    report = validate_project(root)
    f = one(report, "Y001")
    assert (f.file, f.line, f.column) == ("demo_connector/broken.py", 1, 13)
    assert one(report, "S013").file == "demo_connector/helpers.py"


def test_entrypoint_module_and_class(make_connector) -> None:
    r = validate_project(
        make_connector(
            "a",
            files={
                "connector.yaml": MANIFEST.replace(
                    "demo_connector.source:DemoSource", "demo_connector.nope:DemoSource"
                )
            },
        )
    )
    assert one(r, "M004").line == line_of(MANIFEST, "entrypoint:")
    r = validate_project(
        make_connector("b", files={"connector.yaml": MANIFEST.replace("source:DemoSource", "source:Missing")})
    )
    assert "Missing" in one(r, "M005").message


def test_stream_schema_problems(make_connector) -> None:
    r = validate_project(
        make_connector(
            "a",
            files={"schemas/users.json": None, "connector.yaml": MANIFEST.replace("users.json", "user.json")},
        )
    )
    assert one(r, "M006").line == line_of(MANIFEST, "schemas/users.json")
    r = validate_project(
        make_connector("b", files={"schemas/users.json": '{\n  "type": "object",\n  "properties": {,}\n}'})
    )
    f = one(r, "M006")
    assert (f.file, f.line) == ("schemas/users.json", 3)
    r = validate_project(
        make_connector(
            "c",
            files={
                "schemas/users.json": CONNECTOR_FILES["schemas/users.json"].replace(
                    '"type": "object"', '"type": "objekt"'
                )
            },
        )
    )
    assert "objekt" in one(r, "M007").message
    r = validate_project(
        make_connector(
            "d",
            files={
                "connector.yaml": MANIFEST.replace("primary_key: [id]", "primary_key: [uuid]").replace(
                    "cursor_field: updated_at", "cursor_field: updated"
                )
            },
        )
    )
    assert one(r, "M008").line == line_of(MANIFEST, "primary_key")
    assert one(r, "M009").line == line_of(MANIFEST, "cursor_field")


# --- config -------------------------------------------------------------------------------------
def test_config_schema_invalid_against_meta_schema(make_connector) -> None:
    r = validate_project(
        make_connector(
            files={
                "schemas/config.json": CONFIG_SCHEMA.replace(
                    '"required": ["api_token"]', '"required": "api_token"'
                )
            }
        )
    )
    assert "required" in one(r, "C001").message


def test_config_2020_12_schema_accepted(make_connector) -> None:
    schema = CONFIG_SCHEMA.replace(
        "http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2020-12/schema"
    )
    assert validate_project(make_connector(files={"schemas/config.json": schema})).findings == []


def test_config_model_and_schema_disagree_field_by_field(make_connector) -> None:
    source = (
        SOURCE.replace("    page_size: int = 100\n", "    page_size: str = 100\n    retries: int = 3\n")
        .replace('region: Literal["us", "eu"] = "us"', 'region: Literal["us", "eu", "ap"] = "eu"')
        .replace("    api_token: SecretStr\n", "    api_token: SecretStr\n    extra: str = 'x'\n")
    )
    schema = CONFIG_SCHEMA.replace(
        '"base_url": {"type": "string", "default": "https://api.demo.io"},',
        '"base_url": {"type": "string", "default": "https://api.demo.io"},\n    "timeout": {"type": "number"},',
    )
    r = validate_project(
        make_connector(files={"demo_connector/source.py": source, "schemas/config.json": schema})
    )
    assert one(r, "C005").line == line_of(source, "page_size: str")
    assert {f.message.split("'")[1] for f in hits(r, "C003")} == {"retries", "extra"}
    c4 = one(r, "C004")
    assert (c4.file, c4.line) == ("schemas/config.json", line_of(schema, '"timeout"'))
    assert one(r, "C007").line == line_of(source, "region:")
    assert one(r, "C008").line == line_of(source, "region:")


def test_config_required_and_secret_marking(make_connector) -> None:
    schema = CONFIG_SCHEMA.replace(', "writeOnly": true', "").replace(
        '"required": ["api_token"]', '"required": []'
    )
    r = validate_project(make_connector(files={"schemas/config.json": schema}))
    assert one(r, "C006").line == line_of(SOURCE, "api_token: SecretStr")
    secret = [f for f in hits(r, "C010")]
    assert secret and all(
        f.file == "schemas/config.json" and f.line == line_of(schema, '"api_token"') for f in secret
    )


def test_sample_config_must_validate(make_connector) -> None:
    sample = '{\n  "api_token": "CDK_ENV_T",\n  "page_size": "fifty"\n}\n'
    r = validate_project(make_connector(files={"tests/config.json": sample}))
    f = one(r, "C009")
    assert (f.file, f.line) == ("tests/config.json", 3)


# --- capabilities -------------------------------------------------------------------------------
def test_missing_method_for_declared_capability(make_connector) -> None:
    source = SOURCE.split("    def get_records_after")[0]
    r = validate_project(make_connector(files={"demo_connector/source.py": source}))
    f = one(r, "A001")
    assert "get_records_after" in f.message and "incremental" in f.message
    assert f.line == line_of(source, "class DemoSource")


def test_incompatible_signatures(make_connector) -> None:
    source = SOURCE.replace(
        "def get(self, pagination: dict[str, Any] | None = None)", "def get(self)"
    ).replace("    @staticmethod\n    def streams() -> list[str]:", "    def streams(self) -> list[str]:")
    r = validate_project(make_connector(files={"demo_connector/source.py": source}))
    lines = sorted(f.line for f in hits(r, "A002"))
    assert lines == [line_of(source, "def streams"), line_of(source, "def get(self)")]


def test_methods_on_a_base_class_inside_the_package_count(make_connector) -> None:
    base = (
        '"""Shared base."""\nfrom cdk import AbstractSource\n\n\nclass Base(AbstractSource):\n'
        "    def check_connection(self):\n        return True, None\n"
    )
    source = (
        SOURCE.replace("from cdk import AbstractSource,", "from .base import Base\nfrom cdk import")
        .replace("class DemoSource(AbstractSource):", "class DemoSource(Base):")
        .replace(
            '    def check_connection(self) -> tuple[bool, str | None]:\n        r = self.session.get(f"{self.config.base_url}/me")\n        return r.ok, None if r.ok else r.text\n\n',
            "",
        )
    )
    assert "check_connection" not in source
    r = validate_project(
        make_connector(files={"demo_connector/source.py": source, "demo_connector/base.py": base})
    )
    assert hits(r, "A001") == [], r.findings


def test_undeclared_capability_is_a_warning(make_connector) -> None:
    manifest = MANIFEST.replace("[batch_extract, incremental]", "[batch_extract]")
    r = validate_project(make_connector(files={"connector.yaml": manifest}))
    f = one(r, "A003")
    assert f.severity == "warning" and r.valid and not r.passed(strict=True)


def test_seed_000_contract_is_recognised() -> None:
    code = (
        "from cdk import AbstractSource\n\nclass MySource(AbstractSource):\n    def get_streams(self):\n        return []\n"
        "    def check_connection(self):\n        return True\n"
    )
    r = validate_code(code)
    assert [f.rule for f in r.findings] == ["A001"] and "get_records" in r.findings[0].message
    r = validate_code(code + "    def get_records(self, stream):\n        yield from ()\n")
    assert r.findings == []


# --- dependencies -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dep", "rule"),
    [
        ("requests>=2.0", "D003"),
        ("requests", "D002"),
        ("requests==2.*", "D003"),
        ("requests>=2.31,<3.0.0rc1", "D003"),
        ("requests @ git+https://github.com/psf/requests", "D004"),
        ("leftpad-py>=1.0,<2", "D001"),
        ("requests >> 2", "D005"),
        ("requests~=2.31", None),
        ("requests==2.32.*", None),
        ("requests>=2.31,<3,!=2.32.0", None),
        ("Requests[socks]>=2.31,<3; python_version >= '3.10'", None),
        ("python_dateutil>=2.8.2,<3", None),
        ("requests===2.32.3", None),
    ],
)
def test_dependency_containment(make_connector, dep: str, rule: str | None) -> None:
    pyproject = PYPROJECT.replace(
        '"python-dateutil>=2.8.2,<3",', f'"{dep}",' if '"' not in dep else f"'{dep}',"
    )
    r = validate_project(make_connector(files={"pyproject.toml": pyproject}))
    found = [f for f in r.findings if f.suite == "dependencies"]
    if rule is None:
        assert found == []
    else:
        assert [f.rule for f in found] == [rule]
        assert found[0].file == "pyproject.toml" and found[0].line == line_of(pyproject, dep.split(" ")[0])


def test_range_error_shows_both_ranges(make_connector) -> None:
    pyproject = PYPROJECT.replace('"python-dateutil>=2.8.2,<3",', '"requests>=2.0",')
    msg = one(validate_project(make_connector(files={"pyproject.toml": pyproject})), "D003").message
    assert ">=2.0" in msg and ">=2.31,<3" in msg


def test_requirements_and_lock_files(make_connector) -> None:
    root = make_connector(
        files={
            "requirements.txt": "# pinned\nrequests>=2.31,<3\npendulum>=2.0\n",
            "requirements-dev.txt": "pytest\n",
            "uv.lock": (
                'version = 1\n\n[[package]]\nname = "demo-connector"\nversion = "1.0.0"\nsource = { editable = "." }\n\n'
                '[[package]]\nname = "requests"\nversion = "2.20.0"\nsource = { registry = "https://pypi.org/simple" }\n\n'
                '[[package]]\nname = "leftpad-py"\nversion = "1.0.0"\nsource = { registry = "https://pypi.org/simple" }\n'
            ),
            "pylock.toml": (
                'lock-version = "1.0"\ncreated-by = "pip"\n\n[[packages]]\nname = "urllib3"\nversion = "2.2.1"\n\n'
                '[[packages]]\nname = "idna"\nversion = "2.0"\n'
            ),
        }
    )
    r = validate_project(root)
    d3 = one(r, "D003")
    assert (d3.file, d3.line) == ("requirements.txt", 3)
    d6 = sorted((f.file, f.line) for f in hits(r, "D006"))
    assert d6 == [("pylock.toml", 9), ("uv.lock", 9)]
    d7 = one(r, "D007")
    assert d7.severity == "warning" and d7.file == "uv.lock"


# --- secrets, egress ----------------------------------------------------------------------------
def test_secrets_in_manifest_sample_config_and_code(make_connector) -> None:
    sample = '{\n  "name": "demo",\n  "api_token": "9f8a7c6b5d4e3f2a1b0c"\n}\n'
    source = SOURCE + '\nSTRIPE = "sk_live_' + "4eC39HqLyjWDarjtT1zdp7dc" + '"\n'
    manifest = (
        MANIFEST + "ui: {label: Demo, category: 'ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + "'}\n"
    )
    r = validate_project(
        make_connector(
            files={
                "tests/config.json": sample,
                "demo_connector/source.py": source,
                "connector.yaml": manifest,
            }
        )
    )
    assert [(f.file, f.line) for f in hits(r, "K002")] == [("tests/config.json", 3)]
    assert sorted((f.file, f.line) for f in hits(r, "K001")) == [
        ("connector.yaml", line_of(manifest, "ghp_")),
        ("demo_connector/source.py", line_of(source, "sk_live_")),
    ]


def test_egress_in_code_and_manifest(make_connector) -> None:
    source = SOURCE + '\nMIRROR = "https://mirror.other.io/users"\nOK = "https://api.demo.io/v2"\n'
    manifest = MANIFEST.replace(
        "allowed_hosts: [api.demo.io]",
        "allowed_hosts: [api.demo.io]\ndeclarative:\n  url_base: https://api.other.io\n",
    )
    r = validate_project(
        make_connector(files={"demo_connector/source.py": source, "connector.yaml": manifest})
    )
    assert one(r, "E001").line == line_of(source, "mirror.other.io")
    assert one(r, "E002").line == line_of(manifest, "url_base")


def test_validate_code_checks_egress_against_given_hosts() -> None:
    code = 'URL = "https://api.x.io/a"\nOTHER = "https://sub.y.io/b"\n'
    r = validate_code(code, allowed_hosts=["api.x.io", "*.y.io"])
    assert [f.rule for f in r.findings if f.suite == "egress"] == []
    r = validate_code(code, allowed_hosts=["api.x.io"])
    assert [(f.rule, f.line) for f in r.findings if f.suite == "egress"] == [("E001", 2)]


# --- packaging ----------------------------------------------------------------------------------
def test_packaging_rules(make_connector) -> None:
    r = validate_project(make_connector("a", files={"pyproject.toml": None}))
    assert one(r, "P001")
    pyproject = PYPROJECT.replace('version = "1.0.0"', 'version = "1.0.1"').split("[project.entry-points")[
        0
    ] + ('[tool.hatch.build.targets.wheel]\npackages = ["demo_connector"]\n')
    r = validate_project(make_connector("b", files={"pyproject.toml": pyproject}))
    assert one(r, "P002").line == line_of(pyproject, "version =")
    assert one(r, "P005")
    assert one(r, "P003")
    assert {f.message.split("'")[1] for f in hits(r, "P004")} == {"schemas/users.json", "schemas/config.json"}
    r = validate_project(make_connector("c", files={"pyproject.toml": "[project\nname = 'x'\n"}))
    assert one(r, "P006").line == 1


# --- fixtures -----------------------------------------------------------------------------------
def test_cassette_with_unredacted_header_and_query_secret(make_connector) -> None:
    cassette = (
        CONNECTOR_FILES["tests/cassettes/test_read.yaml"]
        .replace("- REDACTED", "- Bearer 9f8a7c6b5d4e3f2a1b0c")
        .replace("limit=50", "limit=50&api_key=abcd1234efgh")
    )
    r = validate_project(make_connector(files={"tests/cassettes/test_read.yaml": cassette}))
    f1 = one(r, "F001")
    assert (f1.file, f1.line) == ("tests/cassettes/test_read.yaml", line_of(cassette, "Bearer"))
    assert one(r, "F002").line == line_of(cassette, "uri:")


# --- policy layering ----------------------------------------------------------------------------
def test_inline_ignore_only_for_waivable_rules(make_connector) -> None:
    source = SOURCE + "\n\nDOCS = 'https://docs.elsewhere.example/guide'  # cdk: ignore[E001]\n"
    source += "\n\nimport os  # cdk: ignore[S001]\n"
    r = validate_project(make_connector(files={"demo_connector/source.py": source}))
    assert hits(r, "E001") == [] and [f.rule for f in r.suppressed] == ["E001"]
    assert one(r, "S001").line == line_of(source, "import os")
    assert one(r, "L001").line == line_of(source, "import os")


def test_connector_may_waive_waivable_but_not_loosen(make_connector) -> None:
    source = SOURCE + "\n\nDOCS = 'https://docs.elsewhere.example/guide'\n\n\nimport os\n"
    pyproject = (
        PYPROJECT
        + '\n[tool.cdk.validate]\nprofile = "standard"\nwaive = {E001 = "documentation link", S001 = "please"}\n'
    )
    r = validate_project(
        make_connector(files={"demo_connector/source.py": source, "pyproject.toml": pyproject})
    )
    assert hits(r, "E001") == []
    assert one(r, "S001")
    assert sorted(f.line for f in hits(r, "L002")) == [
        line_of(pyproject, "profile ="),
        line_of(pyproject, "waive ="),
    ]


def test_connector_may_tighten(make_connector) -> None:
    pyproject = (
        PYPROJECT
        + '\n[tool.cdk.validate]\nblock_imports = ["json"]\ndependencies = {python-dateutil = ">=2.9,<3"}\n'
    )
    source = SOURCE.replace("from typing import Any, Literal", "import json\nfrom typing import Any, Literal")
    r = validate_project(
        make_connector(files={"pyproject.toml": pyproject, "demo_connector/source.py": source})
    )
    assert one(r, "S001").line == line_of(source, "import json")
    assert one(r, "D003").line == line_of(pyproject, "python-dateutil")


def test_organisation_policy_replaces_default(make_connector, tmp_path: Path, monkeypatch) -> None:
    org = tmp_path / "org.toml"
    org.write_text(
        'replace = true\nprofile = "standard"\nwaivable = []\n[severity]\nP005 = "off"\n'
        '[profiles.standard]\nblocked_imports.S001 = ["os"]\n'
        '[dependencies.allowed]\nconnector-cdk = ">=0.1,<1"\n',
        encoding="utf-8",
    )
    root = make_connector()
    r = validate_project(root, load_policy(org))
    assert one(r, "D001").message.startswith("'python-dateutil'")
    monkeypatch.setenv("CDK_POLICY", str(org))
    assert one(validate_project(root), "D001")


def test_security_holds_for_validate_code_with_standard_profile() -> None:
    r = validate_code("import requests\nimport sys\nx = sys.modules\n", profile="standard")
    assert [(f.rule, f.line, f.column) for f in r.findings if f.suite == "security"] == [("S009", 3, 8)]
    r = validate_code("import requests\n", profile="strict")
    assert [f.rule for f in r.findings if f.suite == "security"] == ["S001"]


def test_placeholder_bodies_do_not_count_but_a_no_op_does(make_connector) -> None:
    stubbed = SOURCE.replace("        return self.get(pagination)\n", "        raise NotImplementedError\n")
    r = validate_project(make_connector("a", files={"demo_connector/source.py": stubbed}))
    assert "get_records_after" in one(r, "A001").message
    no_op = SOURCE.replace("        return self.get(pagination)\n", "        pass\n")
    assert (
        hits(validate_project(make_connector("b", files={"demo_connector/source.py": no_op})), "A001") == []
    )


def test_capabilities_that_do_not_fit_kind_and_bad_hosts(make_connector) -> None:
    manifest = MANIFEST.replace(
        "allowed_hosts: [api.demo.io]", "allowed_hosts: [api.demo.io, 'https://api.demo.io/v1']"
    )
    r = validate_project(make_connector("a", files={"connector.yaml": manifest}))
    assert one(r, "M011").line == line_of(manifest, "allowed_hosts")
    manifest = MANIFEST.replace("kind: source", "kind: destination")
    r = validate_project(make_connector("b", files={"connector.yaml": manifest}))
    assert "batch_extract" in one(r, "M010").message


def test_validate_code_syntax_error_is_located() -> None:
    r = validate_code("import json\n\ndef f(:\n    pass\n")
    assert [(f.rule, f.line, f.column) for f in r.findings] == [("Y001", 3, 6)]
    assert r.to_dict()["valid"] is False and r.to_dict()["errors"][0]["column"] == 6


def test_org_allowlist_replaces_the_shipped_one_and_also_allowed_extends(
    make_connector, tmp_path: Path
) -> None:
    root = make_connector(
        files={"pyproject.toml": PYPROJECT.replace('"python-dateutil>=2.8.2,<3",', '"leftpad-py>=1.2,<2",')}
    )
    assert one(validate_project(root), "D001").message.startswith("'leftpad-py'")
    extend = tmp_path / "extend.toml"
    extend.write_text('[dependencies.also_allowed]\nleftpad-py = ">=1,<2"\n', encoding="utf-8")
    assert [
        f for f in validate_project(root, load_policy(extend)).findings if f.suite == "dependencies"
    ] == []
    replace = tmp_path / "replace.toml"
    replace.write_text('[dependencies.allowed]\nleftpad-py = ">=1,<2"\n', encoding="utf-8")
    r = validate_project(root, load_policy(replace))
    assert one(r, "D001").message.startswith("'connector-cdk'")
