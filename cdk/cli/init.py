"""``cdk init``: scaffold a connector from a template (shipped, a local folder, or a git URL)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cdk.cli.output import format_option, print_json


def _parse_sets(pairs: tuple[str, ...]) -> dict[str, str]:
    from cdk.errors import UsageError

    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {pair!r} is not KEY=VALUE", hint="e.g. --set auth=api_key")
        out[key.strip()] = value
    return out


def _read_answers(path: str) -> dict[str, Any]:
    """An answers file (YAML or JSON, read with cdk's one safe YAML loader): a mapping of scalars."""
    from cdk.errors import InputError, UsageError
    from cdk.yamlio import read_yaml

    try:
        data = read_yaml(path)[0] or {}
    except InputError as exc:
        raise UsageError(f"answers file: {exc}", hint=exc.hint) from None
    if not isinstance(data, dict) or not all(isinstance(v, str | int | float | bool) for v in data.values()):
        raise UsageError(
            f"{path}: answers file must be a mapping of key: value (scalars), e.g. 'auth: api_key'"
        )
    return {str(k): v for k, v in data.items()}


def _ask(question: Any, default: Any) -> Any:
    """Ask one question; a bad answer is explained and asked again (checked as typed)."""
    from cdk.errors import AnswerError
    from cdk.scaffold.answers import check_answer

    def check(value: Any) -> Any:
        try:
            return check_answer(question, value)
        except AnswerError as exc:
            raise click.BadParameter(str(exc)) from None

    text = question.prompt
    if question.choices:
        text = f"{text} ({' | '.join(question.choices)})"
    return click.prompt(text, default=default, value_proc=check, err=True)


def _print_list(fmt: str) -> None:
    from cdk.scaffold import list_templates

    templates = list_templates()
    if fmt == "json":
        print_json([t.to_dict() for t in templates])
        return
    width = max((len(t.name) for t in templates), default=0)
    for t in templates:
        click.echo(f"{t.name:<{width}}  {t.description}")


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option(
    "--template",
    "-t",
    "template_spec",
    default="source-python",
    show_default=True,
    help="A shipped template (see --list), a template folder, or a git URL of any cookiecutter template.",
)
@click.option("--checkout", help="Branch, tag or commit of a git template.")
@click.option(
    "--list", "list_only", is_flag=True, help="List the shipped templates, one line each, and exit."
)
@click.option(
    "--no-input", is_flag=True, help="Ask nothing: use --set, --answers and the template's defaults (for CI)."
)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Answer one question (repeatable).")
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(dir_okay=False),
    help="YAML or JSON file of answers (key: value); --set wins over it.",
)
@click.option(
    "--force", is_flag=True, help="Write into a non-empty folder (files of the template overwrite)."
)
@click.option(
    "--fixtures/--no-fixtures",
    default=True,
    show_default=True,
    help="Record tests/cassettes against the built-in demo API so `cdk test` passes offline at once.",
)
@click.option(
    "--trust-template",
    is_flag=True,
    help="Run the hooks and Jinja extensions of a template that is not shipped with cdk (read them first).",
)
@format_option("text", "json")
def init(
    directory: str | None,
    template_spec: str,
    checkout: str | None,
    list_only: bool,
    no_input: bool,
    sets: tuple[str, ...],
    answers_file: str | None,
    force: bool,
    fixtures: bool,
    trust_template: bool,
    fmt: str,
) -> None:
    """Scaffold a connector: package, connector.yaml, schemas, tests, CI workflow, pre-commit hook.

    Asks only what the template needs (name, description, auth method, pagination style, capabilities,
    base URL, allowed host) and checks each answer as it is typed. DIRECTORY defaults to ./NAME and
    must be empty or new (or pass --force). Nothing is written when an answer is bad.

    \b
    Examples:
      cdk init my-api
      cdk init my-api --no-input --set auth=api_key --set base_url=https://api.example.com
      cdk init --template destination-python --answers answers.yaml out/my-dest
      cdk init --template https://github.com/acme/cdk-templates.git my-api
    """
    if list_only:
        _print_list(fmt)
        return

    from cdk.workflows.init import init as run

    given: dict[str, Any] = _read_answers(answers_file) if answers_file else {}
    given.update(_parse_sets(sets))
    try:
        result = run(
            template_spec,
            directory,
            checkout=checkout,
            given=given,
            ask=None if no_input else _ask,
            force=force,
            fixtures=fixtures,
            trust_template=trust_template,
        )
    except click.exceptions.Abort:
        if sys.stdin.isatty():
            raise
        from cdk.errors import UsageError

        raise UsageError(
            "cdk init ran out of answers on stdin (nothing was written)",
            hint="in CI pass --no-input with --set KEY=VALUE or --answers FILE",
        ) from None
    shown = _shown(result.path)
    if fmt == "json":
        print_json(result.as_dict())
        return
    click.echo(
        f"Created {result.name if result.name is not None else result.path.name} in {shown} "
        f"(template {result.template}, {len(result.files)} files)"
    )
    if result.fixtures:
        click.echo(f"Fixtures: {result.fixtures}")
    if result.code_run:
        click.echo(f"Ran the template's code (--trust-template): {', '.join(result.code_run)}")
    if (result.path / "connector.yaml").exists():
        click.echo("Next:")
        for line in (
            f"cd {shown}",
            "pip install -e .",
            "cdk validate",
            "cdk test",
            "cdk read --config secrets/config.json   # after filling secrets/config.json",
        ):
            click.echo(f"  {line}")
    sys.stdout.flush()


def _shown(path: Path) -> str:
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return str(rel) if str(rel) != "." else "."
    except ValueError:
        return str(path)
