"""``cdk spec | check | discover | read | write``: run a connector locally."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from cdk.cli.output import connector_option, format_option, log_to_stderr, print_json

if TYPE_CHECKING:
    from cdk.project import Project

CONFIG_HELP = (
    "Config file (JSON or YAML). Secret references are resolved at run time and never written: "
    "CDK_ENV_NAME or BIZON_ENV_NAME (environment variable NAME), file:PATH (relative to the config), "
    "vault:MOUNT/PATH#KEY (Vault KV v2 at VAULT_ADDR, token VAULT_TOKEN)."
)


def _project(connector: str, version: str | None = None) -> Project:
    """A connector folder, or an installed connector by name (its cdk.connectors entry point)."""
    from cdk.connector import open_connector

    return open_connector(connector, version=version)


@click.command()
@connector_option
def spec(connector: str) -> None:
    """Print the connector's config JSON Schema (what a config file must hold)."""
    from cdk.connector import connector_config_schema

    print_json(connector_config_schema(_project(connector)))


@click.command()
@connector_option
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True, help=CONFIG_HELP)
@format_option("text", "json")
def check(connector: str, config_path: str, fmt: str) -> None:
    """Test the connection and credentials. Exit 0 when they work, 1 with the reason when not."""
    from cdk.connector import check_connection

    ok, reason = check_connection(_project(connector), config_path)
    if fmt == "json":
        print_json({"success": bool(ok), "message": "Connection successful" if ok else reason})
    elif ok:
        click.echo("Connection successful")
    else:
        click.echo(f"Connection failed: {reason}", err=True)
    sys.exit(0 if ok else 1)


@click.command()
@connector_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file: lets a source discover its streams itself (discover(), get_json_schema(), a "
    "declarative stream's schemaParams metadata endpoint); with --infer, records are read live. "
    + CONFIG_HELP,
)
@click.option(
    "--infer",
    is_flag=True,
    help="Propose each stream's JSON Schema from its records: the recordings of `cdk test --record` "
    "(offline), or a live read with --config.",
)
@click.option(
    "--limit",
    "--sample",
    "limit",
    type=click.IntRange(min=1),
    default=None,
    help="Records per stream for --infer (default: every recorded record; 100 when read live).",
)
@click.option("--stream", "-s", "streams", multiple=True, help="Only this stream (repeatable).")
@click.option(
    "--write",
    is_flag=True,
    help="Write the proposed schemas into the streams' schema files (atomically, all or nothing).",
)
@click.option(
    "--force", is_flag=True, help="With --write: also replace schema files written or edited by hand."
)
@format_option("text", "json", default="json")
def discover(
    connector: str,
    config_path: str | None,
    infer: bool,
    limit: int | None,
    streams: tuple[str, ...],
    write: bool,
    force: bool,
    fmt: str,
) -> None:
    """List the streams with their primary keys, cursor fields and record schemas.

    Without --config: the manifest's streams. With --config: the source's own discover() when it has
    one (dynamic discovery), else its get_json_schema(stream) (for a declarative stream with
    schemaParams: the fields its metadata endpoint lists), else the manifest.

    --infer proposes a schema from records (genson, plus date-time/date formats; no `required`):
    replayed from tests/cassettes/read-STREAM.json without --config, read live (--limit each) with it.
    --write saves the proposals into the schema files connector.yaml names; a file not written by cdk
    (or edited since) is refused unless --force, and then nothing is written (exit 2).

    \b
    Example:
      cdk test --record && cdk discover --infer --format text
      cdk discover --infer --write --stream members
      cdk discover --config secrets/config.json --infer --limit 500 --write --force
    """
    import logging

    from cdk.workflows.discover import discover as run_discover

    log_to_stderr(logging.WARNING)
    project = _project(connector)
    found = run_discover(
        project, config_path, infer=infer, limit=limit, streams=streams, write=write, force=force
    )
    if fmt == "json":
        print_json(found.as_dict())
    else:
        for s in found.streams:
            keys = ",".join(s["primary_key"]) or "-"
            click.echo(
                f"{s['name']:<24} primary_key={keys:<12} cursor={s['cursor_field'] or '-':<16} schema: {s['origin']}"
            )
            if s.get("note"):
                click.echo(f"  note: {s['note']}")
    for path in found.written:
        click.echo(f"wrote {path}", err=True)


