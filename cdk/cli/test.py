"""``cdk test``: run a connector's tests (standard, error-path and its own) against recorded HTTP."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cdk.cli.output import connector_option
from cdk.testing.modes import RecordMode

PYTEST_EXIT = {0: 0, 1: 1, 2: 1, 3: 1, 4: 2, 5: 1}


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[PATH] [-- PYTEST_ARGS]")
@connector_option
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
) -> None:
    """Run the connector's tests; HTTP is replayed from tests/cassettes (the network is blocked).

    \b
    Standard tests come from connector.yaml: connector.yaml::check, ::streams, ::read[STREAM],
    ::incremental[STREAM] and ::errors[...] (401, 429, 500, timeout — synthesised, no live calls).
    Exit 0 when all pass, 1 when a test fails, 2 for a usage error.
    """
    from cdk.errors import UsageError

    rest = list(args)
    root = Path(connector)  # --connector/-C (default .); a PATH argument wins
    if rest and not rest[0].startswith("-") and _is_connector(Path(rest[0])):
        root = Path(rest.pop(0))
    root = root.resolve()
    if root.name == "connector.yaml":
        root = root.parent
    if not (root / "connector.yaml").is_file():
        raise UsageError(f"no connector.yaml in {root}", hint="run it in a connector folder or pass PATH")
    if config_path and not record:
        raise UsageError(
            "--config is the real config for recording; it needs --record",
            hint="replay uses tests/sample_config.json",
        )

    if streams:
        from cdk.project import Project

        known = Project.load(root).manifest.stream_names
        unknown = [s for s in streams if s not in known]
        if unknown:
            raise UsageError(
                f"no stream {', '.join(map(repr, unknown))} in connector.yaml; streams: {', '.join(known)}"
            )

    mode = RecordMode(record) if record else RecordMode.NONE
    argv = [f"--rootdir={root}", f"--cdk-connector={root}", f"--cdk-record={mode.value}"]
    if config_path:
        argv.append(f"--cdk-config={Path(config_path).resolve()}")
    for s in streams:
        argv.append(f"--cdk-stream={s}")
    if keyword:
        argv += ["-k", keyword]
    if junit_xml:
        argv.append(f"--junitxml={Path(junit_xml).resolve()}")
    user_paths = [a for a in rest if not a.startswith("-") and (root / a.split("::")[0]).exists()]
    if not user_paths:
        argv.append("connector.yaml")
        if (root / "tests").is_dir():
            argv.append("tests")
    argv += rest

    env = dict(os.environ)
    if not record:
        env["CDK_VIRTUAL_TIME"] = "1"  # retries and rate limits of replayed traffic never sleep
    import subprocess

    # a fresh interpreter: pytest must import (and assert-rewrite) the plugin and the connector itself
    code = subprocess.run([sys.executable, "-m", "pytest", *argv], cwd=root, env=env).returncode
    if code == 5:
        click.echo("no tests were selected (check -k / --stream)", err=True)
    sys.exit(PYTEST_EXIT.get(code, 1))


def _is_connector(path: Path) -> bool:
    return (path / "connector.yaml").is_file() or (path.name == "connector.yaml" and path.is_file())
