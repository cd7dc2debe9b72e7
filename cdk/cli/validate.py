"""``cdk validate`` and ``cdk rules``: static checks of connectors, and the rules they apply."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from cdk.cli.output import from_settings

if TYPE_CHECKING:
    from rich.console import Console

    from cdk.validators.findings import Report
    from cdk.validators.policy import Policy

FORMATS = ("text", "json", "junit", "sarif", "github")


def run_many(targets: list[str], policy: Policy | None, jobs: int | None) -> list[Report]:
    """The library's parallel validation, with a transient progress bar on terminals."""
    from cdk.validators.engine import validate_many

    if len(targets) == 1 or not _progress_wanted():
        return validate_many(targets, policy, jobs=jobs)
    from rich.progress import Progress

    with Progress(transient=True, console=_stderr_console()) as progress:
        task = progress.add_task(f"validating {len(targets)} connectors", total=len(targets))
        return validate_many(
            targets,
            policy,
            jobs=jobs,
            on_report=lambda _report: progress.advance(task),
        )


def _progress_wanted() -> bool:
    import sys

    from cdk.cli.output import use_color

    return use_color(sys.stderr)


def _stderr_console() -> Console:  # rich is imported only when a terminal shows progress
    from rich.console import Console

    return Console(stderr=True)


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format."
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE instead of stdout."
)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    callback=from_settings("policy"),
    help="Organisation policy file (TOML); default: the policy shipped with cdk [env: CDK_POLICY].",
)
@click.option(
    "--profile", type=click.Choice(["strict", "standard"]), help="Security profile (default: the policy's)."
)
@click.option("--jobs", "-j", type=int, help="Parallel workers for many connectors (default: CPU count).")
def validate(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    strict: bool,
    policy_file: str | None,
    profile: str | None,
    jobs: int | None,
) -> None:
    """Statically check connectors: manifest, config, capabilities, dependencies, security, secrets,
    egress, packaging and fixtures. The connector's code is parsed, never imported or run.

    \b
    PATHS are connector folders, connector.yaml files, globs, a folder of connectors at any depth
    (default: the current folder), or files (as pre-commit passes them): the connectors holding them
    are validated. Many connectors are validated in parallel:
      cdk validate connectors/*  --format sarif -o cdk.sarif

    Exit 1 when any connector has errors (with --strict: warnings too), else 0.
    """
    from cdk.cli.output import use_color
    from cdk.project import find_connectors
    from cdk.validators.policy import load_policy
    from cdk.validators.reporters import render

    targets = find_connectors(paths)
    if not targets:  # only files outside every connector (pre-commit passes what was staged)
        click.echo("no connector holds these files: nothing to validate", err=True)
        return
    policy = load_policy(policy_file, profile=profile)
    reports = run_many(targets, policy, jobs)
    # click 8.5 deprecates click.get_text_stream (an untyped module attribute): sys.stdout is the same stream
    color = fmt == "text" and not output and use_color(sys.stdout)
    text = render(fmt, reports, strict=strict, color=color)
    if output:
        from pathlib import Path

        from cdk.fsutil import atomic_write_text

        atomic_write_text(Path(output), text + "\n")
        if fmt != "text":
            click.echo(render("text", reports, strict=strict).splitlines()[-1], err=True)
    elif text:
        click.echo(text)
    failed = [r.root for r in reports if not r.passed(strict)]
    if failed:
        from cdk.errors import ValidationFailed

        what = "warnings (--strict)" if strict and not any(r.errors for r in reports) else "errors"
        raise ValidationFailed(
            f"validation found {what} in {len(failed)} of {len(reports)} connector(s)",
            hint="`cdk rules CODE` explains a rule with a bad and a good example",
        )


@click.command()
@click.argument("code", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(code: str | None, fmt: str) -> None:
    """List every validation rule, or explain one (e.g. `cdk rules S001`) with a bad and a good example."""
    from dataclasses import asdict

    from cdk.cli.output import print_json
    from cdk.errors import UsageError
    from cdk.validators.findings import get_rule, registry

    if code is None:
        all_rules = list(registry().values())
        if fmt == "json":
            print_json([asdict(r) for r in all_rules])
            return
        for r in all_rules:
            flag = " (waivable)" if r.waivable else ""
            click.echo(f"{r.code}  {r.suite:<13} {r.severity:<8} {r.title}{flag}")
        return
    rule = get_rule(code)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(code.upper(), list(registry()), n=1)
        raise UsageError(
            f"no rule {code!r}",
            hint=f"did you mean {close[0]}? " if close else "`cdk rules` lists every rule",
        )
    if fmt == "json":
        print_json(asdict(rule))
        return
    click.echo(
        f"{rule.code}: {rule.title}  [{rule.suite}, {rule.severity}{', waivable' if rule.waivable else ''}]"
    )
    click.echo(f"\n{rule.message}.\n\nhint: {rule.hint}")
    if rule.bad:
        click.echo("\nbad:\n" + "\n".join("    " + line for line in rule.bad.splitlines()))
    if rule.good:
        click.echo("\ngood:\n" + "\n".join("    " + line for line in rule.good.splitlines()))
