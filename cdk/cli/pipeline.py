"""``cdk run PIPELINE.yml``: parse, call :mod:`cdk.pipelines`, print."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import click

from cdk.cli.output import format_option, log_to_stderr, print_json


def _progress_line(s: Any) -> str:
    of = ""
    if s.total is not None:
        of = f"/{s.total:,}" + (f" ({100 * s.records / s.total:.0f}%)" if s.total else "")
    return (
        f"{s.stream}: {s.records:,}{of} records, {s.pages:,} pages, "
        f"{s.batches:,} batches acknowledged, {s.records_per_second:,.0f} records/s"
    )


class _Progress:
    """Progress of each stream on stderr, never more often than ``every`` seconds per stream: on a terminal
    one line rewritten in place (every 0.2 s), elsewhere (a log, a CI job) a plain ``progress`` line."""

    def __init__(self, quiet: bool, every: float) -> None:
        self.quiet = quiet
        self.tty = not quiet and sys.stderr.isatty()
        self.every = 0.2 if self.tty else every
        self.last: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, s: Any) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        with self.lock:
            key = "" if self.tty else s.stream  # one live line on a terminal; a clock per stream elsewhere
            if now - self.last.get(key, float("-inf")) < self.every:
                return
            self.last[key] = now
            if self.tty:
                sys.stderr.write(f"\r\033[K{_progress_line(s)}")
            else:
                sys.stderr.write(f"progress {_progress_line(s)}\n")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.tty:
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
@click.option(
    "--progress-every",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Off a terminal, a progress line per stream at most this often (a terminal's line refreshes "
    "in place).",
)
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
    progress_every: float,
    fmt: str,
) -> None:
    """Run a pipeline: a source into a destination, with nothing lost.

    PIPELINE is the guide's config.yml: `name`, `source: {name, stream, sync_mode, max_iterations, ...}`,
    `destination: {name, config}`. A source or destination is an installed connector (`name`, or
    `name==1.4.2` to refuse any other version), a folder (a path), or for sources a single file given
    with --custom-source. Built-in destinations: logger, jsonl (config: {path: DIR}), sql (config:
    {url: SQLALCHEMY_URL}; needs connector-cdk[sql]).

    The state is saved only after the destination acknowledged the records it covers: after a crash or
    a failed write, the same command resumes without losing a record. The sql destination upserts on
    each stream's primary_key from connector.yaml (the record id when there is none), so what is sent
    again leaves no duplicate. A connector destination's batch limits come from its connector.yaml
    `load:` section, else its class attributes. Progress per stream goes to stderr, then a summary
    table (--quiet: neither).

    \b
    Example:
      cdk run config.yml --custom-source ./my_source.py --log-level DEBUG
    """
    from cdk.pipelines import run_pipeline

    log_to_stderr(getattr(logging, log_level.upper()), "%(asctime)s %(levelname)s %(name)s: %(message)s")
    progress = _Progress(quiet, progress_every)
    try:
        result = run_pipeline(
            pipeline,
            custom_source=custom_source,
            streams=list(streams) or None,
            state_path=state_path,
            dry_run=dry_run,
            ignore_checkpoint=ignore_checkpoint,
            on_progress=progress,
            count_totals=not quiet,
            concurrency=concurrency,
        )
    finally:
        progress.clear()
    if fmt == "json":
        print_json(result.to_dict())  # stdout: the summary, its `totals` included
        if dry_run and not all(c["ok"] for c in result.checks.values()):
            sys.exit(1)
        if not dry_run and not quiet:
            _summary_table(result)  # stderr: the same figures for the person watching
        return
    if dry_run:
        click.echo(f"pipeline {result.name}: {result.source} -> {result.destination}")
        for end, check in result.checks.items():
            verdict = "ok" if check["ok"] else f"FAILED: {check['message']}"
            click.echo(f"  {end} connection: {verdict}")
        for p in result.plan:
            resume = f"resume at {p['resume_at']}" if p["resume_at"] else "from the start"
            origin = ", ".join(f"{k} from {v}" for k, v in p["limits_from"].items())
            key = f"primary key [{', '.join(p['primary_key'])}]" if p["primary_key"] else "no primary key"
            click.echo(
                f"  stream {p['stream']}: {p['sync_mode']}, {resume}, {key}, batches of at most "
                f"{p['max_batch_records'] or 'any'} records / {p['max_batch_bytes'] or 'any'} bytes"
                + (f" ({origin})" if origin else "")
            )
        click.echo(f"  state: {result.state_path}")
        if not all(c["ok"] for c in result.checks.values()):
            sys.exit(1)
        return
    if quiet:
        return
    _summary_table(result)


def _summary_table(result: Any) -> None:
    """The end of a run on stderr: one row per stream, then the totals."""
    click.echo(
        f"{'stream':<20} {'records':>10} {'of':>10} {'pages':>7} {'batches':>8} {'rec/s':>9}  outcome",
        err=True,
    )
    for s in result.streams:
        outcome = "complete" if s.completed else f"stopped by {s.stopped_by}"
        if s.resumed_from:
            outcome += f" (resumed at {s.resumed_from})"
        total = f"{s.total:,}" if s.total is not None else "?"
        click.echo(
            f"{s.stream:<20} {s.records:>10,} {total:>10} {s.pages:>7,} {s.batches:>8,} "
            f"{s.records_per_second:>9,.0f}  {outcome}",
            err=True,
        )
        for target, n in s.targets.items():
            click.echo(f"  -> {target}: {n:,}", err=True)
    totals = result.to_dict()["totals"]
    expected = f"{totals['expected']:,}" if totals["expected"] is not None else "?"
    click.echo(
        f"{'total':<20} {totals['records']:>10,} {expected:>10} {totals['pages']:>7,} "
        f"{totals['batches']:>8,} {totals['records_per_second']:>9,.0f}  in {totals['seconds']:.1f}s",
        err=True,
    )
    click.echo(f"{result.records:,} records into {result.destination}; state {result.state_path}", err=True)