class _Progress:
    """One status line on stderr, refreshed at most every 0.2 s, only on a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.start, self.last = time.monotonic(), 0.0
        self.live = not quiet and sys.stderr.isatty()
        self.total: int | None = None

    def set_total(self, total: int | None) -> None:
        """The source's get_total_records_count(): shown as "n/total"."""
        self.total = total

    def __call__(self, summary: Any) -> None:
        now = time.monotonic()
        if self.live and now - self.last > 0.2:
            self.last = now
            rate = summary.records / max(now - self.start, 1e-9)
            of = f"/{self.total:,}" if self.total is not None else ""
            sys.stderr.write(
                f"\r{summary.stream}: {summary.records:,}{of} records, {summary.pages:,} pages ({rate:,.0f}/s)"
            )
            sys.stderr.flush()

    def done(self, text: str) -> None:
        if self.live:
            sys.stderr.write("\r\033[K")
        click.echo(text, err=True)


@click.command()
@click.argument("name", required=False)
@connector_option
@click.option(
    "--version",
    "version",
    default=None,
    help="Refuse to run unless the connector is this version (e.g. 1.4.2).",
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True, help=CONFIG_HELP)
@click.option(
    "--stream",
    "-s",
    "streams",
    multiple=True,
    help="Stream to read; repeat to read several (default: the config's stream:, else every stream).",
)
@click.option(
    "--all-streams",
    is_flag=True,
    help="Read every stream of the connector, one after the other (the default when the config names no "
    "stream).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    help="State file: read to resume or continue incrementally, rewritten after every page.",
)
@click.option(
    "--incremental/--full-refresh", default=None, help="Sync mode (default: the config's sync_mode)."
)
@click.option("--max-records", type=click.IntRange(min=1), help="Stop after this many records (a preview).")
@click.option("--max-iterations", type=click.IntRange(min=1), help="Stop after this many pages.")
@click.option(
    "--ignore-checkpoint", is_flag=True, help="Start from the first page even if the state says otherwise."
)
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Accept a read that stops at the source's request cap (declarative maximumRequest): exit 0 with a "
    "warning instead of 4. Either way the state holds where it stopped and the next run continues there.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr.")
@click.option(
    "--sandbox",
    is_flag=True,
    help="Run the connector's code in the bubblewrap sandbox of `cdk serve` (no files, no network but its "
    "allowed_hosts, time and memory limits); not with --state.",
)
def read(
    name: str | None,
    connector: str,
    version: str | None,
    config_path: str,
    streams: tuple[str, ...],
    all_streams: bool,
    state_path: str | None,
    incremental: bool | None,
    max_records: int | None,
    max_iterations: int | None,
    ignore_checkpoint: bool,
    allow_partial: bool,
    quiet: bool,
    sandbox: bool,
) -> None:
    """Read streams and write their records to stdout as JSON Lines.

    Progress and logs go to stderr, so stdout can be piped. With --state, a crash or Ctrl-C resumes at the
    next page on the following run, and incremental reads start after the last cursor. --max-records and
    --max-iterations apply to each stream.

    A stream that reaches its request cap (a declarative source's paginationParams.maximumRequest, 10000
    by default) with pages left stops there, says so on stderr and exits 4: the state holds the next page,
    so the same command (same --state) continues from it. --allow-partial makes that exit 0.

    NAME (or -C) is a connector folder or the name of an installed connector (`cdk connectors`).

    \b
    Example:
      cdk read --config secrets/config.json --stream users --state state.json >> users.jsonl
      cdk read --config secrets/config.json --all-streams > everything.jsonl
      cdk read acme --version 1.4.2 --config acme.json
    """
    import logging

    from cdk.connector import choose_streams, read_stream
    from cdk.sdk import runner

    if sandbox:
        if len(streams) > 1 or all_streams:
            from cdk.errors import UsageError

            raise UsageError("--sandbox reads one stream per run: give at most one --stream")
        _read_sandboxed(
            name or connector, config_path, streams[0] if streams else None, state_path, max_records, quiet
        )
        return
    log_to_stderr(logging.WARNING if not quiet else logging.ERROR)
    project = _project(name or connector, version)
    chosen = choose_streams(project, config_path, list(streams), all_streams=all_streams)
    sink = runner.JsonLinesSink(sys.stdout.buffer)
    for stream in chosen:
        progress = _Progress(quiet)
        summary = read_stream(
            project,
            config_path,
            stream,
            sink,
            state_path=state_path,
            incremental=incremental,
            max_records=max_records,
            max_iterations=max_iterations,
            ignore_checkpoint=ignore_checkpoint,
            on_page=progress,
            on_total=progress.set_total if progress.live else None,
            allow_partial=allow_partial,
        )
        if "partial" in summary.extra:  # even with --quiet: records are missing from this run's output
            resume = (
                f"{state_path} holds where it stopped: run again to continue"
                if state_path
                else "without --state the next run starts over"
            )
            click.echo(f"warning: {summary.extra['partial']}; accepted (--allow-partial); {resume}", err=True)
        if state_path and not summary.extra.get("incremental", True) and not quiet:
            click.echo(
                f"warning: {summary.stream} is a full-refresh read: --state only resumes it after an "
                "interruption; a completed read starts over next time (--incremental reads only newer records)",
                err=True,
            )
        if not quiet:
            extra = f", resumed at {summary.resumed_from}" if summary.resumed_from else ""
            extra += f", stopped by {summary.stopped_by}" if summary.stopped_by else ""
            extra += f", cursor now {summary.cursor}" if summary.cursor else ""
            progress.done(f"{summary.stream}: {summary.records:,} records in {summary.pages:,} pages{extra}")


