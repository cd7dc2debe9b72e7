"""`cdk init` as a user meets it: listing, non-interactive answers, checks as typed, refusals that leave
nothing behind, and any cookiecutter template (folder or git URL)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import invoke_cdk
from tests.init.initkit import TEMPLATES


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir())


def test_list_shows_every_template_on_one_line():
    proc = invoke_cdk("init", "--list")
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(TEMPLATES)
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # a name and a description
    data = json.loads(invoke_cdk("init", "--list", "--format", "json").stdout)
    assert sorted(t["name"] for t in data) == sorted(TEMPLATES)
    assert all(t["description"] and t["builtin"] for t in data)


def test_default_folder_is_the_name_and_answers_file_and_set_combine(tmp_path):
    (tmp_path / "answers.yaml").write_text(
        "name: from-file\nauth: bearer\npagination: cursor\ndescription: 'Tickets: open and closed'\n"
    )
    proc = invoke_cdk(
        "init",
        "--no-input",
        "--answers",
        "answers.yaml",
        "--set",
        "auth=basic",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = json.loads(proc.stdout)
    folder = tmp_path / "from-file"
    assert Path(out["path"]) == folder and out["name"] == "from-file" and "connector.yaml" in out["files"]
    source = (folder / "from_file" / "source.py").read_text()
    assert "CursorPaginator" in source  # from the file
    assert 'Literal["basic"]' in source  # --set wins over the file
    assert "Tickets: open and closed" in (folder / "connector.yaml").read_text()
    from cdk.project import Project

    assert Project.load(folder).manifest.description == "Tickets: open and closed"


@pytest.mark.parametrize(
    "answer, fragment",
    [
        ("name=My Connector", "is not valid"),
        ("name=x", "is not valid"),
        ("name=json", "shadows"),
        ("base_url=ftp://example.com", "http:// or https://"),
        ("base_url=https://", "has no host"),
        ("base_url=not a url", "is not valid"),
        ("allowed_host=https://api.example.com/x", "allowed host"),
        ("auth=kerberos", "is not one of"),
        ("pagination=scroll", "is not one of"),
        ("capabilities=streaming", "is not one of"),
        ("colour=blue", "unknown answer key"),
    ],
)
def test_bad_answer_is_a_usage_error_and_leaves_nothing(tmp_path, answer, fragment):
    proc = invoke_cdk("init", "--no-input", "out/conn", "--set", answer, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr.decode()
    err = proc.stderr.decode()
    assert fragment in err and "Traceback" not in err
    assert _leftovers(tmp_path) == []


def test_folder_name_that_is_not_a_valid_name_is_refused(tmp_path):
    proc = invoke_cdk("init", "--no-input", "My Connector", cwd=tmp_path)
    assert proc.returncode == 2
    assert "'My Connector' is not valid" in proc.stderr.decode()
    assert _leftovers(tmp_path) == []
    ok = invoke_cdk("init", "--no-input", "My Connector", "--set", "name=my-connector", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr.decode()
    assert (tmp_path / "My Connector" / "my_connector" / "source.py").is_file()


def test_non_empty_folder_is_refused_unless_force(tmp_path):
    target = tmp_path / "conn"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    proc = invoke_cdk("init", "--no-input", str(target), "--set", "name=conn-a")
    assert proc.returncode == 1
    assert "is not empty" in proc.stderr.decode() and "--force" in proc.stderr.decode()
    assert _leftovers(target) == ["notes.txt"] and _leftovers(tmp_path) == ["conn"]
    forced = invoke_cdk("init", "--no-input", str(target), "--set", "name=conn-a", "--force")
    assert forced.returncode == 0, forced.stderr.decode()
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "connector.yaml").is_file() and _leftovers(tmp_path) == ["conn"]


def test_empty_existing_folder_is_used(tmp_path):
    (tmp_path / "conn-b").mkdir()
    proc = invoke_cdk("init", "--no-input", "conn-b", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "conn-b" / "conn_b" / "source.py").is_file()


def test_interactive_answers_are_checked_as_typed(tmp_path):
    # name, description, auth, pagination, capabilities, base_url, allowed_host
    typed = (
        "\n".join(
            [
                "Bad Name",
                "good-name",  # refused, asked again
                "",  # description: default
                "kerberos",
                "api_key",  # refused, asked again
                "link",
                "",  # capabilities: default
                "ftp://nope",
                "https://api.example.com",
                "",  # allowed host: derived from the base URL
            ]
        )
        + "\n"
    )
    proc = invoke_cdk("init", "--template", "source-python", cwd=tmp_path, input=typed.encode())
    assert proc.returncode == 0, proc.stderr.decode()
    err = proc.stderr.decode()
    assert "name 'Bad Name' is not valid" in err and "is not one of" in err and "http:// or https://" in err
    assert "[api.example.com]" in err  # the derived default was offered
    manifest = (tmp_path / "good-name" / "connector.yaml").read_text()
    assert "allowed_hosts: [api.example.com]" in manifest
    assert "LinkHeaderPaginator" in (tmp_path / "good-name" / "good_name" / "source.py").read_text()


def test_unknown_template_names_the_shipped_ones(tmp_path):
    proc = invoke_cdk("init", "--no-input", "--template", "source-pyton", "x1", cwd=tmp_path)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "source-python" in err and "did you mean" in err
    assert _leftovers(tmp_path) == []


def _custom_template(root: Path, broken: bool = False) -> Path:
    tpl = root / "acme-template"
    proj = tpl / "{{cookiecutter.project}}"
    proj.mkdir(parents=True)
    (tpl / "cookiecutter.json").write_text(
        json.dumps({"project": "acme-thing", "owner": "data-team", "_description": "ACME house style"})
    )
    (proj / "OWNERS").write_text("{{ cookiecutter.owner }}\n")
    (proj / "big.txt").write_text("x" * 1000 + "\n")
    if broken:
        (proj / "zz_broken.txt").write_text("{{ cookiecutter.owner | no_such_filter }}\n")
    return tpl


def test_any_cookiecutter_template_folder(tmp_path):
    tpl = _custom_template(tmp_path)
    proc = invoke_cdk(
        "init", "--no-input", "--template", str(tpl), "out", "--set", "owner=platform", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "out" / "OWNERS").read_text() == "platform\n"


def test_broken_template_leaves_nothing_behind(tmp_path):
    tpl = _custom_template(tmp_path / "t", broken=True)
    work = tmp_path / "w"
    work.mkdir()
    proc = invoke_cdk("init", "--no-input", "--template", str(tpl), "deep/nested/out", cwd=work)
    assert proc.returncode == 1
    assert "failed to render" in proc.stderr.decode() and "Traceback" not in proc.stderr.decode()
    assert _leftovers(work) == []  # neither the target, its new parents nor a staging folder


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_any_cookiecutter_template_from_a_git_url(tmp_path):
    tpl = _custom_template(tmp_path)
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    import os

    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "tpl"]):
        subprocess.run(cmd, cwd=tpl, check=True, env={**os.environ, **env})
    bare = tmp_path / "acme.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(tpl), str(bare)], check=True)
    proc = invoke_cdk("init", "--no-input", "--template", f"file://{bare}", "from-git", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "from-git" / "OWNERS").read_text() == "data-team\n"
    missing = invoke_cdk(
        "init", "--no-input", "--template", f"file://{tmp_path}/nope.git", "x2", cwd=tmp_path
    )
    assert missing.returncode == 3 and "cannot fetch template" in missing.stderr.decode()
    assert not (tmp_path / "x2").exists()


def test_set_without_equals_is_a_usage_error(tmp_path):
    proc = invoke_cdk("init", "--no-input", "x3", "--set", "auth", cwd=tmp_path)
    assert proc.returncode == 2 and "KEY=VALUE" in proc.stderr.decode()
    assert _leftovers(tmp_path) == []


def test_help_stays_light():
    """`cdk init` is registered lazily: listing commands must not import cookiecutter."""
    import sys

    code = (
        "import sys; from cdk.cli.main import cli; from click.testing import CliRunner; "
        "r = CliRunner().invoke(cli, ['--help']); assert 'init' in r.output; "
        "print('cookiecutter' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_answer_rules_are_the_manifest_rules():
    """cdk.scaffold repeats the manifest's name and host patterns (to start fast); they must not drift."""
    from cdk import manifest
    from cdk.scaffold import answers

    assert answers.NAME_RE.pattern == manifest.NAME_RE.pattern
    assert answers.HOST_RE.pattern == manifest.HOST_RE.pattern


