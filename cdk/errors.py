"""The one exception hierarchy of connector-cdk: every exception class cdk raises is defined here.

Every expected failure is a :class:`CdkError`. The CLI prints its message (and hint) without a
traceback and exits with its ``exit_code``, which is one of:

* 1 — the check said no: invalid manifest or config, failed check or test, refused version, connector errors
* 2 — usage error: bad flags, arguments or answers
* 3 — an outside failure: an API that stays down, a registry that cannot be reached, a missing backend
* 4 — a partial read: a source stopped at its request cap (``maximumRequest``) with more to read; the
  checkpoint holds where it stopped, so running the same command again continues from there

::

    CdkError                            (1)  base of every expected failure; carries a hint
    ├── UsageError                      (2)  the command line was wrong
    │   ├── AnswerError                 (2)  a `cdk init` answer fails its check (also a ValueError)
    │   └── InvalidModeError            (2)  not one of a mode enum's values; names the allowed ones (also a ValueError)
    ├── ManifestError                   (1)  connector.yaml cannot be loaded; carries file:line:col problems
    │   └── ExpressionError             (1)  a pipeline expression '@{...}' does not parse or evaluate; located
    ├── ConfigError                     (1)  a config fails its schema or names a missing env variable
    ├── ValidationFailed                (1)  validation found errors
    ├── TestsFailed                     (1)  `cdk test` in replay reported failures (publish gate)
    ├── VersionRefused                  (1)  not a connector semver, or not greater than the published ones
    ├── AlreadyPublished                (1)  the registry already holds a file of this version
    ├── PackagingError                  (1)  the connector builds, but not into something cdk can publish
    ├── FolderNotEmptyError             (1)  `cdk init` refuses to write into a non-empty folder
    ├── SecretLeakError                 (1)  a secret survived redaction; the cassette was not written
    ├── CassetteFormatError             (1)  a cassette that is missing or cannot be read
    ├── RequestRefused                  (1)  `cdk serve` refuses an HTTP request (4xx/503 with a JSON body)
    ├── SandboxViolation                (1)  the runtime guard refused an operation (also a PermissionError)
    ├── InputError                      (1)  an input file cdk cannot read safely: not a regular file, too large,
    │                                        not UTF-8, not YAML, over a YAML limit, a duplicate key; located
    ├── ConnectorError                  (1)  running connector code failed
    │   ├── AuthenticationError         (1)  401/403
    │   ├── EgressDeniedError           (1)  a host outside allowed_hosts
    │   ├── PaginationLoopError         (1)  the same next_pagination twice
    │   ├── MaximumRequestReached       (4)  the request cap of one run was reached with pages left; resumable
    │   ├── InvalidResponseError        (1)  a body that is not what the connector expects (e.g. not JSON)
    │   ├── UnrecordedRequestError      (1)  a request in replay that the cassette does not hold
    │   ├── NetworkBlockedError         (1)  a connection attempt in replay
    │   ├── DestinationError            (1)  a destination's write()/finalize() raised; names the batch
    │   │   └── RecordTooLargeError     (1)  one record exceeds the destination's max_batch_bytes; names its id
    │   └── TransientError              (3)  retries exhausted on connection errors / 5xx
    │       ├── RateLimitedError        (3)  retries exhausted on 429
    │       ├── RequestTimeoutError     (3)  the API did not answer in time
    │       └── ApiUnreachableError     (3)  `cdk test --record` cannot connect to the live API: the run stops
    └── OutsideError                    (3)  registry, build backend, file system
        ├── ServiceError                (3)  `cdk serve` cannot start or reach its database
        ├── SandboxError                (3)  the sandbox for user code cannot be set up
        │   └── SandboxUnavailable      (3)  no OS isolation here (no bubblewrap): user code refused
        ├── OutputWriteError            (3)  records or state could not be written (disk full); resumable
        └── MissingExtraError           (3)  an optional dependency is not installed (e.g. connector-cdk[sql])

    AssertionError                           not a CdkError: a test's verdict, not a command's failure
    └── StandardTestFailure                  a standard test found the connector at fault
        └── PaginationNeverEnds              the source kept asking for more pages

The standard tests' failures stay ``AssertionError``s: they are verdicts of plain functions that a
connector's own tests may call too, and ``AssertionError`` is what pytest (and unittest's
``failureException``) take for a failed expectation. As ``CdkError``s, the ``except CdkError`` handlers
of the CLI and ``cdk ci`` would take a test's verdict for a command's failure; they never reach the
CLI, whose exit code comes from the test run as a whole.

This module is imported by nearly every other one (and by ``cdk --help``), so it imports nothing but
the standard library and :mod:`cdk.findings` (standard library only too).
"""

