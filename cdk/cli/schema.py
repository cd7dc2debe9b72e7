"""``cdk schema``: print generated JSON Schemas."""

from __future__ import annotations

import click

from cdk.cli.output import print_json

SCHEMAS = ("manifest",)


@click.command()
@click.argument("what", type=click.Choice(SCHEMAS), default="manifest")
def schema(what: str) -> None:
    """Print the JSON Schema of WHAT (default: manifest, i.e. connector.yaml).

    \b
    Point your editor at it for completion, e.g. in VS Code with the YAML extension:
      cdk schema manifest > .cdk/connector.schema.json
      # yaml-language-server: $schema=.cdk/connector.schema.json
    """
    from cdk.manifest import manifest_json_schema

    print_json(manifest_json_schema())
