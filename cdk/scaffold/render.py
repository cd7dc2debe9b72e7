"""Render a template into a folder so that a failure never leaves a half-written connector behind.

The template is rendered into a temporary folder next to the target (same file system), checked, and
then moved into place with one rename. Only ``force`` into a non-empty folder moves file by file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk.errors import (
    CdkError,
    FolderNotEmptyError,
    UsageError,
)
from cdk.scaffold.catalog import Template


@dataclass
class RenderResult:
    """Where the connector went and what was written (paths relative to it)."""

    path: Path
    files: list[str] = field(default_factory=list)
    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)


def check_target(target: Path, force: bool) -> None:
    """Refuse a target that is a file, or a non-empty folder without ``force``."""
    if target.exists() and not target.is_dir():
        raise UsageError(
            f"{target} exists and is not a folder", hint="choose another folder for the connector"
        )
    if target.is_dir() and any(target.iterdir()) and not force:
        raise FolderNotEmptyError(
            f"{target} is not empty; cdk init will not write into it",
            hint="choose a new folder, or pass --force to add the template's files (existing ones are overwritten)",
        )


def _verify(rendered: Path) -> None:
    """A rendered connector must at least have a loadable connector.yaml (catches template bugs early)."""
    manifest = rendered / "connector.yaml"
    if manifest.is_file():
        from cdk.manifest import load_manifest

        load_manifest(manifest)


def render(
    template: Template,
    target: str | os.PathLike[str],
    context: dict[str, Any],
    *,
    force: bool = False,
    trust: bool = False,
    finish: Callable[[Path], list[str]] | None = None,
) -> RenderResult:
    """Render ``template`` with the resolved ``context`` (see :func:`cdk.scaffold.resolve_answers`)
    into ``target``. A template that is not shipped renders in Jinja's sandbox, and its hooks and
    extensions run only with ``trust`` (otherwise UsageError, exit 2); symlinks out of any template are
    refused (CdkError). ``finish`` runs on the rendered folder while it is still in staging (e.g. recording
    fixtures); if it raises, nothing is moved into place. Raises FolderNotEmptyError (unless ``force``), UsageError, or CdkError when the
    template itself fails; in every failure case nothing is left at ``target`` that was not there before."""
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_files
    from jinja2 import TemplateError

    from cdk.scaffold.trust import check_template, is_trusted, rendering_environment

    check_template(template, trust=trust)
    trusted = is_trusted(template, trust)
    target = Path(target).absolute()
    check_target(target, force)
    created_parents: list[Path] = []
    parent = target.parent
    while not parent.exists():
        created_parents.append(parent)
        parent = parent.parent
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.cdk-init-", dir=target.parent))
    try:
        ctx = dict(context)
        ctx["_template"] = str(template.path)
        ctx["_output_dir"] = str(staging)
        ctx["_repo_dir"] = str(template.path)
        try:
            with rendering_environment(trusted):
                rendered = Path(
                    generate_files(
                        repo_dir=str(template.path),
                        context={"cookiecutter": ctx},
                        output_dir=str(staging),
                        accept_hooks=trusted,
                    )
                )
        except (CookiecutterException, TemplateError, OSError, ValueError) as exc:
            raise CdkError(
                f"template '{template.name}' failed to render: {type(exc).__name__}: {exc}",
                hint="fix the template (or report it if it is a shipped one)",
            ) from None
        if not template.builtin:  # shipped templates are proven by tests/init; custom ones are checked here
            _verify(rendered)
        if finish is not None:
            finish(rendered)
        files = sorted(str(p.relative_to(rendered)) for p in rendered.rglob("*") if p.is_file())
        check_target(target, force)  # again: something may have appeared while rendering
        if target.is_dir() and any(target.iterdir()):
            _merge(rendered, target)
        else:
            if target.is_dir():
                target.rmdir()
            os.rename(rendered, target)
        return RenderResult(target, files, template.name, ctx)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created_parents:  # only folders this call created, and only if empty
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _merge(rendered: Path, target: Path) -> None:
    """``--force`` into a non-empty folder: each file replaced atomically (the tree as a whole is not)."""
    for src in sorted(rendered.rglob("*")):
        dest = target / src.relative_to(rendered)
        if src.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