def test_custom_template_with_a_broken_manifest_is_refused(tmp_path):
    tpl = _custom_template(tmp_path)
    (tpl / "{{cookiecutter.project}}" / "connector.yaml").write_text("manifest_version: 1\nname: Bad Name\n")
    proc = invoke_cdk("init", "--no-input", "--template", str(tpl), "out", cwd=tmp_path)
    assert proc.returncode == 1
    assert "connector.yaml" in proc.stderr.decode()
    assert not (tmp_path / "out").exists()


def test_shipped_name_wins_over_a_same_named_folder_unless_written_as_a_path(tmp_path):
    tpl = _custom_template(tmp_path)
    tpl.rename(tmp_path / "source-python")
    shipped = invoke_cdk("init", "--no-input", "--template", "source-python", "aa-shipped", cwd=tmp_path)
    assert shipped.returncode == 0, shipped.stderr.decode()
    assert (tmp_path / "aa-shipped" / "connector.yaml").is_file()
    local = invoke_cdk("init", "--no-input", "--template", "./source-python", "bb-local", cwd=tmp_path)
    assert local.returncode == 0, local.stderr.decode()
    assert (tmp_path / "bb-local" / "OWNERS").is_file()


def test_without_no_input_and_without_a_terminal_it_says_what_to_do(tmp_path):
    proc = invoke_cdk("init", "conn-c", cwd=tmp_path, input=b"")
    assert proc.returncode == 2
    assert "--no-input" in proc.stderr.decode()
    assert _leftovers(tmp_path) == []
