"""What a template may run, and the Jinja environment it renders in.

A cookiecutter template is code: its hooks are programs, its ``_extensions`` import Python modules, and
its Jinja (file contents, file names, derived variables) can reach ``os`` through an unsandboxed
environment (``{{ cycler.__init__.__globals__.os.popen('id').read() }}``). The shipped templates are ours;
any other one (a folder or a git URL) is rendered in Jinja's sandbox, and its hooks and extensions run
only with ``--trust-template``. Symlinks that point outside a template are refused whatever the trust:
cookiecutter copies what a link points to, so a link to ``~/.ssh/id_rsa`` would land in the connector.

Answers are never templates: :func:`render_context` puts them into the context as they were typed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cdk.errors import CdkError, UsageError
from cdk.scaffold.catalog import Template

#: The hooks cookiecutter runs (cookiecutter.hooks._HOOKS).
HOOK_NAMES = ("pre_prompt", "pre_gen_project", "post_gen_project")


def template_hooks(template: Template) -> list[str]:
    """The hook files of ``template`` that cookiecutter would run, relative to the template folder."""
    hooks_dir = template.path / "hooks"
    if not hooks_dir.is_dir():
        return []
    return sorted(
        f"hooks/{p.name}"
        for p in hooks_dir.iterdir()
        if os.path.splitext(p.name)[0] in HOOK_NAMES and not p.name.endswith("~")
    )


def code_it_runs(template: Template) -> list[str]:
    """Everything in ``template`` that runs as code outside Jinja's sandbox: hook files and extensions."""
    found = template_hooks(template)
    extensions = template.context.get("_extensions")
    if extensions:
        names = extensions if isinstance(extensions, list) else [extensions]
        found += [f"_extensions: {name}" for name in names]
    return found


def outside_links(root: Path) -> list[tuple[str, str]]:
    """Symlinks under ``root`` whose target (resolved) is not inside ``root``: (link, target) pairs.

    A dangling link counts as outside: what it will point to when rendered is unknown."""
    base = root.resolve()
    found: list[tuple[str, str]] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if not path.is_symlink():
                continue
            target = Path(os.readlink(path))
            resolved = (path.parent / target).resolve() if not target.is_absolute() else target.resolve()
            if not resolved.exists() or not resolved.is_relative_to(base):
                found.append((str(path.relative_to(root)), str(target)))
    return sorted(found)


def check_template(template: Template, *, trust: bool = False) -> None:
    """Refuse a template that links outside itself (exit 1), or one that runs code without ``trust`` (exit 2)."""
    links = outside_links(template.path)
    if links:
        shown = ", ".join(f"{link} -> {target}" for link, target in links[:5])
        more = f" (and {len(links) - 5} more)" if len(links) > 5 else ""
        raise CdkError(
            f"template '{template.name}' has symlinks that point outside it: {shown}{more}; nothing was written",
            hint="a template may only link to its own files; replace the links with the files themselves",
        )
    if template.builtin or trust:
        return
    code = code_it_runs(template)
    if code:
        raise UsageError(
            f"template '{template.name}' runs code when rendered: {', '.join(code)} (in {template.path})",
            hint="read them first; pass --trust-template to run them",
        )


def is_trusted(template: Template, trust: bool) -> bool:
    return template.builtin or trust


def environment(template: Template, *, trusted: bool, **kwargs: Any) -> Any:
    """cookiecutter's StrictEnvironment, or (untrusted) the same inside Jinja's sandbox."""
    return environment_class(trusted)(context={"cookiecutter": dict(template.context)}, **kwargs)


def environment_class(trusted: bool) -> type[Any]:
    from cookiecutter.environment import StrictEnvironment

    cls: type[Any] = StrictEnvironment if trusted else _sandboxed_class()
    return cls


_SANDBOXED: type[Any] | None = None


def _sandboxed_class() -> type[Any]:
    global _SANDBOXED
    if _SANDBOXED is None:
        from cookiecutter.environment import ExtensionLoaderMixin
        from jinja2 import StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment

        class SandboxedStrictEnvironment(ExtensionLoaderMixin, SandboxedEnvironment):  # type: ignore[misc]
            """cookiecutter's strict environment (undefined is an error; its default extensions) in the sandbox."""

            def __init__(self, **kwargs: Any) -> None:
                super().__init__(undefined=StrictUndefined, **kwargs)

        _SANDBOXED = SandboxedStrictEnvironment
    return _SANDBOXED


@contextmanager
def rendering_environment(trusted: bool) -> Iterator[None]:
    """While rendering files with cookiecutter's ``generate_files``, use the environment ``trusted`` calls for.

    ``generate_files`` builds its own environment (``create_env_with_context``); this swaps that
    function for one building the sandboxed environment, for the duration of the call only."""
    if trusted:
        yield
        return
    from unittest import mock

    import cookiecutter.generate

    def create_env_with_context(context: dict[str, Any]) -> Any:
        envvars = context.get("cookiecutter", {}).get("_jinja2_env_vars", {})
        return _sandboxed_class()(context=context, keep_trailing_newline=True, **envvars)

    with mock.patch.object(cookiecutter.generate, "create_env_with_context", create_env_with_context):
        yield


def _data(value: Any) -> Any:
    """An answer as cookiecutter would have stored it after rendering (text), without rendering it."""
    if value is None or isinstance(value, bool | str | list | dict):
        return value
    return str(value)


def render_context(template: Template, answers: Mapping[str, Any], *, trusted: bool) -> dict[str, Any]:
    """cookiecutter's context resolution (``prompt_for_config`` with no input) where ``answers`` are data.

    Template values (defaults, derived ``__`` variables, dicts) are rendered in order, as cookiecutter
    does; an answered key takes the answer verbatim: ``{{7*7}}`` stays ``{{7*7}}``.
    """
    from cookiecutter.prompt import render_variable
    from jinja2 import TemplateError

    raw = {k: v for k, v in template.context.items() if k != "__prompts__"}
    env = environment(template, trusted=trusted)
    out: dict[str, Any] = {}
    key = ""
    try:
        for key, value in raw.items():  # first pass: everything but dicts (they may refer to the rest)
            if key in answers:
                out[key] = _data(answers[key])
            elif key.startswith("_") and not key.startswith("__"):
                out[key] = value
            elif isinstance(value, list):
                out[key] = render_variable(env, value[0], out) if value else None
            elif not isinstance(value, dict):
                out[key] = render_variable(env, value, out)
        for key, value in raw.items():
            if isinstance(value, dict) and not (key.startswith("_") and not key.startswith("__")):
                out[key] = _data(answers[key]) if key in answers else render_variable(env, value, out)
    except (TemplateError, ValueError, TypeError, LookupError, AttributeError) as exc:
        raise UsageError(
            f"template '{template.name}' cannot render its variable '{key}': {type(exc).__name__}: {exc}"
        ) from None
    return out
