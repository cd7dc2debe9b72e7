"""Where templates come from: the ones shipped in the wheel, a local folder, or a git URL.

The shipped templates live in ``cdk/templates`` inside the installed wheel (hatch ``force-include``);
in a source checkout they are the top-level ``templates/`` folder.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk.errors import OutsideError, UsageError

CONTEXT_FILE = "cookiecutter.json"
GIT_URL_RE = re.compile(
    r"^(git\+|gh:|gl:|bb:|git@|(https?|ssh|git|file)://.+\.git/?$|https?://(github|gitlab|bitbucket)\.)"
)


@dataclass(frozen=True)
class Template:
    """A cookiecutter template on disk: its folder, name, one-line description and raw context."""

    name: str
    path: Path
    description: str
    context: dict[str, Any]
    builtin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "builtin": self.builtin,
            "path": str(self.path),
        }


def templates_root() -> Path:
    """The folder of shipped templates: inside the installed package, else the source checkout's."""
    import cdk

    package_dir = Path(cdk.__file__).resolve().parent
    for candidate in (package_dir / "templates", package_dir.parent / "templates"):
        if candidate.is_dir() and any(candidate.glob(f"*/{CONTEXT_FILE}")):
            return candidate
    raise OutsideError(
        f"no templates found in {package_dir / 'templates'} or {package_dir.parent / 'templates'}",
        hint="reinstall connector-cdk; the wheel ships its templates in cdk/templates",
    )


def load_template(path: Path, *, name: str | None = None, builtin: bool = False) -> Template:
    """Read a template folder's cookiecutter.json (a clear error when it is missing or broken)."""
    context_file = path / CONTEXT_FILE
    if not context_file.is_file():
        raise UsageError(
            f"{path} is not a cookiecutter template: it has no {CONTEXT_FILE}",
            hint="`cdk init --list` shows the shipped templates",
        )
    try:
        context = json.loads(context_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{context_file}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(context, dict):
        raise UsageError(f"{context_file}: a cookiecutter context is a JSON object")
    description = str(context.get("_description") or context.get("description") or "").strip().splitlines()
    return Template(name or path.name, path, description[0] if description else "", context, builtin)


def list_templates() -> list[Template]:
    """The shipped templates, sorted by name."""
    root = templates_root()
    return [load_template(p.parent, builtin=True) for p in sorted(root.glob(f"*/{CONTEXT_FILE}"))]


def is_git_url(spec: str) -> bool:
    return bool(GIT_URL_RE.match(spec))


def _is_shipped(name: str) -> bool:
    try:
        return (templates_root() / name / CONTEXT_FILE).is_file()
    except OutsideError:
        return False


@contextmanager
def find_template(spec: str, *, checkout: str | None = None) -> Iterator[Template]:
    """Resolve ``spec``: a shipped template's name, a local template folder, or a git URL (cloned to a
    temporary folder that is removed on exit)."""
    local = Path(spec).expanduser()
    looks_like_path = "/" in spec or "\\" in spec or spec.startswith((".", "~"))
    if not is_git_url(spec) and (looks_like_path or (local.is_dir() and not _is_shipped(spec))):
        if not local.is_dir():
            raise UsageError(f"template folder {local} does not exist")
        yield load_template(local.resolve())
        return
    if is_git_url(spec):
        from cookiecutter.exceptions import CookiecutterException
        from cookiecutter.repository import determine_repo_dir

        with tempfile.TemporaryDirectory(prefix="cdk-template-") as clones:
            try:
                repo_dir, _ = determine_repo_dir(
                    template=spec,
                    abbreviations={
                        "gh": "https://github.com/{0}.git",
                        "gl": "https://gitlab.com/{0}.git",
                        "bb": "https://bitbucket.org/{0}",
                    },
                    clone_to_dir=clones,
                    checkout=checkout,
                    no_input=True,
                )
            except (CookiecutterException, OSError) as exc:
                raise OutsideError(
                    f"cannot fetch template {spec}: {exc}", hint="check the URL and that git can reach it"
                ) from None
            except Exception as exc:  # noqa: BLE001 - git failures come as CalledProcessError and friends
                raise OutsideError(
                    f"cannot fetch template {spec}: {type(exc).__name__}: {exc}",
                    hint="check the URL and that git can reach it",
                ) from None
            yield load_template(Path(repo_dir))
        return
    shipped = {t.name: t for t in list_templates()}
    if spec not in shipped:
        import difflib

        close = difflib.get_close_matches(spec, list(shipped), n=1)
        raise UsageError(
            f"no template '{spec}'; shipped templates: {', '.join(sorted(shipped))}",
            hint=f"did you mean '{close[0]}'?" if close else "or pass a template folder or git URL",
        )
    yield shipped[spec]
