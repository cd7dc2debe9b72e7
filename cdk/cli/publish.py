"""``cdk publish``, ``cdk versions``, ``cdk install``, ``cdk connectors``: thin commands over the publish
workflow and cdk.publish."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from cdk.cli.output import connector_option, format_option, from_settings, print_json

if TYPE_CHECKING:
    from cdk.publish.build import Isolation


def _registry_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--index-url",
        default=None,
        callback=from_settings("registry_index_url"),
        help="The registry's simple index, when it is not REPOSITORY/simple/ [env: CDK_REGISTRY_INDEX_URL].",
    )(fn)
    fn = click.option(
        "--password",
        default=None,
        callback=from_settings("registry_password"),
        help="Registry password or token (prefer the environment; never printed) [env: CDK_REGISTRY_PASSWORD].",
    )(fn)
    fn = click.option(
        "--username",
        "-u",
        default=None,
        callback=from_settings("registry_username"),
        help="Registry user name [env: CDK_REGISTRY_USERNAME].",
    )(fn)
    fn = click.option(
        "--repository",
        "-r",
        default=None,
        callback=from_settings("registry_url"),
        help="Registry: a URL, a ~/.pypirc section name, or a folder [default: $CDK_HOME/registry] "
        "[env: CDK_REGISTRY_URL].",
    )(fn)
    return fn


@click.command("publish")
@click.argument("version")
@connector_option
@_registry_options
@click.option("--dry-run", is_flag=True, help="Do everything but upload, tag and write files.")
@click.option("--tag", is_flag=True, help="Commit the version bump and create the git tag vVERSION.")
@click.option("--skip-tests", is_flag=True, help="Skip `cdk test` in the gate (not recommended).")
@click.option("--skip-validate", is_flag=True, help="Skip `cdk validate` in the gate (not recommended).")
@click.option("--skip-gate", is_flag=True, help="Skip the whole gate: --skip-validate --skip-tests.")
@click.option(
    "--isolation",
    type=click.Choice(["auto", "isolated", "none"]),
    default="auto",
    show_default=True,
    callback=from_settings("build_isolation"),
    help="Build isolation (see cdk build) [env: CDK_BUILD_ISOLATION].",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@format_option("text", "json")
def publish(
    version: str,
    connector: str,
    repository: str | None,
    username: str | None,
    password: str | None,
    index_url: str | None,
    dry_run: bool,
    tag: bool,
    skip_tests: bool,
    skip_validate: bool,
    skip_gate: bool,
    isolation: Isolation,
    quiet: bool,
    fmt: str,
) -> None:
    """Publish the connector as VERSION (1.4.2, 2.0.0-rc.1) or the next patch|minor|major.

    \b
    Steps: refuse a version already published or not greater than the latest; the breaking-change diff
    against the latest published version; the gate (validate, test in replay); write the version into
    connector.yaml and pyproject.toml; build; twine check; scan for secrets; upload; tag.
    """
    from cdk.workflows.publish import PublishOptions
    from cdk.workflows.publish import publish as run

    options = PublishOptions(
        version,
        repository,
        username,
        password,
        index_url,
        dry_run,
        tag,
        skip_tests or skip_gate,
        skip_validate or skip_gate,
        isolation,
    )
    _interrupt_on_sigterm()  # a killed publish still restores connector.yaml and pyproject.toml
    with _progress(quiet) as progress:
        result = run(connector, options, progress=progress)
    if fmt == "json":
        print_json(result.as_dict())
        return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.diff is not None:
        click.echo(
            f"changes since {result.diff['against']} (need at least a {result.diff['required_bump']} bump):"
            if result.diff["changes"]
            else f"no changes to streams or config since {result.diff['against']}",
            err=True,
        )
        for c in result.diff["changes"]:
            mark = "!" if c["severity"] == "breaking" else "+"
            click.echo(f"  {mark} {c['where']}: {c['message']}", err=True)
    if result.dry_run:
        click.echo(
            f"dry run: {result.name} {result.version} would be published to {result.registry} "
            f"({', '.join(result.artifacts)})",
            err=True,
        )
    else:
        click.echo(f"published {result.name} {result.version} to {result.registry}", err=True)
        where = (
            ""
            if repository is None
            else f" --repository {repository if '@' not in repository else '<registry>'}"
        )
        if index_url:
            where += f" --index-url {index_url if '@' not in index_url else '<index>'}"
        click.echo(f"pin it in pipelines; install with: cdk install {result.requirement}{where}", err=True)
        click.echo(
            f"or, on a machine without cdk: pip install --extra-index-url {result.install_index} "
            f"{result.requirement}",
            err=True,
        )
        if result.tag:
            click.echo(f"tagged {result.tag}", err=True)
    click.echo(result.requirement)


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str], None]]:
    """Step messages on stderr: a live spinner line on a terminal, plain lines otherwise."""
    import sys

    from cdk.cli.output import use_color

    if quiet:
        yield lambda message: None
        return
    if not use_color(sys.stderr):
        yield lambda message: click.echo(f"· {message}", err=True)
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("publishing") as status:

        def update(message: str) -> None:
            console.print(f"· {message}", highlight=False, markup=False)
            status.update(message)

        yield update


def _interrupt_on_sigterm() -> None:
    """Every catchable signal that ends a process (TERM, HUP — a closed terminal —, QUIT) interrupts the
    publish like Ctrl-C does, so the workflow restores connector.yaml and pyproject.toml."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, handler)


