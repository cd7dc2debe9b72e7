"""The templates ship inside the wheel: build connector-cdk, install it (with its dependencies, no access
to this checkout) in a fresh virtualenv, and scaffold connectors from there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import once_per_run
from tests.init.initkit import AUTHS, TEMPLATES, demo_for, write_json

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(*args, cwd: Path, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CDK_DEBUG")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **kw
    )


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory):
    """(cdk executable, work folder): our wheel installed with its dependencies in a fresh venv.

    Built and installed once per run (under xdist, by the first worker that needs it; see once_per_run):
    the tests here only run that cdk, each in folders of its own names under the work folder."""

    def make(root: Path) -> None:
        built = _run(
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            root / "dist",
            REPO,
            cwd=root,
            timeout=300,
        )
        assert built.returncode == 0, built.stderr[-2000:]
        (wheel,) = (root / "dist").glob("connector_cdk-*.whl")
        env_dir = root / "venv"
        venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
        python = env_dir / "bin" / "python"
        installed = _run(python, "-m", "pip", "install", "-q", wheel, cwd=root, timeout=900)
        assert installed.returncode == 0, installed.stderr[-3000:]
        (root / "work").mkdir()

    root = once_per_run(tmp_path_factory, "wheel", make)
    env_dir, work = root / "venv", root / "work"
    where = _run(
        env_dir / "bin" / "python",
        "-c",
        "import cdk, cdk.scaffold as s; print(cdk.__file__); print(s.templates_root())",
        cwd=work,
    )
    assert where.returncode == 0, where.stderr
    cdk_file, templates = where.stdout.split()
    assert Path(cdk_file).is_relative_to(env_dir) and not Path(cdk_file).is_relative_to(REPO)
    assert Path(templates) == Path(cdk_file).parent / "templates"
    return env_dir / "bin" / "cdk", work


def test_wheel_lists_and_renders_every_template(wheel_venv):
    cdk, work = wheel_venv
    listed = _run(cdk, "init", "--list", "--format", "json", cwd=work)
    assert listed.returncode == 0, listed.stderr
    assert sorted(t["name"] for t in json.loads(listed.stdout)) == sorted(TEMPLATES)
    for template in TEMPLATES:
        made = _run(
            cdk,
            "init",
            "--no-input",
            "--template",
            template,
            f"w-{template}",
            "--set",
            "auth=api_key",
            cwd=work,
        )
        assert made.returncode == 0, made.stderr
        assert (work / f"w-{template}" / "connector.yaml").is_file()
    # and the generated source runs on the installed cdk
    with demo_for("api_key", 42) as (api, authentication):
        config = write_json(
            work / "config.json", {"api_url": api.url, "page_size": 10, "authentication": authentication}
        )
        read = _run(cdk, "read", "-C", work / "w-source-python", "--config", config, cwd=work)
        assert read.returncode == 0, read.stderr
        assert len(read.stdout.splitlines()) == 42
        # a declarative connector keeps its base URL in connector.yaml: generate one for this API
        made = _run(
            cdk,
            "init",
            "--no-input",
            "--no-fixtures",
            "--template",
            "source-declarative",
            "w-decl-live",
            "--set",
            "auth=api_key",
            "--set",
            f"base_url={api.url}",
            cwd=work,
        )
        assert made.returncode == 0, made.stderr
        config = write_json(work / "decl-config.json", {"authentication": authentication})
        read = _run(cdk, "read", "-C", work / "w-decl-live", "--config", config, cwd=work)
        assert read.returncode == 0, read.stderr
        assert sorted(int(json.loads(line)["id"]) for line in read.stdout.splitlines()) == list(range(1, 43))


def test_wheel_installed_declarative_connector_runs_from_its_entry_point(wheel_venv):
    """pip install a generated source-declarative connector: the entry point's package_source finds the
    connector.yaml shipped inside the package (no source folder involved) and reads through it."""
    cdk, work = wheel_venv
    python = cdk.parent / "python"
    with demo_for("bearer", 37) as (api, authentication):
        made = _run(
            cdk,
            "init",
            "--no-input",
            "--no-fixtures",
            "--template",
            "source-declarative",
            "w-decl-pkg",
            "--set",
            "auth=bearer",
            "--set",
            "pagination=page",
            "--set",
            f"base_url={api.url}",
            cwd=work,
        )
        assert made.returncode == 0, made.stderr
        installed = _run(python, "-m", "pip", "install", "-q", work / "w-decl-pkg", cwd=work, timeout=600)
        assert installed.returncode == 0, installed.stderr[-3000:]
        listed = _run(cdk, "connectors", "--format", "json", cwd=work)
        assert listed.returncode == 0 and "w-decl-pkg" in listed.stdout, listed.stdout + listed.stderr
        script = (
            "import json, sys\n"
            "from importlib.metadata import entry_points\n"
            "(ep,) = [e for e in entry_points(group='cdk.connectors') if e.name == 'w-decl-pkg']\n"
            "Source = ep.load()\n"
            "import w_decl_pkg\n"
            "assert 'site-packages' in w_decl_pkg.__file__, w_decl_pkg.__file__\n"
            "config = Source.get_config_class()(name='w', stream='users', authentication=json.loads(sys.argv[1]))\n"
            "source, ids, pagination = Source(config), [], None\n"
            "for _ in range(100):\n"
            "    page = source.get(pagination)\n"
            "    ids += [int(r.id) for r in page.records]\n"
            "    pagination = page.next_pagination\n"
            "    if not pagination:\n"
            "        break\n"
            "print(json.dumps({'streams': Source.streams(), 'ids': ids}))\n"
        )
        ran = _run(python, "-c", script, json.dumps(authentication), cwd=work / "w-decl-pkg" / "tests")
        assert ran.returncode == 0, ran.stderr[-3000:]
        out = json.loads(ran.stdout)
        assert out == {"streams": ["users"], "ids": list(range(1, 38))}
        assert {r["headers"].get("Authorization") for r in api.requests if r["path"] == "/users"} == {
            "Bearer tok-123"
        }


@pytest.fixture(scope="session")
def wheel_generated(wheel_venv, tmp_path_factory):
    """Every template x auth method generated by the installed cdk (fixtures recorded when it can),
    once per run."""
    cdk, work = wheel_venv
    names = [f"g-{template}-{auth.replace('_', '')}" for template in TEMPLATES for auth in AUTHS]

    def make(_marker: Path) -> None:
        for template in TEMPLATES:
            for auth in AUTHS:
                name = f"g-{template}-{auth.replace('_', '')}"
                shutil.rmtree(work / name, ignore_errors=True)  # a maker that failed half-way
                made = _run(
                    cdk,
                    "init",
                    "--no-input",
                    "--template",
                    template,
                    name,
                    "--set",
                    f"auth={auth}",
                    cwd=work,
                    timeout=300,
                )
                assert made.returncode == 0, made.stderr

    once_per_run(tmp_path_factory, "wheel-generated", make)
    return cdk, work, names


def test_wheel_generated_connectors_validate_clean(wheel_generated):
    cdk, work, folders = wheel_generated
    proc = _run(cdk, "validate", *folders, "--format", "json", cwd=work, timeout=300)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["valid"], proc.stdout[-3000:]
    assert report["errors"] == [] and report["warnings"] == []
    assert len(report["connectors"]) == len(TEMPLATES) * len(AUTHS)


def test_wheel_generated_connectors_pass_cdk_test_offline(wheel_generated):
    cdk, work, folders = wheel_generated
    for name in folders:
        assert any((work / name / "tests" / "cassettes").glob("*.json")), (
            f"{name}: no cassettes were recorded"
        )
        tested = _run(cdk, "test", name, cwd=work, timeout=300)
        assert tested.returncode == 0, name + "\n" + tested.stdout[-3000:] + tested.stderr[-2000:]
