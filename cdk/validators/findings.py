"""The rule registry, and how a suite makes a finding of a rule.

A :class:`~cdk.findings.Finding` (defined in the core, :mod:`cdk.findings`) is one located result of
a suite. Every finding of a suite names a :class:`Rule`; rules are declared next to the suite that
reports them (``RULES`` in each suite module) and collected here, so ``cdk rules`` and the reporters
(SARIF wants the rule text) see one registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdk.findings import Finding, Severity

SUITES = (
    "syntax",
    "policy",
    "files",
    "manifest",
    "config",
    "capabilities",
    "dependencies",
    "security",
    "secrets",
    "egress",
    "packaging",
    "fixtures",
    "declarative",
    "release",
)
# the modules that declare rules (syntax and policy rules live in the engine module)
_RULE_MODULES = ("engine", *SUITES[2:])


@dataclass(frozen=True)
class Rule:
    """A rule: its code (suite letter + 3 digits), one-line title, message, hint and examples."""

    code: str
    suite: str
    title: str
    message: str
    hint: str
    severity: Severity = "error"
    waivable: bool = False
    bad: str = ""
    good: str = ""


def make(
    rule: Rule,
    file: str,
    line: int,
    column: int,
    message: str | None = None,
    *,
    hint: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding of ``rule``; message and hint default to the rule's own text."""
    return Finding(
        rule=rule.code,
        severity=severity or rule.severity,
        file=file,
        line=max(int(line or 1), 1),
        column=max(int(column or 0), 0),
        message=message or rule.message,
        hint=rule.hint if hint is None else hint,
        suite=rule.suite,
    )


@dataclass
class Report:
    """The findings for one connector folder (or one code string)."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    strict: bool = False  # the connector's [tool.cdk.validate] strict = true: warnings fail too

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def passed(self, strict: bool = False) -> bool:
        """No errors, and with ``strict`` no warnings either."""
        return not self.errors and not ((strict or self.strict) and self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """The custom-sources API's shape: ``{"valid", "errors": [...], "warnings": [...]}``."""
        return {
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
        }

    def rules_hit(self) -> list[str]:
        return sorted({f.rule for f in self.findings})


_REGISTRY: dict[str, Rule] | None = None


def registry() -> dict[str, Rule]:
    """Every rule, by code, in code order (imports the suite modules, which are cheap)."""
    global _REGISTRY
    if _REGISTRY is None:
        import importlib

        rules: dict[str, Rule] = {}
        for name in _RULE_MODULES:
            module = importlib.import_module(f"cdk.validators.{name}")
            for rule in module.RULES:
                if rule.code in rules:  # pragma: no cover - a programming error caught by tests
                    raise RuntimeError(f"rule {rule.code} declared twice")
                rules[rule.code] = rule
        _REGISTRY = dict(sorted(rules.items()))
    return _REGISTRY


def get_rule(code: str) -> Rule | None:
    return registry().get(code.upper())
