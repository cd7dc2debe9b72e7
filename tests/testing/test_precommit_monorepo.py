"""The shipped pre-commit hook in a monorepo (issue 13 item 6), with the real pre-commit in a real git
repository: two connectors from `cdk init` under connectors/, the generated config at the root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.testing.conftest import run_cdk

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def sh(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_generated_hook_validates_exactly_the_connectors_of_the_staged_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    bindir = str(Path(sys.executable).parent)  # cdk and pre-commit of this environment
    env = {
        **os.environ,
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "NO_COLOR": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    assert sh("git", "init", "-q", ".", cwd=repo, env=env).returncode == 0
    for name in ("alpha", "beta"):
        made = run_cdk(
            "init",
            f"connectors/{name}",
            "--no-input",
            "--set",
            f"base_url=https://api.{name}.example.com",
            cwd=repo,
        )
        assert made.returncode == 0, made.stdout + made.stderr
    shutil.copy(repo / "connectors" / "alpha" / ".pre-commit-config.yaml", repo / ".pre-commit-config.yaml")
    (repo / "README.md").write_text("two connectors\n")
    assert sh("git", "add", "-A", cwd=repo, env=env).returncode == 0

    everything = sh("pre-commit", "run", "--all-files", cwd=repo, env=env)
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert "cdk validate" in everything.stdout and "Passed" in everything.stdout
    assert sh("git", "commit", "-qm", "two connectors", cwd=repo, env=env).returncode == 0
    assert sh("pre-commit", "install", cwd=repo, env=env).returncode == 0

    source = next((repo / "connectors" / "alpha" / "alpha").glob("source.py"))
    source.write_text("import os\n" + source.read_text())
    sh("git", "add", str(source), cwd=repo, env=env)
    staged = sh("pre-commit", "run", cwd=repo, env=env)
    assert staged.returncode == 1, staged.stdout + staged.stderr
    assert "connectors/alpha/alpha/source.py" in staged.stdout
    assert "S0" in staged.stdout and "'os'" in staged.stdout
    assert "beta" not in staged.stdout
    commit = sh("git", "commit", "-qm", "use os", cwd=repo, env=env)  # the installed hook blocks it
    assert commit.returncode != 0
    assert "connectors/alpha/alpha/source.py" in commit.stdout + commit.stderr

    # a commit that touches no connector passes the hook (nothing to validate)
    sh("git", "checkout", "--", ".", cwd=repo, env=env)
    sh("git", "reset", "-q", "--hard", cwd=repo, env=env)
    (repo / "tools.py").write_text("print('not a connector')\n")
    sh("git", "add", "tools.py", cwd=repo, env=env)
    loose = sh("pre-commit", "run", cwd=repo, env=env)
    assert loose.returncode == 0, loose.stdout + loose.stderr


def test_validate_in_a_folder_that_is_no_connector_and_holds_none_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "tool.py").write_text("import os\n")
    for command in (("validate",), ("ci",)):
        result = run_cdk(*command, cwd=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "is not a connector (no connector.yaml in it or above it) and holds none" in result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
