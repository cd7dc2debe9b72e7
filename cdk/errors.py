"""The one exception hierarchy of connector-cdk.

Every expected failure is a :class:`CdkError`. The CLI prints its message (and hint) without a
traceback and exits with its ``exit_code``, which is one of:

* 1 — the check said no: invalid manifest or config, failed check, refused version, connector errors
* 2 — usage error: bad flags or arguments
* 3 — an outside failure: an API that stays down, a registry that cannot be reached, a missing backend

::

    CdkError
    ├── UsageError                      (2)
    ├── ManifestError                   (1)  connector.yaml cannot be loaded; carries file:line:col problems
    ├── ConfigError                     (1)  a config fails its schema or names a missing env variable
    ├── ValidationFailed                (1)  validation found errors
    ├── ConnectorError                  (1)  running connector code failed
    │   ├── AuthenticationError         (1)  401/403
    │   ├── EgressDeniedError           (1)  a host outside allowed_hosts
    │   ├── PaginationLoopError         (1)  the same next_pagination twice
    │   ├── InvalidResponseError        (1)  a body that is not what the connector expects (e.g. not JSON)
    │   └── TransientError              (3)  retries exhausted on connection errors / 5xx
    │       ├── RateLimitedError        (3)  retries exhausted on 429
    │       └── RequestTimeoutError     (3)  the API did not answer in time
    └── OutsideError                    (3)  registry, build backend, file system
"""

from __future__ import annotations

from dataclasses import dataclass


class CdkError(Exception):
    """Base of every expected failure; ``hint`` says what to do next."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(CdkError):
    """The command line was wrong."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One located problem in a file: line is 1-based, column 0-based (as in the reference JSON)."""

    file: str
    line: int
    column: int
    message: str
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column + 1}: {self.message}"


class ManifestError(CdkError):
    """connector.yaml is missing, not YAML, or does not fit manifest v1."""

    def __init__(self, message: str, *, problems: list[Problem] | None = None, hint: str | None = None):
        self.problems = problems or []
        if self.problems:
            message = message + "\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(message, hint=hint)


class ConfigError(CdkError):
    """A connector config does not validate; ``fields`` names every failing field."""

    def __init__(self, message: str, *, fields: list[str] | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.fields = fields or []


class ValidationFailed(CdkError):
    """Validation reported errors."""


class ConnectorError(CdkError):
    """Connector code failed while running."""


class AuthenticationError(ConnectorError):
    """The API refused the credentials (401 or 403)."""


class EgressDeniedError(ConnectorError):
    """The connector tried to reach a host outside its manifest's allowed_hosts."""


class PaginationLoopError(ConnectorError):
    """A source returned the same next_pagination twice: it would loop forever."""


class InvalidResponseError(ConnectorError):
    """The API answered with something the connector cannot use (e.g. a non-JSON body)."""


class TransientError(ConnectorError):
    """The API kept failing (connection errors, 5xx) after the retry budget was spent."""

    exit_code = 3


class RateLimitedError(TransientError):
    """The API kept answering 429 after the retry budget was spent."""


class RequestTimeoutError(TransientError):
    """The API did not answer within the timeout."""


class OutsideError(CdkError):
    """Something outside the connector failed: registry, build backend, permissions."""

    exit_code = 3


__all__ = [
    "AuthenticationError",
    "CdkError",
    "ConfigError",
    "ConnectorError",
    "EgressDeniedError",
    "InvalidResponseError",
    "ManifestError",
    "OutsideError",
    "PaginationLoopError",
    "Problem",
    "RateLimitedError",
    "RequestTimeoutError",
    "TransientError",
    "UsageError",
    "ValidationFailed",
]