from __future__ import annotations

from cdk.findings import Finding


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


#: A located problem of a file that cannot be loaded. Kept as a name because ``cdk.errors`` is public
#: and ``ManifestError.problems`` holds them; it is the one finding type, built with keywords.
Problem = Finding


class AnswerError(UsageError, ValueError):
    """One ``cdk init`` answer is not acceptable; the message says why and what is expected.

    A ``ValueError`` too, so a prompt that validates values (``click.prompt(value_proc=...)``) treats it
    as a bad value and asks again.
    """


class InvalidModeError(UsageError, ValueError):
    """A value that is not one of a mode's values (e.g. a record mode); the message lists the allowed ones.

    A ``ValueError`` too, as an enum's constructor promises for a value it does not know.
    """


class ManifestError(CdkError):
    """connector.yaml is missing, not YAML, or does not fit manifest v1."""

    def __init__(
        self, message: str, *, problems: list[Finding] | None = None, hint: str | None = None
    ) -> None:
        self.problems = problems or []
        if self.problems:
            message = message + "\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(message, hint=hint)


class ExpressionError(ManifestError):
    """A pipeline expression (``@{...}`` in a declarative spec) that does not parse or cannot be evaluated.

    ``offset`` is where in ``text`` the problem is; ``file``/``line``/``column`` (1-based line, 0-based
    column) place it in connector.yaml when the caller knew where the string was written. A
    ManifestError: the expression is part of the connector's description, not of the user's config.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str,
        offset: int,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.reason = message
        self.text = text
        self.offset = offset
        self.file = file
        self.line = line
        self.column = column
        shown = text if len(text) <= 200 else text[:200] + "..."
        where = f" (at character {offset + 1} of {shown!r})"
        problems = []
        if file is not None and line is not None and column is not None:
            problems = [Finding(file=file, line=line, column=column, message=message)]
        super().__init__(
            f"pipeline expression: {message}{where}",
            problems=problems,
            hint="docs/declarative.md lists the expression functions cdk evaluates",
        )


class ConfigError(CdkError):
    """A connector config does not validate; ``fields`` names every failing field."""

    def __init__(self, message: str, *, fields: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.fields = fields or []


class ValidationFailed(CdkError):
    """Validation reported errors."""


class TestsFailed(CdkError):
    """``cdk test`` in replay reported failures."""


class VersionRefused(CdkError):
    """A version that is not a connector semver, or not allowed here (exit 1)."""


class AlreadyPublished(CdkError):
    """A file of this version is already in the registry (exit 1); ``identical`` says whether it matches."""

    def __init__(self, filename: str, *, identical: bool, registry: str) -> None:
        self.filename = filename
        self.identical = identical
        state = "identical" if identical else "different"
        super().__init__(
            f"{filename}: already published, {state} (in {registry})",
            hint="a published version is never overwritten: publish a greater version"
            if not identical
            else "nothing to do: this exact file is already in the registry",
        )


class PackagingError(CdkError):
    """The connector builds, but not into something cdk can publish or install (exit 1)."""


class FolderNotEmptyError(CdkError):
    """The target folder holds files and ``force`` was not given (exit 1: refused, nothing written)."""


class SecretLeakError(CdkError):
    """A secret survived redaction; the cassette was not written."""


class CassetteFormatError(CdkError):
    """A cassette file that cannot be read."""


class RequestRefused(CdkError):
    """The service answers ``status`` with ``{"error": code, "message": message, **extra}``."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra


