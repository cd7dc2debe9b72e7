"""``cdk test``: run a connector's tests (standard, error-path and its own) against recorded HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cdk.cli.output import connector_option, format_option, print_json
from cdk.testing.modes import RecordMode


class _TestCommand(click.Command):
    """Unknown options are a usage error that says where pytest's options go."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            raise click.UsageError(
                f"no such option: {exc.option_name} (cdk test's options are listed by --help; "
                f"pytest's go after --, e.g. `cdk test -- {exc.option_name}`)",
                ctx=exc.ctx,
            ) from None


@click.command(cls=_TestCommand)
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[PATH] [-- PYTEST_ARGS]")
@connector_option
@format_option("text", "json")
@click.option("-k", "keyword", default=None, help="Only tests matching this pytest -k expression.")
@click.option("--stream", "streams", multiple=True, help="Standard tests of this stream only (repeatable).")
@click.option(
    "--record",
    "record",
    type=click.Choice([mode.value for mode in RecordMode if mode is not RecordMode.NONE]),
    is_flag=False,
    flag_value=RecordMode.ALL.value,
    default=None,
    help="--record records every selected test afresh (old interactions removed); "
    "--record=missing only tests without a cassette. Default: replay.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Real config for recording (default: secrets/config.json of the connector).",
)
@click.option(
    "--junit-xml",
    "junit_xml",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a JUnit XML report here.",
)
def test(
    args: tuple[str, ...],
    connector: str,
    keyword: str | None,
    streams: tuple[str, ...],
    record: str | None,
    config_path: str | None,
    junit_xml: str | None,
    fmt: str,
) -> None:
    """Run the connector's tests; HTTP is replayed from tests/cassettes (the network is blocked).

    \b
    Standard tests come from connector.yaml: connector.yaml::check, ::streams, ::read[STREAM],
    ::incremental[STREAM] and ::errors[...] (401, 429, 500, timeout — synthesised, no live calls).
    Options of pytest go after `--` (`cdk test -- -x -vv`); any other unknown option is a usage error.
    --format json prints the structured report (one entry per test) instead of pytest's output.
    Exit 0 when all pass, 1 when a test fails, 2 for a usage error, 3 when recording cannot reach the API.
    """
    from cdk.workflows.tests import run_tests

    rest = list(args)
    root = Path(connector)  # --connector/-C (default .); a PATH argument wins
    if rest and not rest[0].startswith("-") and _is_connector(Path(rest[0])):
        root = Path(rest.pop(0))
    report = run_tests(
        root,
        record=record,
        config_path=config_path,
        streams=streams,
        keyword=keyword,
        junit_xml=junit_xml,
        pytest_args=rest,
        # pytest's own console output is what a person reads; JSON readers get the report alone
        output=sys.stdout if fmt == "text" else None,
    )
    if fmt == "json":
        print_json(report.as_dict())
        sys.exit(report.exit_code)
    if report.stopped:
        click.echo(f"cdk test: {report.stopped}", err=True)
        if report.stopped_hint:
            click.echo(f"  hint: {report.stopped_hint}", err=True)
    elif report.no_tests_selected:
        click.echo("no tests were selected (check -k / --stream)", err=True)
    sys.exit(report.exit_code)


def _is_connector(path: Path) -> bool:
    return (path / "connector.yaml").is_file() or (path.name == "connector.yaml" and path.is_file())
