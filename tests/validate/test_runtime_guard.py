"""The runtime guard (cdk.sandbox.audit) and its use by `cdk test`.

Audit hooks cannot be removed, so every guarded run happens in a fresh interpreter (a subprocess).
The proof of issue 17: for every class of escape, one escape hidden from the static checker (an
organisation policy turns its rules off) is stopped at run time by the guard during `cdk test`.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cdk.validators.engine import validate_project
from cdk.validators.policy import load_policy
from cdk.workflows.tests import run_tests

# One function per class of issue 17's list; each really reaches the outside when not guarded.
ESCAPES = {
    "c01_blocked_module_through_allowed": ("os.system", "import logging\n    logging.os.system('true')"),
    "c02_sdk_internals": (
        "open",
        "from cdk import fsutil\n    fsutil.atomic_write_bytes('/var/tmp/cdk-escape-c02', b'x')",
    ),
    "c03_c_accelerator": ("open", "import _io\n    _io.open('/etc/hostname').read()"),
    "c04_code_from_a_string": (
        "subprocess.Popen",
        "import pydoc\n    pydoc.locate('subprocess').run(['true'])",
    ),
    "c05_files_through_allowed_module": (
        "open",
        "import logging\n    logging.FileHandler('/var/tmp/cdk-escape-c05.log')",
    ),
    "c06_attribute_without_getattr_syntax": (
        "os.system",
        "import functools, logging\n    functools.reduce(getattr, ['os'], logging).system('true')",
    ),
    "c07_module_that_starts_processes": ("subprocess.Popen", "import pydoc\n    pydoc.pipepager('x', 'cat')"),
    "c08_source_never_parsed": ("subprocess.Popen", "from demo_connector import hidden\n    hidden.run()"),
    "c09_build_time_code": (
        "subprocess.Popen",
        "import hatch_build\n    hatch_build.CustomHook().initialize('1', {})",
    ),
    "c10_sdk_tampering": (
        "socket.getaddrinfo",
        "from cdk.sdk.http import ConnectorSession\n    session = ConnectorSession(allowed_hosts=['api.demo.io'])"
        "\n    session.allowed_hosts = None\n    session.adapters.clear()"
        "\n    import requests.adapters\n    session.mount('https://', requests.adapters.HTTPAdapter())"
        "\n    session.get('https://evil.example.org/', timeout=1)",
    ),
    "c11_waived_rule": (
        "open",
        "getattr(globals()['__builtins__'], 'get')('op' + 'en')('/etc/hostname').read()",
    ),
    "c12_ctypes": ("ctypes.dlopen", "import ctypes\n    ctypes.CDLL(None)"),
    "c13_socket_outside_allowed_hosts": (
        "socket.connect",
        "import _socket\n    raw = _socket.socket()\n    raw.settimeout(0.5)\n    raw.connect(('203.0.113.9', 80))",
    ),
}
HIDDEN = "# -*- coding: utf-7 -*-\ndef run():\n    # +AAo-    import subprocess+AAo-    subprocess.run(['true'])\n    pass\n"
HATCH_BUILD = (
    "import subprocess\n\n\nclass CustomHook:\n    def initialize(self, version, build_data):\n"
    "        subprocess.run(['true'])\n"
)


def _escape_tests() -> str:
    out = ["import pytest\n"]
    for name, (_, body) in ESCAPES.items():
        out.append(f"\ndef test_{name}():\n    {body}\n")
    out.append(
        "\ndef test_swallowed_refusal_still_fails():\n    try:\n        open('/etc/hostname').read()\n"
        "    except Exception:\n        pass\n"
    )
    out.append("\ndef test_allowed_work_passes(tmp_path):\n    (tmp_path / 'x.txt').write_text('ok')\n")
    return "".join(out)


@pytest.fixture(scope="module")
def guarded_run(tmp_path_factory: pytest.TempPathFactory):
    from validate_fixture import CONNECTOR_FILES

    root = tmp_path_factory.mktemp("guard") / "demo"
    files = {
        **CONNECTOR_FILES,
        "tests/test_escapes.py": _escape_tests(),
        "demo_connector/hidden.py": HIDDEN,
        "hatch_build.py": HATCH_BUILD,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    report = run_tests(root, pytest_args=["tests/test_escapes.py", "-p", "no:cacheprovider"])
    return root, report


def test_every_class_of_escape_is_stopped_at_run_time(guarded_run) -> None:
    root, report = guarded_run
    by_name = {t.id.split("::")[-1]: t for t in report.tests}
    for name, (event, _) in ESCAPES.items():
        result = by_name[f"test_{name}"]
        assert result.outcome == "failed", (name, result.outcome, result.message)
        assert f"sandbox refused '{event}'" in result.message, (name, result.message)
    assert not Path("/var/tmp/cdk-escape-c02").exists() and not Path("/var/tmp/cdk-escape-c05.log").exists()


def test_a_refusal_names_the_connectors_line(guarded_run) -> None:
    _, report = guarded_run
    msg = next(t.message for t in report.tests if t.id.endswith("test_c11_waived_rule"))
    assert "test_escapes.py:" in msg


def test_a_swallowed_refusal_still_fails_and_allowed_work_passes(guarded_run) -> None:
    _, report = guarded_run
    by_name = {t.id.split("::")[-1]: t for t in report.tests}
    assert by_name["test_swallowed_refusal_still_fails"].outcome == "failed"
    assert "sandbox refused 'open'" in by_name["test_swallowed_refusal_still_fails"].message
    assert by_name["test_allowed_work_passes"].outcome == "passed"


def test_the_escapes_pass_static_validation_only_under_a_policy_that_turns_the_rules_off(
    guarded_run, tmp_path: Path
) -> None:
    root, _ = guarded_run
    strict = validate_project(root)
    assert {f.file for f in strict.errors} >= {
        "tests/test_escapes.py",
        "demo_connector/hidden.py",
        "hatch_build.py",
    }
    org = tmp_path / "org.toml"
    rules = sorted({f.rule for f in strict.errors})
    org.write_text("[severity]\n" + "".join(f'{r} = "off"\n' for r in rules))
    assert validate_project(root, load_policy(org)).errors == []


GUARD_SCRIPT = """
import sys
from pathlib import Path
from cdk.errors import SandboxViolation
from cdk.sandbox import audit
seen = []
audit.install(allowed_roots=[Path(sys.argv[1])], allowed_hosts=["api.demo.io"],
              on_violation=lambda e, a: seen.append(e))
