"""The one type for a located problem: what ``cdk validate`` reports, what a manifest that cannot be
loaded carries, what the declarative checks and the publish secret scan find.

A :class:`Finding` names where (``file``, ``line`` 1-based, ``column`` 0-based, as in the reference
JSON), what (``message``, ``hint``) and, once a rule claims it, which rule and how bad (``rule``,
``severity``, ``suite``). Rules themselves, and the registry ``cdk rules`` prints, live with the
suites in :mod:`cdk.validators.findings`.

Like :mod:`cdk.errors` (which carries findings in ``ManifestError.problems``), this module imports
nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

# the reference shape of a finding in JSON output, in this order (reporters pin it byte for byte)
JSON_FIELDS = ("line", "column", "message", "severity", "rule", "file", "suite", "hint")


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One located problem.

    ``rule`` is empty until a rule claims the problem (a manifest that fails to load reports problems
    that the validate engine then maps to M-rules). ``line`` is 0 only for a problem about a whole
    file, such as a secret found in a member of a built artifact (``artifact`` names the wheel or
    sdist). ``key`` is the manifest key a problem is about, when there is one.
    """

    rule: str = ""
    severity: Severity = "error"
    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    suite: str = ""
    key: str | None = None
    artifact: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The reference JSON shape: line, column, message, severity, plus rule, file, suite and hint."""
        d = asdict(self)
        return {k: d[k] for k in JSON_FIELDS}

    @property
    def where(self) -> str:
        """``file:line:col`` (column 1-based, as editors and compilers print it), ``artifact: `` first."""
        place = f"{self.file}:{self.line}:{self.column + 1}" if self.line else self.file
        return f"{self.artifact}: {place}" if self.artifact else place

    def __str__(self) -> str:
        """``file:line:col RULE message``, or ``file:line:col: message`` before a rule claims it."""
        return f"{self.where} {self.rule} {self.message}" if self.rule else f"{self.where}: {self.message}"

    def sort_key(self) -> tuple[Any, ...]:
        return (self.file, self.line, self.column, self.rule, self.message)


__all__ = ["JSON_FIELDS", "Finding", "Severity"]
