"""The questions a template asks, and the checks each answer must pass before anything is written.

Answers come from three places, later ones winning: the template's defaults (``cookiecutter.json``), an
answers file and ``--set key=value``; whatever is still open is asked interactively (when a prompt
function is given). Well-known keys (name, description, base_url, allowed_host, choices) are checked
as typed; the final context, with derived values rendered, is checked again.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cdk.errors import (
    AnswerError,
    UsageError,
)
from cdk.scaffold.catalog import Template

# The manifest's own rules (cdk.manifest.NAME_RE / HOST_RE), repeated here because importing
# cdk.manifest builds its pydantic models, which would double `cdk init`'s start-up time;
# tests/init/test_init_cli.py asserts that both stay identical.
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
HOST_RE = re.compile(
    r"^(\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$"
)

PROMPTS = {
    "name": "Connector name (lowercase, e.g. my-api)",
    "description": "One-line description",
    "auth": "Authentication method",
    "pagination": "Pagination style",
    "capabilities": "Capabilities",
    "base_url": "Base URL of the API",
    "allowed_host": "Allowed host (egress allowlist)",
}
DESCRIPTION_MAX = 200
RESERVED_PACKAGES = {"cdk", "tests", "test", "schemas", "secrets", "build", "dist"}


@dataclass(frozen=True)
class Question:
    """One visible variable of a template: its key, prompt, raw default and (for a choice) the options."""

    key: str
    prompt: str
    default: Any
    choices: list[str] = field(default_factory=list)


def questions(template: Template) -> list[Question]:
    """The variables a user may answer (cookiecutter's private ``_`` keys are derived, never asked)."""
    out = []
    for key, raw in template.context.items():
        if key.startswith("_") or isinstance(raw, dict):
            continue
        choices = [str(c) for c in raw] if isinstance(raw, list) else []
        out.append(Question(key, PROMPTS.get(key, key.replace("_", " ").capitalize()), raw, choices))
    return out


def _check_name(value: str) -> str:
    if not NAME_RE.match(value):
        raise AnswerError(
            f"name {value!r} is not valid: it must match ^[a-z][a-z0-9_-]{{1,63}}$ "
            "(lowercase letter first, then 1-63 of a-z 0-9 _ -; no spaces), e.g. 'my-api'"
        )
    package = value.replace("-", "_")
    if keyword.iskeyword(package) or package in RESERVED_PACKAGES or package in sys.stdlib_module_names:
        raise AnswerError(
            f"name {value!r} would make a Python package '{package}' that shadows "
            f"{'a keyword' if keyword.iskeyword(package) else 'a module it needs'}; pick another, e.g. '{value}-connector'"
        )
    return value


def _check_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    problems = []
    if parts.scheme not in ("http", "https"):
        problems.append("it must start with http:// or https://")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        host, problems = None, [*problems, str(exc)]
    if not host:
        problems.append("it has no host")
    elif not HOST_RE.match(host):
        problems.append(f"'{host}' is not a valid host name")
    if parts.query or parts.fragment or any(ch.isspace() for ch in value):
        problems.append("it may not contain spaces, a query (?...) or a fragment (#...)")
    shown = value
    if (
        "@" in parts.netloc
    ):  # user:password@ would be written into connector.yaml, the config and the cassettes
        shown = parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()
        problems.append(
            "it may not carry credentials (user:password@); put them in secrets/config.json "
            "(the template's auth answer) and give the URL without them"
        )
    if problems:
        raise AnswerError(
            f"base URL {shown!r} is not valid: {'; '.join(problems)} (e.g. https://api.example.com/v1)"
        )
    return value.rstrip("/")


def _check_host(value: str) -> str:
    value = value.strip().lower()
    if not HOST_RE.match(value):
        raise AnswerError(
            f"allowed host {value!r} is not valid: write a host name such as 'api.example.com' or '*.example.com' "
            "(no scheme, no path)"
        )
    return value


def _check_description(value: str) -> str:
    value = value.strip()
    if not value or "\n" in value or "\r" in value or len(value) > DESCRIPTION_MAX:
        raise AnswerError(f"description must be one non-empty line of at most {DESCRIPTION_MAX} characters")
    if any(ord(ch) < 32 for ch in value) or "\\" in value or '"""' in value:
        raise AnswerError("description may not contain control characters, backslashes or triple quotes")
    return value


CHECKS: dict[str, Callable[[str], str]] = {
    "name": _check_name,
    "base_url": _check_url,
    "allowed_host": _check_host,
    "description": _check_description,
}


def _normalise_choice(question: Question, value: str) -> str:
    if question.key == "capabilities":  # order and separators do not matter: "incremental batch_extract"
        wanted = sorted(p for p in re.split(r"[\s,]+", value) if p)
        for choice in question.choices:
            if sorted(p for p in re.split(r"[\s,]+", choice) if p) == wanted:
                return choice
    if value in question.choices:
        return value
    raise AnswerError(f"{question.key} {value!r} is not one of: {', '.join(question.choices)}")


def check_answer(question: Question, value: Any) -> Any:
    """The normalised answer, or AnswerError saying what is wrong with it."""
    if question.choices:
        return _normalise_choice(question, str(value).strip())
    if isinstance(question.default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("y", "yes", "true", "1", "on"):
            return True
        if text in ("n", "no", "false", "0", "off"):
            return False
        raise AnswerError(f"{question.key} {value!r} is not yes or no")
    check = CHECKS.get(question.key)
    return check(str(value)) if check else value


def render_default(
    template: Template, question: Question, answered: Mapping[str, Any], *, trust: bool = False
) -> Any:
    """The default a prompt shows: the template's raw default rendered with the answers so far (as data).

    A template that is not shipped renders in Jinja's sandbox unless ``trust``."""
    if question.choices:
        current = answered.get(question.key)
        return current if current is not None else question.choices[0]
    from cookiecutter.prompt import render_variable
    from jinja2 import TemplateError

    from cdk.scaffold.trust import environment, is_trusted

    env = environment(template, trusted=is_trusted(template, trust))
    try:
        return render_variable(env, question.default, dict(answered))
    except (TemplateError, ValueError, TypeError, LookupError, AttributeError) as exc:
        raise UsageError(
            f"template '{template.name}' cannot render the default of '{question.key}': {type(exc).__name__}: {exc}"
        ) from None


def resolve_answers(
    template: Template,
    given: Mapping[str, Any],
    *,
    defaults: Mapping[str, Any] | None = None,
    ask: Callable[[Question, Any], Any] | None = None,
    internal: Mapping[str, Any] | None = None,
    trust: bool = False,
) -> dict[str, Any]:
    """The full cookiecutter context for rendering: given answers checked, open ones asked (``ask``) or
    defaulted, derived (``__``) values rendered, and the result checked again.

    ``internal`` sets derived keys the user is never asked (e.g. ``__cdk_version``) when the template has them.
    Answers are data: they are never rendered as Jinja. A template that is not shipped renders its own
    values in Jinja's sandbox unless ``trust``.
    Raises UsageError (exit 2) naming the key and the rule for any bad answer or unknown key.
    """
    qs = questions(template)
    by_key = {q.key: q for q in qs}
    unknown = sorted(set(given) - set(by_key))
    if unknown:
        raise UsageError(
            f"unknown answer key(s) {', '.join(unknown)} for template '{template.name}'",
            hint=f"the template asks: {', '.join(by_key) or '(nothing)'}",
        )
    answers: dict[str, Any] = {}
    for key, value in given.items():
        try:
            answers[key] = check_answer(by_key[key], value)
        except AnswerError as exc:
            raise UsageError(str(exc), hint=f"fix it with --set {key}=...") from None
    for key, value in (defaults or {}).items():
        if key in by_key and key not in answers and ask is None:
            answers[key] = value
    if ask is not None:
        ordered: dict[str, Any] = {}
        for q in qs:
            if q.key in answers:
                ordered[q.key] = answers[q.key]
                continue
            default = (defaults or {}).get(q.key)
            if default is None:
                default = render_default(template, q, ordered, trust=trust)
            ordered[q.key] = ask(q, default)
        answers = ordered
    hidden = {k: v for k, v in (internal or {}).items() if k in template.context}
    context = _render_context(template, {**hidden, **answers}, trust=trust)
    for key, value in list(context.items()):
        if key in by_key and key not in given:
            try:
                context[key] = check_answer(by_key[key], value)
            except AnswerError as exc:
                raise UsageError(str(exc), hint=f"set it with --set {key}=...") from None
    return context


def _render_context(template: Template, answers: Mapping[str, Any], *, trust: bool = False) -> dict[str, Any]:
    """cookiecutter's context resolution (choices, derived ``__`` variables) with the answers as data."""
    from cdk.scaffold.trust import is_trusted, render_context

    return render_context(template, answers, trusted=is_trusted(template, trust))
