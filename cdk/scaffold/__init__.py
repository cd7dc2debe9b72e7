"""Scaffolding: find cookiecutter templates, check answers, render a connector folder atomically.

``cdk init`` is a thin layer over this package::

    from cdk.scaffold import find_template, render
    template = find_template("source-python")
    result = render(template, "my-api", {"name": "my-api", "auth": "api_key"})
"""

from __future__ import annotations

from cdk.scaffold.answers import Question, check_answer, questions, resolve_answers
from cdk.scaffold.catalog import Template, find_template, list_templates, templates_root
from cdk.scaffold.render import RenderResult, render

__all__ = [
    "Question",
    "RenderResult",
    "Template",
    "check_answer",
    "find_template",
    "list_templates",
    "questions",
    "render",
    "resolve_answers",
    "templates_root",
]
