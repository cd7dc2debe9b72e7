"""The package and the CLI shell: commands listed, version, python -m, lazy imports, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cdk._version import __version__
from cdk.cli.main import COMMANDS
from tests.conftest import invoke_cdk, run_cdk

HEAVY = ("cookiecutter", "twine", "build", "vcr", "jsonschema", "requests", "pydantic", "yaml", "rich")


def test_help_lists_exactly_the_registered_commands():
    result = invoke_cdk("--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    listed = [line.split()[0] for line in text.split("Commands:")[1].splitlines() if line.strip()]
    assert sorted(listed) == sorted(COMMANDS)
    for name in COMMANDS:  # each registered command really exists and has help
        sub = invoke_cdk(name, "--help")
        assert sub.returncode == 0, (name, sub.stderr)


def test_version_and_python_m():
    assert run_cdk("--version").stdout.decode().strip() == f"cdk {__version__}"
    console_script = Path(sys.executable).parent / "cdk"  # installed by pip next to the interpreter
    script = subprocess.run([str(console_script), "--version"], capture_output=True, text=True)
    assert script.stdout.strip() == f"cdk {__version__}"


def test_help_imports_no_heavy_library():
    code = (
        "import sys\n"
        "from cdk.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('LOADED=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    (marker,) = [line for line in out.splitlines() if line.startswith("LOADED=")]
    assert "Commands:" in out
    assert marker == "LOADED=", f"cdk --help imported {marker[7:]}"


def test_unknown_command_is_a_usage_error_with_suggestion():
    result = invoke_cdk("raed")
    assert result.returncode == 2
    assert b"Did you mean 'read'" in result.stderr


def test_schema_manifest_is_json_schema_that_accepts_the_fixture(connector_copy):
    import jsonschema
    import yaml

    result = invoke_cdk("schema", "manifest")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    manifest = yaml.safe_load((connector_copy("demo_source") / "connector.yaml").read_text())
    jsonschema.validate(manifest, schema)
    bad = {**manifest, "capabilites": ["batch_extract"]}
    assert not jsonschema.Draft202012Validator(schema).is_valid(bad)


def test_public_api_is_importable_lazily():
    import cdk

    for name in cdk.__all__:
        assert getattr(cdk, name) is not None, name
