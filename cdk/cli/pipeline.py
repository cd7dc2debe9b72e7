"""``cdk run PIPELINE.yml``: parse, call :mod:`cdk.pipelines`, print."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import click

from cdk.cli.output import format_option, print_json


class _Progress:
    """One status line on stderr per stream, refreshed at most every 0.2 s, only on a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.live = not quiet and sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, s: Any) -> None:
        now = time.monotonic()
        if self.live and now - self.last > 0.2:
            self.last = now
            of = f"/{s.total:,}" if s.total is not None else ""
            rate = s.records / max(s.seconds, 1e-9)
            sys.stderr.write(
                f"\r\033[K{s.stream}: {s.records:,}{of} records, {s.pages:,} pages, "
                f"{s.batches:,} batches acknowledged ({rate:,.0f} records/s)"
            )
            sys.stderr.flush()

    def clear(self) -> None:
        if self.live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@click.command()
@click.argument("pipeline", type=click.Path(dir_okay=False))
@click.option(
    "--custom-source",
    type=click.Path(dir_okay=False),
    help="A single-file source (FILE.py defining an AbstractSource), as the guide runs it; "
    "source.name then only names it.",
)
@click.option(
    "--stream", "-s", "streams", multiple=True, help="Stream to sync (repeat; default: source.stream)."
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    help="State file (default: .cdk/state/<pipeline name>.json beside the pipeline file).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Streams read at the same time (each with its own checkpoint).",
)
@click.option("--dry-run", is_flag=True, help="Check both ends and print the plan; read and write nothing.")
@click.option("--ignore-checkpoint", is_flag=True, help="Start from the first page, whatever the state says.")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Logging on stderr (the logger destination logs records at INFO).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr.")
@format_option("text", "json")
def run(
    pipeline: str,
    custom_source: str | None,
    streams: tuple[str, ...],
    state_path: str | None,
    concurrency: int,
    dry_run: bool,
    ignore_checkpoint: bool,
    log_level: str,
    quiet: bool,
    fmt: str,
) -> None:
    """Run a pipeline: a source into a destination, with nothing lost.

    PIPELINE is the guide's config.yml: `name`, `source: {name, stream, sync_mode, max_iterations, ...}`,
    `destination: {name, config}`. A source or destination is an installed connector (`name`, or
    `name==1.4.2` to refuse any other version), a folder (a path), or for sources a single file given
    with --custom-source. Built-in destinations: logger, jsonl (config: {path: DIR}), sql (config:
    {url: SQLALCHEMY_URL}; needs connector-cdk[sql]).

    The state is saved only after the destination acknowledged the records it covers: after a crash or
    a failed write, the same command resumes without losing a record.

    \b
    Example:
      cdk run config.yml --custom-source ./my_source.py --log-level DEBUG
    """
    from cdk.pipelines import run_pipeline

    logging.basicConfig(
        level=getattr(logging, log_level.upper()),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    progress = _Progress(quiet)
    try:
        result = run_pipeline(
            pipeline,
            custom_source=custom_source,
            streams=list(streams) or None,
            state_path=state_path,
            dry_run=dry_run,
            ignore_checkpoint=ignore_checkpoint,
            on_progress=progress,
            count_totals=progress.live,
            concurrency=concurrency,
        )
    finally:
        progress.clear()
    if fmt == "json":
        print_json(result.to_dict())
        if dry_run and not all(c["ok"] for c in result.checks.values()):
            sys.exit(1)
        return
    if dry_run:
        click.echo(f"pipeline {result.name}: {result.source} -> {result.destination}")
        for end, check in result.checks.items():
            verdict = "ok" if check["ok"] else f"FAILED: {check['message']}"
            click.echo(f"  {end} connection: {verdict}")
        for p in result.plan:
            resume = f"resume at {p['resume_at']}" if p["resume_at"] else "from the start"
            click.echo(
                f"  stream {p['stream']}: {p['sync_mode']}, {resume}, batches of at most "
                f"{p['max_batch_records'] or 'any'} records / {p['max_batch_bytes'] or 'any'} bytes"
            )
        click.echo(f"  state: {result.state_path}")
        if not all(c["ok"] for c in result.checks.values()):
            sys.exit(1)
        return
    if quiet:
        return
    click.echo(f"{'stream':<20} {'records':>10} {'pages':>7} {'batches':>8} {'rec/s':>9}  outcome", err=True)
    for s in result.streams:
        outcome = "complete" if s.completed else f"stopped by {s.stopped_by}"
        if s.resumed_from:
            outcome += f" (resumed at {s.resumed_from})"
        rate = s.records / s.seconds if s.seconds > 0 else 0.0
        click.echo(
            f"{s.stream:<20} {s.records:>10,} {s.pages:>7,} {s.batches:>8,} {rate:>9,.0f}  {outcome}",
            err=True,
        )
        for target, n in s.targets.items():
            click.echo(f"  -> {target}: {n:,}", err=True)
    click.echo(f"{result.records:,} records into {result.destination}; state {result.state_path}", err=True)