def _read_sandboxed(
    connector: str,
    config_path: str,
    stream: str | None,
    state_path: str | None,
    max_records: int | None,
    quiet: bool,
) -> None:
    """``cdk read --sandbox``: the same read, in the sandbox; records printed once it ends."""
    from cdk import sandbox
    from cdk.connector import read_config_file
    from cdk.errors import ConnectorError, UsageError
    from cdk.sdk.config import resolve_env

    if state_path is not None:
        raise UsageError(
            "--sandbox does not keep state: drop --state (the sandbox has no files that outlive it)"
        )
    project = _project(connector)
    config = resolve_env(read_config_file(config_path))  # env references resolve here: the sandbox has no env
    result = sandbox.run(
        "preview",
        folder=project.root,
        stream=stream,
        streams=project.manifest.stream_names,
        config=config,
        max_records=max_records,
        allowed_hosts=project.manifest.allowed_hosts,
    )
    from datetime import datetime

    from cdk.sdk.records import SourceRecord
    from cdk.sdk.runner import JsonLinesSink

    name = stream or (project.manifest.stream_names or [""])[0]
    JsonLinesSink(sys.stdout.buffer)(  # the same lines, written the same durable way, as a plain `cdk read`
        name,
        [
            SourceRecord(
                id=r["id"],
                data=r["data"],
                timestamp=datetime.fromisoformat(r["timestamp"]) if r.get("timestamp") else None,
                destination_id=r.get("destination_id"),
            )
            for r in result.records
        ],
    )
    if not quiet:
        for e in result.http_log:
            click.echo(
                f"{e['method']} {e['url']} -> {e['status']} ({e['elapsed_ms']} ms){' DENIED' if e['denied'] else ''}",
                err=True,
            )
    if not result.success:
        raise ConnectorError(result.error or "the sandboxed read failed")
    if not quiet:
        click.echo(
            f"{len(result.records):,} records (sandboxed: {result.isolation}, {result.execution_time_ms} ms)",
            err=True,
        )


@click.command()
@connector_option
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True, help=CONFIG_HELP)
@click.option("--stream", "-s", required=True, help="Stream the records belong to.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Records per write() (default: the config's buffer_size).",
)
@format_option("text", "json")
def write(connector: str, config_path: str, stream: str, batch_size: int | None, fmt: str) -> None:
    """Load JSON Lines records from stdin into a destination (capability `load`).

    Accepts the output of `cdk read` or bare JSON objects, one per line.

    \b
    Example:
      cdk read -C ../my-source --config src.json -s users | cdk write --config dest.json -s users
    """
    from cdk.connector import write_records

    summary = write_records(_project(connector), config_path, stream, sys.stdin.buffer, batch_size=batch_size)
    result = {
        "stream": stream,
        "written": summary.written,
        "failed": summary.failed,
        "batches": summary.batches,
        "errors": summary.errors[:20],
    }
    if fmt == "json":
        print_json(result)
    else:
        click.echo(
            f"{stream}: {summary.written:,} written, {summary.failed:,} failed in {summary.batches} batches",
            err=True,
        )
    if summary.failed:
        sys.exit(1)
