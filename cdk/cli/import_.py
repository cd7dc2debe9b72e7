"""``cdk import``: turn a connector written in another format into a connector folder."""

from __future__ import annotations

import click

from cdk.cli.output import format_option, print_json


@click.group("import")
def import_group() -> None:
    """Create a connector folder from another format (e.g. a sourceSpec JSON)."""


@import_group.command("source-spec")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--out", "-o", "out", type=click.Path(file_okay=False), help="Folder to write (default: ./NAME)."
)
@click.option("--name", help="Connector name (default: from the specification's name or the file name).")
@click.option("--stream", help="Stream name (default: the last name of contentPath.path, e.g. members).")
@click.option(
    "--primary-key",
    "primary_key",
    multiple=True,
    help="Record field(s) that identify a record; dotted for nested, e.g. member.id (repeatable).",
)
@click.option(
    "--cursor-field", help="Record field whose value advances incremental reads, e.g. member.last_changed."
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUE",
    help="An input of a generic REST sourceSpec (whose spec describes urlParams, contentPath, ...), "
    "e.g. --set urlParams.host=https://api.example.com --set contentPath.path=$.items (repeatable). "
    "Missing required inputs are asked for in a terminal, listed in the error otherwise.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a folder that already holds files the import writes (connector.yaml, "
    "pyproject.toml, ...), replacing them; without it such a folder is left untouched.",
)
@format_option("text", "json")
def source_spec(
    file: str,
    out: str | None,
    name: str | None,
    stream: str | None,
    primary_key: tuple[str, ...],
    cursor_field: str | None,
    sets: tuple[str, ...],
    force: bool,
    fmt: str,
) -> None:
    """Turn a sourceSpec (or a whole connection specification) JSON FILE into a declarative connector.

    Writes connector.yaml, schemas/ (config and record; --primary-key/--cursor-field become properties of
    the record schema, nested for dotted names), secrets/config.example.json (secrets as CDK_ENV_NAME
    references) and tests/sample_config.json (the replay config, filled by the first `cdk test --record`).
    The result passes `cdk validate` as written.

    \b
    Example:
      cdk import source-spec mailchimp-members.json --out mailchimp
          --primary-key member.id --cursor-field member.last_changed
      cd mailchimp && cdk validate
      cp secrets/config.example.json secrets/config.json   # fill it in
      cdk test --record && cdk test                         # record, then replay offline
      cdk discover --infer --write                          # record schema from the recording

    The generic REST form (the request itself is user input) takes its inputs with --set:

    \b
      cdk import source-spec generic-rest.json --out users \\
          --set urlParams.host=https://api.example.com --set urlParams.path=/v1/users \\
          --set contentPath.path=$.users

    JSON with trailing commas or comments (as the specification prints its examples) is read as
    JSON5, with a warning naming the line of the first such construct.
    """
    import sys

    from cdk.declarative.generic import parse_sets
    from cdk.declarative.importer import generic_missing, import_source_spec

    values = parse_sets(list(sets))
    if sys.stdin.isatty():
        for item in generic_missing(file, values):
            values[item.name] = click.prompt(item.describe(), err=True)
    result = import_source_spec(
        file,
        out,
        name=name,
        stream=stream,
        force=force,
        primary_key=list(primary_key) or None,
        cursor_field=cursor_field,
        values=values,
        on_warning=lambda text: click.echo(f"warning: {text}", err=True),
    )
    if fmt == "json":
        print_json(
            {
                "folder": str(result.folder),
                "name": result.name,
                "stream": result.stream,
                "files": result.files,
                "notes": result.notes,
                "warnings": result.warnings,
            }
        )
        return
    click.echo(f"wrote connector '{result.name}' (stream '{result.stream}') to {result.folder}")
    for rel in result.files:
        click.echo(f"  {rel}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"next: cp {result.folder}/secrets/config.example.json {result.folder}/secrets/config.json, "
        "fill it in, then `cdk read -C "
        f"{result.folder} --config {result.folder}/secrets/config.json`; "
        f"`cdk test -C {result.folder} --record` records the tests (then `cdk test` replays them offline)"
    )
