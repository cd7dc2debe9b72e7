"""``cdk serve``: run the custom-sources API; ``cdk serve keys create|revoke|list`` manage API keys offline."""

from __future__ import annotations

from typing import Any

import click

from cdk.cli.output import format_option, from_settings, print_json

DATABASE_HELP = (
    "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user:pass@host/db "
    "[default: SQLite file $CDK_HOME/serve.sqlite3; env: CDK_SERVE_DATABASE]."
)


def _database_url(database: str | None) -> str:
    from cdk.server.db import default_url
    from cdk.settings import Settings

    return database or default_url(Settings().get("home"))


def _need_server_extra() -> None:
    try:
        import alembic  # noqa: F401
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        from cdk.errors import UsageError

        raise UsageError(
            f"cdk serve needs the [server] extra ({exc.name} is missing)",
            hint="pip install 'connector-cdk[server]'",
        ) from None


def _database_option(fn: Any) -> Any:
    return click.option(
        "--database", "database", default=None, callback=from_settings("serve_database"), help=DATABASE_HELP
    )(fn)


@click.group("serve", invoke_without_command=True)
@click.option(
    "--host",
    default="127.0.0.1",
    callback=from_settings("serve_host"),
    help="Address to listen on [env: CDK_SERVE_HOST].",
)
@click.option(
    "--port", default="8000", callback=from_settings("serve_port"), help="TCP port [env: CDK_SERVE_PORT]."
)
@_database_option
@click.option(
    "--unsafe-sandbox",
    is_flag=True,
    callback=from_settings("unsafe_sandbox"),
    help="Where bubblewrap is unavailable, run user code WITHOUT OS isolation (trusted machines only) "
    "[env: CDK_UNSAFE_SANDBOX].",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: str, database: str | None, unsafe_sandbox: bool) -> None:
    """Serve the custom-sources API (validate, store, preview, test) at /api/v1/custom-sources.

    \b
    Every request needs an API key (Authorization: Bearer KEY, or X-API-Key: KEY):
      cdk serve keys create acme     prints a new key for workspace acme (shown once)
    OpenAPI documentation: http://HOST:PORT/docs
    """
    if ctx.invoked_subcommand is not None:
        ctx.obj = {**(ctx.obj or {}), "database": database}
        return
    _need_server_extra()
    import logging

    from cdk.errors import UsageError
    from cdk.sandbox import available
    from cdk.server import serve as run
    from cdk.server.app import ServiceConfig
    from cdk.server.db import mask_url

    if not str(port).isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--port must be a TCP port number, got {port!r}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    url = _database_url(database)
    reason = available()
    if reason is not None:
        if unsafe_sandbox:
            click.secho(
                f"WARNING: --unsafe-sandbox: {reason}. User code will run WITHOUT operating-system isolation.",
                fg="red",
                bold=True,
                err=True,
            )
        else:
            click.echo(
                f"note: {reason}; preview and test-connection will answer 503 "
                "(install bubblewrap, or start with --unsafe-sandbox on a trusted machine)",
                err=True,
            )
    click.echo(
        f"cdk serve: database {mask_url(url)}; API http://{host}:{port}/api/v1/custom-sources", err=True
    )
    run(ServiceConfig(database_url=url, unsafe_sandbox=unsafe_sandbox), host=host, port=int(port))


@serve.group("keys")
def keys() -> None:
    """Create, revoke and list API keys (offline, against the service's database)."""


def _sessions(ctx: click.Context, database: str | None) -> Any:
    _need_server_extra()
    from cdk.server.db import open_database

    return open_database(_database_url(database or (ctx.obj or {}).get("database")))


@keys.command("create")
@click.argument("workspace")
@click.option("--label", default=None, help="A note to recognise the key by (e.g. who holds it).")
@_database_option
@click.pass_context
def keys_create(ctx: click.Context, workspace: str, label: str | None, database: str | None) -> None:
    """Create an API key for WORKSPACE (created when new). The key is printed alone on the last line,
    and never shown again: only a salted hash is stored."""
    from cdk.server.db import create_key

    with _sessions(ctx, database)() as db:
        key, row = create_key(db, workspace, label=label)
        db.commit()
    click.echo(f"key id {row.id} for workspace {workspace}; store it now, it is not shown again:", err=True)
    click.echo(key)


@keys.command("revoke")
@click.argument("key_id")
@_database_option
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str, database: str | None) -> None:
    """Revoke the key KEY_ID (the id `keys list` shows, or a whole key)."""
    from cdk.errors import UsageError
    from cdk.server.db import KEY_PREFIX, revoke_key

    if key_id.startswith(KEY_PREFIX):
        key_id = key_id[len(KEY_PREFIX) :].split("_", 1)[0]
    with _sessions(ctx, database)() as db:
        if not revoke_key(db, key_id):
            raise UsageError(f"no live key {key_id!r}", hint="`cdk serve keys list` shows the keys")
        db.commit()
    click.echo(f"revoked {key_id}")


@keys.command("list")
@click.option("--workspace", default=None, help="Only this workspace's keys.")
@_database_option
@format_option("text", "json")
@click.pass_context
def keys_list(ctx: click.Context, workspace: str | None, database: str | None, fmt: str) -> None:
    """List API keys (ids, workspaces, dates; never the keys themselves)."""
    from cdk.server.db import list_keys

    with _sessions(ctx, database)() as db:
        rows = [
            {
                "id": k.id,
                "workspace": ws,
                "label": k.label,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k, ws in list_keys(db, workspace)
        ]
    if fmt == "json":
        print_json(rows)
        return
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "live"
        click.echo(
            f"{r['id']}  {r['workspace']}  {state}  created {r['created_at']}  {r['label'] or ''}".rstrip()
        )
