"""``init``: scaffold a connector from a template and, when the template asks for it, record its test
fixtures against the built-in demo API so that ``cdk test`` passes offline at once.

The pieces live in :mod:`cdk.scaffold` (templates, answers, rendering, re-addressing cassettes) and
:mod:`cdk.testing` (the demo API); this module puts them in order and runs the recording through
:func:`cdk.workflows.tests.run_tests`, like ``cdk test --record`` does.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk.errors import CdkError, OutsideError

if TYPE_CHECKING:
    from cdk.scaffold.answers import Question
    from cdk.testing.demo_api import DemoAPI

RECORD_TIMEOUT = 300

Ask = Callable[["Question", Any], Any]


@dataclass
class InitResult:
    """What ``init`` wrote: the folder, the template, the connector's name, the files, and what became
    of the test fixtures (None when the template has none)."""

    path: Path
    template: str
    name: str | None
    files: list[str] = field(default_factory=list)
    fixtures: str | None = None
    code_run: list[str] = field(default_factory=list)  # hooks and extensions of a trusted template

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "template": self.template,
            "name": self.name,
            "files": self.files,
            "fixtures": self.fixtures,
            "code_run": self.code_run,
        }


def init(
    template_spec: str,
    directory: str | Path | None = None,
    *,
    checkout: str | None = None,
    given: dict[str, Any] | None = None,
    ask: Ask | None = None,
    force: bool = False,
    fixtures: bool = True,
    trust_template: bool = False,
) -> InitResult:
    """Render ``template_spec`` (a shipped template, a folder or a git URL) into ``directory`` (default:
    ./NAME). Answers come from ``given``, then ``ask(question, default)`` when given, then the
    template's defaults. Nothing is written when an answer is bad or the fixture recording fails.

    A template that is not shipped is checked before anything is asked: symlinks out of it are refused,
    and its hooks or Jinja extensions need ``trust_template`` (UsageError naming them otherwise)."""
    from cdk._version import __version__
    from cdk.scaffold import find_template, render, resolve_answers
    from cdk.scaffold import fixtures as demo

    answers = dict(given or {})
    defaults: dict[str, Any] = {}
    if directory:
        base = Path(directory).absolute().name
        if base and "name" not in answers:
            defaults["name"] = base
    from cdk.scaffold.trust import check_template, code_it_runs

    with find_template(template_spec, checkout=checkout) as template:
        check_template(template, trust=trust_template)
        ran = [] if template.builtin else code_it_runs(template)
        if directory:  # refuse early, before asking anything
            from cdk.scaffold.render import check_target

            check_target(Path(directory).absolute(), force)
        context = resolve_answers(
            template,
            answers,
            defaults=defaults,
            ask=ask,
            internal={"__cdk_version": __version__},
            trust=trust_template,
        )
        target = Path(directory) if directory else Path(str(context.get("name") or template.name))
        finish: Callable[[Path], list[str]] | None = None
        note: str | None = None
        if demo.wants_demo_fixtures(context):
            if not fixtures:
                note = "not recorded (--no-fixtures); record them with `cdk test --record`"
            elif not fixtures_available():
                note = (
                    "not recorded: this cdk has no `cdk test`; "
                    "record them with `cdk test --record` once it is installed"
                )
            else:
                finish = record_demo_fixtures
                note = (
                    "recorded against the cdk demo API (re-record against your API with `cdk test --record`)"
                )
        result = render(template, target, context, force=force, trust=trust_template, finish=finish)
    name = context.get("name")
    return InitResult(
        result.path, result.template, None if name is None else str(name), result.files, note, ran
    )


def fixtures_available() -> bool:
    """True when this cdk has the test machinery (our pytest plugin)."""
    import importlib.util

    return importlib.util.find_spec("cdk.testing.plugin") is not None


def _demo_api_for(sample: dict[str, Any]) -> DemoAPI:
    """A demo API (not yet started) that accepts the credentials the demo config carries."""
    from cdk.scaffold import fixtures as demo
    from cdk.testing.demo_api import DemoAPI

    kind = (sample.get("authentication") or {}).get("type", "none")
    return DemoAPI(
        demo.DEMO_RECORDS,
        api_key={"api_key": demo.DEMO_SECRET, "bearer": demo.DEMO_SECRET, "oauth2": "no-token-yet"}.get(kind),
        refresh_token=demo.DEMO_REFRESH if kind == "oauth2" else None,
    )


def record_demo_fixtures(folder: Path) -> list[str]:
    """Record ``tests/cassettes`` of the connector in ``folder`` against an in-process demo API.

    Returns the cassette files written (relative to ``folder``). Raises CdkError when recording fails,
    so the caller can throw the whole rendered folder away.
    """
    from cdk.scaffold import fixtures as demo
    from cdk.workflows.tests import run_tests

    sample = json.loads((folder / demo.SAMPLE_CONFIG).read_text(encoding="utf-8"))
    base_url = demo.base_url(folder, sample)
    api = _demo_api_for(sample)
    before = set(folder.rglob("*"))
    with (
        api,
        tempfile.TemporaryDirectory(prefix="cdk-init-record-") as scratch,
        demo.demo_manifest(folder, base_url, api.url),
    ):
        config_path = Path(scratch) / "demo_config.json"
        config_path.write_text(json.dumps(demo.demo_config(sample, api.url)), encoding="utf-8")
        # the error-path tests replay the read recording with the sample config, so they run after re-addressing
        try:
            report = run_tests(
                folder,
                record="all",
                config_path=config_path,
                keyword="not errors",
                output=None,
                timeout=RECORD_TIMEOUT,
            )
        except OutsideError:
            raise CdkError(
                f"recording the demo fixtures took longer than {RECORD_TIMEOUT} s",
                hint="pass --no-fixtures and record later with `cdk test --record`",
            ) from None
        if not report.ok:
            tail = report.output.strip().splitlines()[-15:]
            raise CdkError(
                "recording the demo fixtures of the new connector failed:\n" + "\n".join(tail),
                hint="pass --no-fixtures to skip them, and report it if the template is a shipped one",
            )
        written = demo.readdress_cassettes(folder, api.url, base_url)
    demo.remove_run_debris(folder, before)
    if not written:
        raise CdkError("recording the demo fixtures wrote no cassette")
    return written
