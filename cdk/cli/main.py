"""The ``cdk`` command: a click group whose subcommands are imported only when run.

``COMMANDS`` is the single registry: name -> (module:function, one-line help). ``cdk --help`` prints
the one-line help from here, so listing commands imports none of them.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from cdk._version import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("cdk.cli.init:init", "Scaffold a connector from a template (--list shows them)."),
    "schema": ("cdk.cli.schema:schema", "Print JSON Schemas (e.g. of connector.yaml) for editors and CI."),
    "spec": ("cdk.cli.run:spec", "Print the connector's config JSON Schema."),
    "check": ("cdk.cli.run:check", "Test the connection and credentials of a config."),
    "discover": ("cdk.cli.run:discover", "List the connector's streams and their schemas."),
    "read": ("cdk.cli.run:read", "Read a stream and write its records as JSON Lines."),
    "write": ("cdk.cli.run:write", "Load JSON Lines records from stdin into a destination."),
    "import": ("cdk.cli.import_:import_group", "Create a connector folder from a sourceSpec JSON."),
    "test": ("cdk.cli.test:test", "Run the connector's tests on recorded HTTP; --record records."),
    "validate": ("cdk.cli.validate:validate", "Static checks: schema, methods, deps, security, secrets."),
    "rules": ("cdk.cli.validate:rules", "List validation rules, or explain one: cdk rules S001."),
    "ci": ("cdk.cli.ci:ci", "The merge gate: validate, test (replay), build, version rules."),
    "demo-api": ("cdk.cli.demo:demo_api", "Serve the local demo API (synthetic records) on 127.0.0.1."),
    "build": ("cdk.cli.build:build", "Build the connector's sdist and wheel (reproducible, checked)."),
    "publish": ("cdk.cli.publish:publish", "Version, gate, build and upload the connector to a registry."),
    "versions": ("cdk.cli.publish:versions", "List the versions of a connector published in a registry."),
    "install": ("cdk.cli.publish:install", "Install a pinned connector (NAME==VERSION) from a registry."),
    "connectors": ("cdk.cli.publish:connectors", "List the connectors installed here, with their versions."),
    "config": ("cdk.cli.config:config", "Show every effective setting and where it came from."),
    "run": ("cdk.cli.pipeline:run", "Run a pipeline (config.yml): a source into a destination."),
    "serve": ("cdk.cli.serve:serve", "Serve the custom-sources API; `serve keys` manages its API keys."),
}

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        import importlib

        module_name, attr = target[0].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else None
        if name and name not in COMMANDS and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint} See 'cdk --help'.")
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="cdk", message="%(prog)s %(version)s")
@click.option(
    "--debug",
    is_flag=True,
    callback=lambda ctx, param, value: _debug_option(ctx, param, value),
    help="Show tracebacks for failures [env: CDK_DEBUG].",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Build, validate, test and publish data connectors.

    \b
    A typical session:
      cdk init my-api            scaffold a connector
      cdk validate               static checks (schema, methods, security, secrets, egress)
      cdk test                   replay recorded HTTP fixtures; --record records them
      cdk read --stream users    run it locally, records as JSON Lines
      cdk publish 1.0.0          build and upload a versioned wheel

    Exit codes: 0 success, 1 the check said no, 2 usage error, 3 an outside failure,
    4 a partial read (a request cap was reached; run again to continue).
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _debug_option(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """--debug, else the ``debug`` setting (CDK_DEBUG, user config)."""
    from cdk.cli.output import from_settings

    return bool(from_settings("debug")(ctx, param, value))


def _debug_setting() -> bool:
    """CDK_DEBUG (or ``debug`` in the user config); False when that setting is itself the bad value."""
    from cdk.errors import CdkError
    from cdk.settings import Settings

    try:
        return bool(Settings().get("debug"))
    except CdkError:
        return False


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the CLI and turns expected failures into messages and exit codes."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        # in non-standalone mode click returns (not raises) the code of ctx.exit(n)
        code = cli.main(args=argv, prog_name="cdk", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one place that turns failures into exit codes
        from cdk.cli.output import report_failure

        sys.exit(report_failure(exc, debug=debug or _debug_setting()))
    sys.exit(0)
