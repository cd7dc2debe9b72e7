"""`cdk init` never runs code it was given as data: answers are not templates, a third-party template's
hooks and Jinja run only with --trust-template, symlinks out of a template are refused, and a base URL
with credentials is refused without echoing them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cdk.errors import CdkError, UsageError
from cdk.workflows.init import init
from tests.conftest import run_cdk

INJECTION = "{{ cycler.__init__.__globals__.os.popen('touch %s').read() }}"


def _template(root: Path, readme: str = "{{ cookiecutter.description }}\n", **extra: str) -> Path:
    """A minimal third-party cookiecutter template (no connector.yaml, so nothing else is checked)."""
    root.mkdir()
    (root / "cookiecutter.json").write_text(json.dumps({"name": "my-api", "description": "d", **extra}))
    body = root / "{{cookiecutter.name}}"
    body.mkdir()
    (body / "README.md").write_text(readme)
    return root


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_answers_are_data_not_templates(tmp_path):
    marker = tmp_path / "PWNED"
    description = "{{7*7}} " + INJECTION % marker
    result = init("source-python", tmp_path / "out", given={"description": description}, fixtures=False)
    assert not marker.exists()
    from cdk.project import Project

    assert Project.load(result.path).manifest.description == description
    text = (result.path / "connector.yaml").read_text()
    # not "49" anywhere: the tmp path in the payload (pytest-349/...) may hold those digits
    assert 'description: "{{7*7}} ' in text and 'description: "49' not in text


def test_answers_file_through_the_cli_is_not_rendered(tmp_path):
    marker = tmp_path / "PWNED"
    (tmp_path / "answers.yaml").write_text(json.dumps({"description": INJECTION % marker}))
    proc = run_cdk(
        "init", "--no-input", "--no-fixtures", "--answers", "answers.yaml", "out", cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert not marker.exists()
    assert "cycler.__init__" in (tmp_path / "out" / "connector.yaml").read_text()


def test_a_template_default_refers_to_answers_as_data(tmp_path):
    template = _template(tmp_path / "tpl", title="{{ cookiecutter.description | upper }}")
    (template / "{{cookiecutter.name}}" / "README.md").write_text("{{ cookiecutter.title }}\n")
    result = init(str(template), tmp_path / "out", given={"description": "{{7*7}}"}, fixtures=False)
    assert (result.path / "README.md").read_text() == "{{7*7}}\n"


@pytest.mark.parametrize("hook", ["post_gen_project.py", "pre_gen_project.sh", "pre_prompt.py"])
def test_template_hooks_need_trust_and_are_named(tmp_path, hook):
    marker = tmp_path / "HOOK-RAN"
    template = _template(tmp_path / "tpl")
    (template / "hooks").mkdir()
    (template / "hooks" / hook).write_text(
        f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n"
        if hook.endswith(".py")
        else f"#!/bin/sh\ntouch {marker}\n"
    )
    (template / "hooks" / hook).chmod(0o755)
    proc = run_cdk("init", "--no-input", "--template", str(template), "out", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr.decode()
    err = proc.stderr.decode()
    assert f"hooks/{hook}" in err and "--trust-template" in err
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_trusted_template_runs_its_hooks_and_says_so(tmp_path):
    marker = tmp_path / "HOOK-RAN"
    template = _template(tmp_path / "tpl")
    (template / "hooks").mkdir()
    (template / "hooks" / "post_gen_project.py").write_text(
        f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n"
    )
    proc = run_cdk(
        "init",
        "--no-input",
        "--trust-template",
        "--template",
        str(template),
        "out",
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert marker.exists()
    assert "hooks/post_gen_project.py" in proc.stdout.decode()


def test_jinja_extensions_need_trust(tmp_path):
    template = tmp_path / "tpl"
    _template(template)
    context = json.loads((template / "cookiecutter.json").read_text())
    context["_extensions"] = ["os.path"]
    (template / "cookiecutter.json").write_text(json.dumps(context))
    with pytest.raises(UsageError, match=r"_extensions: os\.path"):
        init(str(template), tmp_path / "out", fixtures=False)
    assert _files(tmp_path) == ["tpl"]


@pytest.mark.parametrize("where", ["file", "file name", "default"])
def test_untrusted_template_jinja_is_sandboxed(tmp_path, where):
    marker = tmp_path / "PWNED"
    payload = INJECTION % marker
    if where == "file":
        template = _template(tmp_path / "tpl", readme=payload)
    elif where == "default":
        template = _template(tmp_path / "tpl", __evil=payload)
    else:
        template = _template(tmp_path / "tpl")
        # unsandboxed this renders as the file name "posix"; a "/" cannot be in a file name
        (template / "{{cookiecutter.name}}" / "{{ cycler.__init__.__globals__.os.name }}").write_text("x")
    with pytest.raises(CdkError):
        init(str(template), tmp_path / "out", fixtures=False)
    assert not marker.exists()
    assert _files(tmp_path) == ["tpl"]


def test_template_symlink_outside_is_refused_even_when_trusted(tmp_path):
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    template = _template(tmp_path / "tpl")
    os.symlink(secret, template / "{{cookiecutter.name}}" / "notes.txt")
    for trust in (False, True):
        with pytest.raises(
            CdkError, match=r"symlinks that point outside it: .*notes\.txt -> .*id_rsa"
        ) as info:
            init(str(template), tmp_path / "out", fixtures=False, trust_template=trust)
        assert info.value.exit_code == 1
    assert _files(tmp_path) == ["id_rsa", "tpl"]
    proc = run_cdk("init", "--no-input", "--template", str(template), "out", cwd=tmp_path, timeout=120)
    assert proc.returncode == 1 and "symlinks that point outside" in proc.stderr.decode()
    assert b"PRIVATE KEY" not in proc.stdout + proc.stderr


def test_template_symlink_with_dotdot_and_dangling_are_refused_inside_ones_kept(tmp_path):
    template = _template(tmp_path / "tpl")
    body = template / "{{cookiecutter.name}}"
    os.symlink("README.md", body / "README.txt")  # inside: fine
    result = init(str(template), tmp_path / "out", fixtures=False)
    assert (result.path / "README.txt").read_text() == "d\n"
    os.symlink("../../../etc/hostname", body / "host")
    with pytest.raises(CdkError, match="outside"):
        init(str(template), tmp_path / "out2", fixtures=False)
    (body / "host").unlink()
    os.symlink("missing-file", body / "dangling")
    with pytest.raises(CdkError, match="outside"):
        init(str(template), tmp_path / "out3", fixtures=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2pw@api.example.com/v1",
        "https://hunter2pw@api.example.com",
        "http://u:hunter2pw@h.io:8080",
    ],
)
def test_base_url_with_credentials_is_refused_without_echoing_them(tmp_path, url):
    proc = run_cdk("init", "--no-input", "--no-fixtures", "--set", f"base_url={url}", "out", cwd=tmp_path)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "credentials" in err and "secrets/config.json" in err
    assert b"hunter2pw" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out").exists()
