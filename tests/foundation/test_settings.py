"""Settings: one declaration, one precedence (flag > env > [tool.cdk] > user config > default), clear errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cdk.cli.main import COMMANDS, cli
from cdk.cli.output import connector_option, from_settings
from cdk.errors import UsageError
from cdk.settings import MASK, SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[2]


def _connector(tmp_path: Path, tool_cdk: str) -> Path:
    folder = tmp_path / "conn"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.cdk]\n{tool_cdk}')
    return folder


def _user_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xdg" / "cdk" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_precedence_flag_env_pyproject_user_config_default(tmp_path: Path) -> None:
    conn = _connector(tmp_path, 'build_isolation = "none"\nregistry_url = "https://project.test/"\n')
    user = _user_config(
        tmp_path, 'build_isolation = "isolated"\nregistry_url = "https://user.test/"\nno_cache = true\n'
    )
    env = {"CDK_REGISTRY_URL": "https://env.test/", "HOME": str(tmp_path)}

    s = Settings(flags={"registry_url": "https://flag.test/"}, env=env, connector=conn, user_config=user)
    assert (s.get("registry_url"), s.lookup("registry_url").source) == ("https://flag.test/", "flag")
    s = Settings(env=env, connector=conn, user_config=user)
    assert (s.get("registry_url"), s.lookup("registry_url").source) == ("https://env.test/", "env")
    build = s.lookup("build_isolation")
    assert (build.value, build.source, build.origin) == ("none", "pyproject", f"{conn / 'pyproject.toml'}:5")
    no_cache = s.lookup("no_cache")
    assert (no_cache.value, no_cache.source, no_cache.origin) == (True, "user-config", f"{user}:3")
    home = s.lookup("home")
    assert (home.value, home.source) == (str(tmp_path / ".cdk"), "default")
    # without a connector there is no project layer: the user config answers
    assert Settings(env={}, user_config=user).get("build_isolation") == "isolated"
    # an empty variable counts as unset
    assert Settings(env={"CDK_REGISTRY_URL": ""}, connector=conn, user_config=user).get("registry_url") == (
        "https://project.test/"
    )


def test_user_config_follows_xdg_config_home(tmp_path: Path) -> None:
    _user_config(tmp_path, 'registry_url = "https://xdg.test/"\n')
    s = Settings(env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert s.user_config_path == tmp_path / "xdg" / "cdk" / "config.toml"
    assert s.lookup("registry_url").source == "user-config"
    # without XDG_CONFIG_HOME: ~/.config
    assert Settings(env={"HOME": str(tmp_path)}).user_config_path == tmp_path / ".config/cdk/config.toml"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CDK_NO_CACHE": "maybe"}, "CDK_NO_CACHE: 'maybe' is not a boolean"),
        ({"CDK_DEBUG": "2"}, "CDK_DEBUG: '2' is not a boolean"),
        (
            {"CDK_BUILD_ISOLATION": "chroot"},
            "CDK_BUILD_ISOLATION: 'chroot' is not one of auto, isolated, none",
        ),
    ],
)
def test_bad_environment_value_names_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    name = {"CDK_NO_CACHE": "no_cache", "CDK_DEBUG": "debug", "CDK_BUILD_ISOLATION": "build_isolation"}
    with pytest.raises(UsageError, match=re.escape(message)):
        Settings(env=env, user_config=tmp_path / "none.toml").get(name[next(iter(env))])


def test_boolean_spellings(tmp_path: Path) -> None:
    for word, expected in [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False)]:
        assert (
            Settings(env={"CDK_NO_CACHE": word}, user_config=tmp_path / "x.toml").get("no_cache") is expected
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('registry_url = "https://x.test/"\nno_cache = "yes"\n', ":2: no_cache must be true or false"),
        ("registry_url = [1]\n", ":1: registry_url must be a string"),
        (
            "registry_url = 'a'\nregistry_ulr = 'b'\n",
            ":2: unknown setting 'registry_ulr' (did you mean 'registry_url'?)",
        ),
        ('registry_url = "https://x.test/"\nno_cache = \n', ":2:"),  # not TOML: line of the error
    ],
)
def test_bad_user_config_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    user = _user_config(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        list(Settings(env={}, user_config=user))
    assert str(caught.value).startswith(f"{user}{message}"), str(caught.value)


def test_unreadable_user_config_is_an_error(tmp_path: Path) -> None:
    user = _user_config(tmp_path, "")
    user.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(UsageError, match=re.escape(f"{user}: cannot read settings")):
        Settings(env={}, user_config=user).get("registry_url")


def test_connector_may_not_carry_credentials_or_choose_the_policy(tmp_path: Path) -> None:
    conn = _connector(tmp_path, 'registry_password = "hunter2"\n')
    with pytest.raises(
        UsageError, match=r"pyproject.toml:5: registry_password cannot be set in \[tool.cdk\]"
    ):
        Settings(env={}, connector=conn, user_config=tmp_path / "none.toml").get("build_isolation")
    # [tool.cdk] tables that are not settings ([tool.cdk.validate]) are left alone
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[tool.cdk.validate]\nwaive = ["S006"]\n')
    assert (
        Settings(env={}, connector=other, user_config=tmp_path / "none.toml").get("build_isolation") == "auto"
    )


def test_option_callback_applies_flag_then_the_connector_settings(tmp_path: Path) -> None:
    """The seam the CLI uses: an option given on the command line wins; else env, [tool.cdk], ..."""
    conn = _connector(tmp_path, 'build_isolation = "none"\n')

    @click.command()
    @connector_option
    @click.option("--isolation", default="auto", callback=from_settings("build_isolation"))
    def cmd(connector: str, isolation: str) -> None:
        click.echo(f"{connector} {isolation}")

    runner = CliRunner()
    # the option is declared after --connector but given first: the connector is still read first
    assert runner.invoke(cmd, ["--isolation", "isolated", "-C", str(conn)]).output == f"{conn} isolated\n"
    assert runner.invoke(cmd, ["-C", str(conn)]).output == f"{conn} none\n"
    assert (
        runner.invoke(cmd, ["-C", str(conn)], env={"CDK_BUILD_ISOLATION": "auto"}).output == f"{conn} auto\n"
    )
    assert runner.invoke(cmd, [], env={"CDK_CONNECTOR": str(conn)}).output == f"{conn} none\n"
    bad = runner.invoke(cmd, ["-C", str(conn)], env={"CDK_BUILD_ISOLATION": "chroot"})
    assert isinstance(bad.exception, UsageError) and "CDK_BUILD_ISOLATION" in str(bad.exception)


def test_cli_reads_user_config_for_policy_and_debug(tmp_path: Path) -> None:
    """Settings reach the commands: a policy named only in the user config is the one validate loads."""
    missing = tmp_path / "acme-policy.toml"
    _user_config(tmp_path, f'policy = "{missing}"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "cdk", "validate", str(ROOT / "tests/fixtures/demo_source")],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and f"policy file not found: {missing}" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "cdk", "validate", "."],
        env={**_base_env(), "CDK_DEBUG": "sometimes"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "CDK_DEBUG: 'sometimes' is not a boolean" in proc.stderr and "Traceback" not in proc.stderr


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}


def test_config_show_prints_sources_and_masks_secrets(tmp_path: Path) -> None:
    conn = _connector(tmp_path, 'build_isolation = "none"\n')
    _user_config(tmp_path, 'registry_username = "ci-bot"\nregistry_password = "from-file-pw"\n')
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "CDK_DEMO_API_KEY": "demo-secret-key",
        "CDK_REGISTRY_URL": "https://reg.test/",
    }
    runner = CliRunner()
    text = runner.invoke(cli, ["config", "show", "-C", str(conn)], env=env)
    assert text.exit_code == 0, text.output
    assert "from-file-pw" not in text.output and "demo-secret-key" not in text.output
    lines = {line.split()[0]: line for line in text.output.splitlines() if line.strip()}
    assert MASK in lines["registry_password"] and "user-config" in lines["registry_password"]
    assert MASK in lines["demo_api_key"] and "env (CDK_DEMO_API_KEY)" in lines["demo_api_key"]
    assert "ci-bot" in lines["registry_username"]
    assert "none" in lines["build_isolation"] and "pyproject" in lines["build_isolation"]
    assert "flag (--connector)" in lines["connector"]

    out = runner.invoke(cli, ["config", "show", "-C", str(conn), "--format", "json"], env=env)
    data = {s["name"]: s for s in json.loads(out.output)["settings"]}
    assert set(data) == {s.name for s in SETTINGS}
    assert data["registry_password"]["value"] == MASK and data["demo_api_key"]["value"] == MASK
    assert (data["registry_url"]["value"], data["registry_url"]["source"]) == ("https://reg.test/", "env")
    assert data["no_cache"] == {
        "name": "no_cache",
        "env": "CDK_NO_CACHE",
        "value": False,
        "source": "default",
        "origin": "",
    }
    assert "from-file-pw" not in out.output


def test_config_command_is_lazy() -> None:
    assert COMMANDS["config"][0] == "cdk.cli.config:config"
    code = "import sys, cdk.cli.main; print('cdk.settings' in sys.modules, 'cdk.cli.config' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_every_cdk_variable_read_is_a_declared_setting() -> None:
    """No module reads a CDK_* variable of its own: each one is declared in cdk/settings.py."""
    declared = {s.env for s in SETTINGS}
    # config substitution (CDK_ENV_<NAME>) and the replay clock switch are not settings
    not_settings = re.compile(r"CDK_ENV_\w*|CDK_VIRTUAL_TIME")
    used: set[str] = set()
    for path in (ROOT / "cdk").rglob("*.py"):
        text = not_settings.sub("", path.read_text(encoding="utf-8"))
        used |= set(re.findall(r"\bCDK_[A-Z][A-Z_]*\b", text))
    assert used <= declared, used - declared
    for path in (ROOT / "cdk").rglob("*.py"):
        if path.name == "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"environ(\.get)?[\[(]\s*[\"']CDK_(?!ENV_|VIRTUAL_TIME)", text), path
        assert not re.search(r"envvar=\s*[\"']CDK_", text), path


def test_docs_table_agrees_with_the_declared_settings() -> None:
    doc = (ROOT / "docs/settings.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if re.match(r"^\| `[a-z_]+` \|", line)]
    documented = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        documented[cells[0].strip("`")] = cells
    assert list(documented) == [s.name for s in SETTINGS]
    for s in SETTINGS:
        name, env, flags, kind, in_project, default, doc = documented[s.name]
        assert env == f"`{s.env}`"
        assert flags == (", ".join(f"`{f}`" for f in s.flags) or "—")
        assert kind == s.kind + (f" ({' / '.join(s.choices)})" if s.choices else "")
        assert in_project == ("yes" if s.in_project else "no")
        assert default == s.documented_default()
        assert doc == s.doc
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/settings.md)" in readme
