"""``cdk ci``: the merge gate in one command."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from cdk.cli.output import from_settings, print_json, use_color

if TYPE_CHECKING:
    from cdk.workflows.gate import GateResult, StageResult


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False),
    help="Write ci.junit.xml, validate.sarif, validate.junit.xml, test-*.xml and ci.json here.",
)
@click.option(
    "--changed-since", "ref", metavar="REF", help="Only connectors with files changed since git REF."
)
@click.option(
    "--repository",
    callback=from_settings("registry_url"),
    help="Registry whose versions the release rules check (default: none; CDK_REGISTRY_URL).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    callback=from_settings("policy"),
    help="Organisation policy file for validate [env: CDK_POLICY].",
)
@click.option(
    "--skip",
    "skip",
    multiple=True,
    type=click.Choice(["validate", "test", "build", "release"]),
    help="Skip a stage (repeatable). Skipped stages show in the table.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def ci(
    paths: tuple[str, ...],
    reports_dir: str | None,
    ref: str | None,
    repository: str | None,
    policy_file: str | None,
    skip: tuple[str, ...],
    fmt: str,
) -> None:
    """Run the merge gate: validate, test in replay (network blocked), build and check the wheel, and the
    version rules against the registry when one is configured.

    \b
    PATHS are connector folders, globs, a folder of connectors (default: the current folder) or
    files inside connectors (as pre-commit passes them).
    Every stage of every connector runs; exit 1 if any failed.
      cdk ci connectors/* --reports reports/ --changed-since origin/main
    """
    from cdk.project import find_connectors
    from cdk.validators.policy import load_policy
    from cdk.workflows.gate import changed_connectors, run_gate

    connectors = find_connectors(paths)
    if not connectors:  # only files outside every connector (pre-commit passes what changed)
        click.echo("no connector holds these files: nothing to check", err=True)
        return
    if ref:
        connectors = changed_connectors(connectors, ref)
        if not connectors:
            click.echo(f"no connector changed since {ref}: nothing to check", err=True)
            return
    registry = None
    if repository:
        from cdk.publish.registry import open_registry

        registry = open_registry(repository)
    live = fmt == "text" and use_color(sys.stderr)

    def progress(stage: StageResult) -> None:
        if fmt == "text":
            mark = {"passed": "ok", "failed": "FAILED", "skipped": "skip"}[stage.status]
            click.echo(
                f"{stage.connector}: {stage.stage} {mark} ({stage.seconds:.1f} s) {stage.summary}", err=True
            )

    result = run_gate(
        connectors,
        policy=load_policy(policy_file),
        reports_dir=reports_dir,
        registry=registry,
        skip=skip,
        progress=progress,
    )
    if fmt == "json":
        print_json(result.as_dict())
    else:
        _table(result, live)
    if not result.ok:
        from cdk.errors import ValidationFailed

        failed = sorted(
            {
                f"{s.connector}: {s.stage}" + (f" [{', '.join(s.rules)}]" if s.rules else "")
                for s in result.failed
            }
        )
        raise ValidationFailed(
            f"the merge gate failed: {'; '.join(failed)}",
            hint="the table above shows each failing stage; fix them and run cdk ci again",
        )


def _table(result: GateResult, color: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"cdk ci: {len(result.connectors)} connector(s) in {result.seconds:.1f} s")
    table.add_column("connector")
    for stage in ("validate", "test", "build", "release"):
        table.add_column(stage)
    marks = {
        "passed": "[green]ok[/]" if color else "ok",
        "failed": "[red]FAILED[/]" if color else "FAILED",
        "skipped": "-",
    }
    for conn in result.connectors:
        row = [conn]
        for stage in ("validate", "test", "build", "release"):
            s = next((x for x in result.stages if x.connector == conn and x.stage == stage), None)
            row.append(f"{marks[s.status]} {s.seconds:.1f}s" if s and s.status != "skipped" else "-")
        table.add_row(*row)
    console = Console(no_color=not color, highlight=False, width=120)
    console.print(table)
    for s in result.failed:
        console.print(f"{s.connector}: {s.stage} failed: {s.summary}", markup=False)
        for line in s.details[:20]:
            console.print(f"  {line}", markup=False)
