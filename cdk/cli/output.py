"""Printing shared by every command: failures, JSON, and the options every command takes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource


def use_color(stream: Any = None) -> bool:
    """Colour only on a terminal and never when NO_COLOR is set."""
    stream = stream or sys.stderr
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def report_failure(exc: BaseException, *, debug: bool = False) -> int:
    """Print a failure for a person (no traceback unless ``debug``) and return its exit code."""
    from cdk.errors import CdkError
    from cdk.secrets import mask_for_display as safe

    if debug:
        import traceback

        sys.stderr.write(safe("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))))
    color = use_color()
    if isinstance(exc, CdkError):
        label = click.style("error:", fg="red", bold=True) if color else "error:"
        click.echo(f"{label} {safe(exc.message)}", err=True)
        if exc.hint:
            click.echo(f"  hint: {safe(exc.hint)}", err=True)
        return exc.exit_code
    label = click.style("internal error:", fg="red", bold=True) if color else "internal error:"
    click.echo(f"{label} {type(exc).__name__}: {safe(str(exc))}", err=True)
    if not debug:
        click.echo("  run again with --debug for the traceback, and please report it", err=True)
    return 1


def log_to_stderr(level: int, fmt: str = "%(levelname)s %(name)s: %(message)s") -> None:
    """Logging for a run command: stderr, every line masked, because connector code may log its config."""
    import logging

    from cdk.secrets import MaskingFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])


def print_json(data: Any) -> None:
    """JSON to stdout, indented, keys in a stable order."""
    click.echo(json.dumps(data, indent=2, default=str))


def from_settings(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """An option callback: the flag when given on the command line, else the setting ``name``'s effective
    value (environment > the connector's [tool.cdk] > user config > default; see cdk.settings)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        from cdk.settings import Settings

        given = param.name is not None and ctx.get_parameter_source(param.name) == ParameterSource.COMMANDLINE
        settings = Settings(
            flags={name: value} if given else None,
            connector=ctx.params.get("connector") if name != "connector" else None,
        )
        return settings.get(name)

    return callback


def connector_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--connector PATH`` (default: the current folder)."""
    return click.option(
        "--connector",
        "-C",
        "connector",
        type=click.Path(file_okay=True, dir_okay=True),
        default=".",
        show_default=True,
        is_eager=True,  # resolved first: the other settings read its [tool.cdk]
        callback=from_settings("connector"),
        help="Connector folder (or its connector.yaml) [env: CDK_CONNECTOR].",
    )(fn)


def format_option(*choices: str, default: str = "text") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--format`` with the given choices."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(list(choices)),
            default=default,
            show_default=True,
            help="Output format.",
        )(fn)

    return deco