audit.install(allowed_roots=[Path(sys.argv[1])], allowed_hosts=["api.demo.io"],
              on_violation=lambda e, a: seen.append(e))  # idempotent: still one hook
def attempt(fn):
    try:
        fn()
        return "allowed"
    except SandboxViolation as exc:
        return exc.event
import os, socket, subprocess
results = [
    attempt(lambda: open("/etc/hostname").read()),
    attempt(lambda: open(Path(sys.argv[1]) / "ok.txt", "w").write("x")),
    attempt(lambda: subprocess.run(["true"])),
    attempt(lambda: os.posix_spawn("/bin/true", ["true"], {})),
    attempt(lambda: os.fork()),
    attempt(lambda: socket.getaddrinfo("evil.example.org", 443)),
    attempt(lambda: os.remove("/var/tmp/never-there")),
    attempt(lambda: __import__("json").dumps({"a": 1})),
]
print(results)
print(seen)
"""


def test_install_refuses_and_reports_each_event(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(GUARD_SCRIPT), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    results, seen = out.stdout.strip().splitlines()
    assert results == str(
        [
            "open",
            "allowed",
            "subprocess.Popen",
            "os.posix_spawn",
            "os.fork",
            "socket.getaddrinfo",
            "os.remove",
            "allowed",
        ]
    )
    assert seen == str(
        ["open", "subprocess.Popen", "os.posix_spawn", "os.fork", "socket.getaddrinfo", "os.remove"]
    )