class InputError(CdkError):
    """An input file that cdk refuses to read or parse; ``problem`` says where (file, line, column).

    Raised by the one YAML loader (:mod:`cdk.yamlio`) and by :func:`cdk.fsutil.read_input_text`."""

    def __init__(self, message: str, *, problem: Finding | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problem = problem


class ConnectorError(CdkError):
    """Connector code failed while running."""


class AuthenticationError(ConnectorError):
    """The API refused the credentials (401 or 403)."""


class EgressDeniedError(ConnectorError):
    """The connector tried to reach a host outside its manifest's allowed_hosts."""


class PaginationLoopError(ConnectorError):
    """A source returned the same next_pagination twice: it would loop forever."""


class MaximumRequestReached(ConnectorError):
    """A read made its run's ``maximumRequest`` requests and the API still had pages: nothing was lost.

    Raised before the request past the cap, after the runner saved the checkpoint of the last page read,
    so the same command run again continues at the next page. A distinct exit code (4) lets a scheduler
    tell "run again" from a failure; ``cdk read --allow-partial`` accepts the partial run (exit 0).
    """

    exit_code = 4

    def __init__(
        self, message: str, *, stream: str, requests: int, records: int, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.stream = stream
        self.requests = requests
        self.records = records


class InvalidResponseError(ConnectorError):
    """The API answered with something the connector cannot use (e.g. a non-JSON body)."""


class UnrecordedRequestError(ConnectorError):
    """A request during replay that the cassette does not hold (or whose recordings were all played)."""


class NetworkBlockedError(ConnectorError):
    """A connection attempt during replay."""


class TransientError(ConnectorError):
    """The API kept failing (connection errors, 5xx) after the retry budget was spent."""

    exit_code = 3


class RateLimitedError(TransientError):
    """The API kept answering 429 after the retry budget was spent."""


class RequestTimeoutError(TransientError):
    """The API did not answer within the timeout."""


class ApiUnreachableError(TransientError):
    """While recording, a connection to the live API could not be made (refused, no such host, connect
    timeout). Raised at once, never retried: recording stops and every cassette stays as it was."""


class SandboxViolation(CdkError, PermissionError):
    """The runtime guard (:mod:`cdk.sandbox.audit`) refused an operation of connector code: a file
    outside the allowed folders, a process, ctypes, a socket to a host outside ``allowed_hosts``.
    ``event`` is the audit event (``open``, ``subprocess.Popen``, ``socket.connect``...), ``where`` the
    connector's file:line that caused it when known. Also a :class:`PermissionError`, so that library
    code that tolerates a refused write (a ``.pyc`` cache) goes on."""

    def __init__(self, event: str, detail: str = "", *, where: str | None = None) -> None:
        self.event = event
        self.detail = detail
        self.where = where
        at = f" at {where}" if where else ""
        super().__init__(
            f"sandbox refused '{event}'{at}: {detail}".rstrip(": "),
            hint="connector code reaches the outside only through the SDK (self.session, the config, records)",
        )


class OutsideError(CdkError):
    """Something outside the connector failed: registry, build backend, permissions."""

    exit_code = 3


class ServiceError(OutsideError):
    """``cdk serve`` cannot start or reach its database (bad URL, server down, migration failed)."""


class SandboxError(OutsideError):
    """The sandbox for user code cannot be set up (bubblewrap missing or refused by the kernel)."""


class SandboxUnavailable(SandboxError):
    """No OS isolation here: user code is refused unless the service runs with ``--unsafe-sandbox``."""


class OutputWriteError(OutsideError):
    """Records or state could not be written (disk full, quota, I/O error): nothing past the last saved
    checkpoint counts as delivered, so the same command with the same --state resumes without loss."""


class DestinationError(ConnectorError):
    """A destination's ``write()`` or ``finalize()`` raised: the message names the destination, the stream
    and the batch. Exit 1 (its code is at fault) unless the cause was an outside failure (exit 3)."""


class RecordTooLargeError(DestinationError):
    """One record is larger than the destination's ``max_batch_bytes``: no batch can carry it. The message
    names the record's id, its size and the limit; nothing of its page was acknowledged."""


class MissingExtraError(OutsideError):
    """An optional dependency is not installed (e.g. SQLAlchemy for the ``sql`` destination): the hint names
    the extra to install."""


class StandardTestFailure(AssertionError):
    """A standard test found the connector at fault; the message says where."""


class PaginationNeverEnds(StandardTestFailure):
    """The source kept asking for more pages."""


__all__ = [
    "AlreadyPublished",
    "ApiUnreachableError",
    "AnswerError",
    "AuthenticationError",
    "CassetteFormatError",
    "CdkError",
    "ConfigError",
    "ConnectorError",
    "DestinationError",
    "EgressDeniedError",
    "ExpressionError",
    "FolderNotEmptyError",
    "InputError",
    "InvalidModeError",
    "InvalidResponseError",
    "ManifestError",
    "MaximumRequestReached",
    "MissingExtraError",
    "NetworkBlockedError",
    "OutsideError",
    "OutputWriteError",
    "PackagingError",
    "PaginationLoopError",
    "PaginationNeverEnds",
    "Problem",
    "RateLimitedError",
    "RecordTooLargeError",
    "RequestRefused",
    "RequestTimeoutError",
    "SandboxError",
    "SandboxUnavailable",
    "SandboxViolation",
    "SecretLeakError",
    "ServiceError",
    "StandardTestFailure",
    "TestsFailed",
    "TransientError",
    "UnrecordedRequestError",
    "UsageError",
    "ValidationFailed",
    "VersionRefused",
]