@click.command("versions")
@click.argument("name")
@_registry_options
@format_option("text", "json")
def versions(
    name: str,
    repository: str | None,
    username: str | None,
    password: str | None,
    index_url: str | None,
    fmt: str,
) -> None:
    """List the published versions of NAME (a distribution, or a connector: acme finds acme-connector)."""
    from cdk.publish.registry import find_project, open_registry, versions_of

    registry = open_registry(repository, username=username, password=password, index_url=index_url)
    name, files = find_project(registry, name)
    found = versions_of(files)
    if fmt == "json":
        print_json(
            {
                "name": name,
                "registry": registry.display,
                "versions": [
                    {
                        "version": v,
                        "files": [
                            {"filename": f.filename, "sha256": f.sha256} for f in files if f.version == v
                        ],
                    }
                    for v in found
                ],
            }
        )
        return
    if not found:
        click.echo(f"{name}: nothing published in {registry.display}", err=True)
    for v in found:
        click.echo(v)


@click.command("install")
@click.argument("requirement")
@_registry_options
@click.option(
    "--python",
    "python",
    default=None,
    type=click.Path(dir_okay=False),
    help="Install into the environment of this interpreter [default: the one running cdk].",
)
@click.option("--extra-index-url", "extra", multiple=True, help="Another index for dependencies (e.g. PyPI).")
def install(
    requirement: str,
    repository: str | None,
    username: str | None,
    password: str | None,
    index_url: str | None,
    python: str | None,
    extra: tuple[str, ...],
) -> None:
    """Install a pinned connector, NAME==VERSION, from the registry (pip); NAME may be the connector's name."""
    from cdk.publish.install import install_connector
    from cdk.publish.registry import open_registry

    registry = open_registry(repository, username=username, password=password, index_url=index_url)
    installed = install_connector(registry, requirement, python=python, extra_index_urls=list(extra))
    click.echo(f"installed {installed} from {registry.display}", err=True)


@click.command("connectors")
@format_option("text", "json")
def connectors(fmt: str) -> None:
    """List the connectors installed in this environment (entry points 'cdk.connectors')."""
    from cdk.publish.install import installed_connectors

    found = installed_connectors()
    if fmt == "json":
        print_json(found)
        return
    if not found:
        click.echo("no connectors installed (none registers the 'cdk.connectors' entry point)", err=True)
    for c in found:
        click.echo(f"{c['name']:<24} {c['version'] or '?':<12} {c['distribution']:<28} {c['object']}")
