"""User-facing text speaks of the product only: no internal planning words in docs, templates, help texts,
public docstrings, or the files `cdk init` and `cdk import source-spec` generate."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdk.cli.main import COMMANDS, cli
from tests.init.initkit import TEMPLATES

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "tests/declarative/data/mailchimp_members_seed.txt"
PLANNING = re.compile(r"\bseeds?\b|\bseed[- ]?\d{3}|DESIGN\b|§|\bthe design\b", re.I)


def _hits(folder: Path) -> list[str]:
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if PLANNING.search(line):
                out.append(f"{path}:{n}: {line.strip()}")
    return out


def test_pattern_catches_the_words_it_is_meant_to() -> None:
    for text in ("holds seed 003's sourceSpec", "DESIGN §4", "the seed's params", "see the design"):
        assert PLANNING.search(text), text
    assert not PLANNING.search("the declarative REST source specification")


def test_docs_readme_and_templates() -> None:
    hits = _hits(ROOT / "docs") + _hits(ROOT / "templates")
    hits += [
        f"README.md: {line}"
        for line in (ROOT / "README.md").read_text().splitlines()
        if PLANNING.search(line)
    ]
    assert hits == []


def test_help_texts_and_public_docstrings() -> None:
    runner = CliRunner()
    texts = {"cdk --help": runner.invoke(cli, ["--help"]).output}
    for name in COMMANDS:
        texts[f"cdk {name} --help"] = runner.invoke(cli, [name, "--help"]).output
    texts["cdk import source-spec --help"] = runner.invoke(cli, ["import", "source-spec", "--help"]).output
    texts["cdk config show --help"] = runner.invoke(cli, ["config", "show", "--help"]).output
    for path in sorted((ROOT / "cdk").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = [tree] + [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and not n.name.startswith("_")
        ]
        for node in nodes:
            texts[f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 1)}"] = ast.get_docstring(node) or ""
    texts["default_policy.toml"] = (ROOT / "cdk/validators/default_policy.toml").read_text()
    assert [where for where, text in texts.items() if PLANNING.search(text)] == []


def test_import_source_spec_output(tmp_path: Path) -> None:
    out = tmp_path / "mailchimp"
    result = CliRunner().invoke(
        cli, ["import", "source-spec", str(SPEC), "--out", str(out), "--name", "mailchimp-members"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "connector.yaml").is_file()
    assert _hits(out) == []
    assert not PLANNING.search(result.output)


@pytest.mark.parametrize("template", TEMPLATES)
def test_init_output(generated, template: str) -> None:  # noqa: ANN001 - the fixture of tests/init
    folder = generated(template)
    assert (folder / "connector.yaml").is_file()
    assert _hits(folder) == []
