"""``cdk build``: sdist and wheel of the connector (PyPA build), reproducible and checked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cdk.cli.output import connector_option, format_option, from_settings, print_json

if TYPE_CHECKING:
    from cdk.publish.build import Distribution, Isolation


@click.command("build")
@connector_option
@click.option("--wheel", "want_wheel", is_flag=True, help="Build the wheel (default: both wheel and sdist).")
@click.option("--sdist", "want_sdist", is_flag=True, help="Build the sdist (default: both wheel and sdist).")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder [default: CONNECTOR/dist].",
)
@click.option(
    "--isolation",
    type=click.Choice(["auto", "isolated", "none"]),
    default="auto",
    show_default=True,
    callback=from_settings("build_isolation"),
    help="auto: isolated when the package index answers, else build with the installed backend "
    "[env: CDK_BUILD_ISOLATION].",
)
@format_option("text", "json")
def build(
    connector: str, want_wheel: bool, want_sdist: bool, out: str | None, isolation: Isolation, fmt: str
) -> None:
    """Build the connector's sdist and wheel; check the wheel carries connector.yaml, schemas, entry point."""
    from cdk.workflows.build import build as run

    wanted: tuple[tuple[Distribution, bool], ...] = (("sdist", want_sdist), ("wheel", want_wheel))
    dists: list[Distribution] = [d for d, want in wanted if want] or ["sdist", "wheel"]
    result = run(connector, out, distributions=dists, isolation=isolation)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if fmt == "json":
        print_json(
            {
                "artifacts": [str(p) for p in result.artifacts],
                "isolated": result.isolated,
                "source_date_epoch": result.source_date_epoch,
                "notes": result.notes,
                "seconds": round(result.seconds, 3),
            }
        )
        return
    for path in result.artifacts:
        click.echo(str(path))
