"""``cdk config show``: every effective setting, its value and where it came from."""

from __future__ import annotations

import click

from cdk.cli.output import connector_option, format_option, print_json


@click.group("config")
def config() -> None:
    """Inspect cdk's settings (flag > CDK_* environment > [tool.cdk] > user config > default)."""


@config.command("show")
@connector_option
@format_option("text", "json")
@click.pass_context
def show(ctx: click.Context, connector: str, fmt: str) -> None:
    """Print every setting's effective value and its source; secrets are masked.

    The connector's pyproject.toml [tool.cdk] is read from --connector (default: the current folder);
    the user config file is $XDG_CONFIG_HOME/cdk/config.toml (default ~/.config/cdk/config.toml).
    """
    from click.core import ParameterSource

    from cdk.settings import Settings

    given = ctx.get_parameter_source("connector") == ParameterSource.COMMANDLINE
    settings = Settings(flags={"connector": connector} if given else None, connector=connector)
    values = list(settings)
    if fmt == "json":
        print_json(
            {
                "user_config": str(settings.user_config_path),
                "settings": [
                    {
                        "name": v.setting.name,
                        "env": v.setting.env,
                        "value": v.shown if v.setting.secret and v.value is not None else v.value,
                        "source": v.source,
                        "origin": v.origin,
                    }
                    for v in values
                ],
            }
        )
        return
    rows = [(v.setting.name, v.shown, v.source + (f" ({v.origin})" if v.origin else "")) for v in values]
    widths = [max(len(r[i]) for r in [("setting", "value", "source"), *rows]) for i in range(2)]
    click.echo(f"{'setting':<{widths[0]}}  {'value':<{widths[1]}}  source")
    for name, shown, source in rows:
        click.echo(f"{name:<{widths[0]}}  {shown:<{widths[1]}}  {source}")
    click.echo(f"\nuser config: {settings.user_config_path}")
