"""The active half of the cdk pytest plugin, registered only in a connector folder.

It adds, from connector.yaml, the standard tests (``connector.yaml::check``, ``::streams``,
``::read[S]``, ``::incremental[S]``) and the error-path tests (``::errors[...]``, synthesised from the
``read`` recording, no live calls, no real sleeps), and gives a connector's own tests the ``config``,
``connector`` and ``cassette`` fixtures. Each test has its own cassette in ``tests/cassettes/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pluggy import Result

from cdk.connector import call_check_connection
from cdk.errors import CassetteFormatError, CdkError, ConfigError
from cdk.testing.cassettes import (
    Cassette,
    Fault,
    use_cassette,
)
from cdk.testing.modes import CassetteMode, RecordMode
from cdk.testing.redact import Redactor, recording_secrets, scan_tree

HARNESS_KEY = pytest.StashKey["Harness"]()
PREVIOUS_CLOCK_KEY = pytest.StashKey[Any]()
REPORT_KEY = pytest.StashKey[dict[str, pytest.TestReport]]()
RECORD_HINT = "run `cdk test --record`"


class Harness:
    """Everything one run shares: the project, the mode, configs, and how a test gets its cassette."""

    def __init__(self, pytest_config: Any, root: Path) -> None:
        from cdk.project import Project

        self.root = root
        self.project = Project.load(root)
        self.mode = RecordMode(pytest_config.getoption("cdk_record") or RecordMode.NONE)
        option = pytest_config.getoption("cdk_config")
        self.real_config_path = Path(option).resolve() if option else root / "secrets" / "config.json"
        self.sample_config_path = root / "tests" / "sample_config.json"
        self.cassette_dir = root / "tests" / "cassettes"
        self.streams_filter: list[str] = list(pytest_config.getoption("cdk_stream") or [])
        self.max_pages = int(self.project.tool_settings.get("test_max_pages", 1000))
        self.max_records = int(self.project.tool_settings.get("test_max_records", 1000))  # streaming sources
        self.recorded: list[Path] = []
        self.pending: list[tuple[Cassette, Path]] = []  # recorded by the running test, saved if it passes
        self.unreachable: str | None = None  # recording stopped: the live API could not be reached
        self.learned: set[str] = set()  # tokens the API issued while recording (masked in reports)
        self._masker: Redactor | None = None
        if self.mode is not RecordMode.NONE and self.cassette_dir.is_dir():
            for stale in self.cassette_dir.glob(".*.tmp"):  # left by a recording killed mid-write
                stale.unlink(missing_ok=True)
        self._cls: Any = None
        self._planned: dict[str, Any] | None = None
        self._planned_done = False
        self._schemas: list[dict[str, Any]] | None = None

    @classmethod
    def replaying(cls, root: Path) -> Harness:
        """A harness outside pytest that only replays: what ``cdk discover --infer`` reads records with."""

        class _NoOptions:
            def getoption(self, name: str) -> Any:
                return None

        return cls(_NoOptions(), root)

    # -- connector and configs ----------------------------------------------------------------
    @property
    def cls(self) -> Any:
        if self._cls is None:
            from cdk.connector import load_connector_class

            self._cls = load_connector_class(self.project)
        return self._cls

    def config_schemas(self) -> list[dict[str, Any]]:
        """The manifest's config schema and the pydantic class's (SecretStr marks fields writeOnly there).

        Kept apart, not merged: a field marked secret in either one is secret.
        """
        if self._schemas is None:
            from cdk.connector import config_class, connector_config_schema

            parts = [
                _safe(lambda: connector_config_schema(self.project, self.cls)),
                _safe(lambda: config_class(self.project, self.cls).model_json_schema()),
            ]
            self._schemas = [p for p in parts if isinstance(p, dict)]
        return self._schemas

    def config_data(self, recording: bool) -> dict[str, Any]:
        from cdk.connector import read_config_file

        if recording:
            if not self.real_config_path.is_file():
                raise ConfigError(
                    f"recording needs the real config, and {self.real_config_path} does not exist",
                    hint="create secrets/config.json (git-ignored) or pass --config FILE",
                )
            return read_config_file(self.real_config_path)
        if self.mode is not RecordMode.NONE:
            planned = self.planned_sample()  # what this recording writes at the end, used already
            if planned is not None:
                return planned
        if not self.sample_config_path.is_file():
            raise ConfigError(
                f"replay needs {self.project.rel(self.sample_config_path)} (the config with placeholder secrets)",
                hint="copy secrets/config.json there and replace every secret by a placeholder such as REPLACE_ME",
            )
        return read_config_file(self.sample_config_path)

    def planned_sample(self) -> dict[str, Any] | None:
        """While recording: tests/sample_config.json as it will be written (see write_sample_config)."""
        if not self._planned_done:
            self._planned, self._planned_done = plan_sample_config(self), True
        return self._planned

    def redactor(self, data: dict[str, Any]) -> Redactor:
        return Redactor(recording_secrets(data, self.config_schemas(), base=self.root))

    def make_connector(
        self,
        data: dict[str, Any],
        *,
        stream: str | None,
        recording: bool,
        waits: list[float] | None = None,
        incremental: bool = False,
        now: float | None = None,
    ) -> Any:
        """A connector instance on a ConnectorSession whose wall clock is frozen at ``now`` (the instant
        stored in the test's cassette); replays also run on virtual time (no real sleeps)."""
        from cdk.connector import instantiate, stream_or_default
        from cdk.sdk.http import ConnectorSession
        from cdk.testing.clock import FrozenClock, FrozenVirtualClock

        data = dict(data)
        if incremental:
            data.setdefault("sync_mode", "incremental")
        clock = FrozenClock(now) if recording else FrozenVirtualClock(now)
        session = ConnectorSession(
            allowed_hosts=self.project.manifest.allowed_hosts,
            delay_request_ms=int(data.get("delay_request_ms", 0) or 0),
            clock=clock,
            on_wait=(lambda seconds, why: waits.append(seconds)) if waits is not None else None,
        )
        return instantiate(
            self.project,
            self.cls,
            data,
            stream=stream_or_default(self.project, self.cls, stream),
            session=session,
        )

    # -- cassettes ----------------------------------------------------------------------------
    def cassette_path(self, name: str) -> Path:
        """``tests/cassettes/<name>.json`` — or an existing ``.yaml`` (vcrpy format) of that name."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        path = self.cassette_dir / f"{slug}.json"
        if not path.exists():
            for ext in (".yaml", ".yml"):
                if (alt := path.with_suffix(ext)).exists():
                    return alt
        return path

    def records(self, path: Path) -> bool:
        """Whether a test with this cassette records (per --record mode) or replays."""
        return self.mode.records(cassette_exists=path.exists())

    def open_cassette(self, path: Path, recording: bool, redactor: Redactor) -> Cassette:
        """The test's cassette; its ``now`` is the instant the connector's clock is frozen at."""
        import time

        if recording:
            cassette = Cassette(path.with_suffix(".json"), mode=CassetteMode.RECORD, redactor=redactor)
            cassette.now = round(time.time(), 3)
            return cassette
        if not path.exists():
            raise CassetteFormatError(
                f"no cassette {self.project.rel(path)} for this test; {RECORD_HINT} to record it "
                "(or `cdk test --record=missing` to record only new tests)"
            )
        cassette = Cassette.load(path, redactor=redactor)
        if cassette.now is None:  # recorded before the clock was kept: today, as before
            cassette.now = time.time()
        return cassette

    @contextmanager
    def session_for(
        self, name: str, *, force_replay: bool = False
    ) -> Iterator[tuple[Cassette, dict[str, Any], bool]]:
        """Cassette + config of one test. A recorded cassette is only queued here: it is written when
        the whole test passed (:meth:`save_pending`), so a failed recording leaves the old one as it was."""
        path = self.cassette_path(name)
        recording = self.records(path) and not force_replay
        if force_replay and not self.sample_config_path.is_file():
            data = self.config_data(recording=True)
        else:
            data = self.config_data(recording)
        cassette = self.open_cassette(path, recording, self.redactor(data))
        try:
            with use_cassette(cassette):
                yield cassette, data, recording
        finally:
            self.note_unreachable(cassette)
        raise_misses(cassette)
        if recording:
            self.pending.append((cassette, path))

    def note_unreachable(self, cassette: Cassette) -> None:
        """Remember that the live API could not be reached, even when the connector swallowed the error;
        and the tokens the cassette learned, so that reports mask them too."""
        if cassette.unreachable and not self.unreachable:
            self.unreachable = cassette.unreachable
        if cassette.mode is CassetteMode.RECORD and not cassette.redactor.secrets <= self.learned:
            self.learned |= cassette.redactor.secrets
            self._masker = None

    def masker(self) -> Redactor | None:
        """While recording: every secret of the real config (and every token learned), to mask what a
        failing test prints — console, captured output and logs, junit.xml, the JSON report."""
        if self.mode is RecordMode.NONE:
            return None
        if self._masker is None:
            try:
                data = self.config_data(recording=True)
            except CdkError:
                data = {}
            from cdk.secrets import secret_values

            self._masker = Redactor(secret_values(data, self.config_schemas(), resolve=True, base=self.root))
            self._masker.add(*self.learned)
        return self._masker

    def save_pending(self) -> None:
        """Write the cassettes the test recorded (it passed); a test that failed saves none."""
        pending, self.pending = self.pending, []
        for cassette, path in pending:
            self.save(cassette, path)

    def save(self, cassette: Cassette, old_path: Path) -> None:
        """Write a recorded cassette (JSON); a vcrpy YAML it replaces is removed so only one remains."""
        cassette.save()
        self.recorded.append(cassette.path)
        if old_path != cassette.path and old_path.suffix in (".yaml", ".yml"):
            old_path.unlink(missing_ok=True)


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:  # noqa: BLE001 - a config class without a schema is fine here
        return None


def raise_misses(cassette: Cassette) -> None:
    """A connector that swallowed an unrecorded request still fails the test, with the request named."""
    if cassette.misses:
        from cdk.errors import UnrecordedRequestError

        raise UnrecordedRequestError(cassette.misses[0])


# -- standard tests as pytest items -------------------------------------------------------------


class StandardItem(pytest.Item):
    """One standard test; ``body(harness)`` does the work."""

    def __init__(self, *, body: Callable[[Harness], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.body = body

    def runtest(self) -> None:
        harness: Harness = self.config.stash[HARNESS_KEY]
        harness.pending = []
        try:
            self.body(harness)
        except BaseException:
            harness.pending = []  # failed while recording: every existing cassette stays byte-identical
            raise
        harness.save_pending()

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        exc = excinfo.value
        if isinstance(exc, (AssertionError, CdkError)):
            hint = getattr(exc, "hint", None)
            return f"{self.nodeid}: {type(exc).__name__}: {exc}" + (f"\n  hint: {hint}" if hint else "")
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.name


class ManifestFile(pytest.File):
    """connector.yaml as a collector of the standard and error-path tests."""

    def collect(self) -> Iterator[pytest.Item]:
        harness: Harness = self.config.stash[HARNESS_KEY]
        manifest = harness.project.manifest
        if manifest.kind != "source":  # a destination: its connection check is all that replays generically
            yield StandardItem.from_parent(self, name="check", body=run_check)
            return
        streams = [
            s for s in manifest.streams if not harness.streams_filter or s.name in harness.streams_filter
        ]
        caps = set(manifest.capabilities)
        streaming_only = "streaming" in caps and "batch_extract" not in caps

        def item(name: str, body: Callable[[Harness], None]) -> pytest.Item:
            return StandardItem.from_parent(self, name=name, body=body)

        yield item("check", run_check)
        yield item("streams", run_streams)
        if streaming_only:
            for s in streams:
                yield item(f"read[{s.name}]", _bind(run_read_streaming, s.name))
            return
        for s in streams:
            yield item(f"read[{s.name}]", _bind(run_read, s.name))
        if "incremental" in caps:
            for s in streams:
                if s.cursor_field:
                    yield item(f"incremental[{s.name}]", _bind(run_incremental, s.name, s.cursor_field))
        if streams:
            first = streams[0].name
            for case, fn in ERROR_CASES.items():
                yield item(f"errors[{case}]", _bind(fn, first))


def _bind(fn: Callable[..., None], *args: Any) -> Callable[[Harness], None]:
    return lambda h: fn(h, *args)


def run_check(h: Harness) -> None:
    with h.session_for("check") as (cassette, data, recording):
        conn = h.make_connector(data, stream=None, recording=recording, now=cassette.now)
        ok, reason = call_check_connection(conn)
    if not ok:
        raise AssertionError(f"check_connection() returned (False, {reason!r})")


def run_streams(h: Harness) -> None:
    recording = h.mode is RecordMode.ALL or not h.sample_config_path.is_file()
    conn = h.make_connector(h.config_data(recording), stream=None, recording=recording)
    declared = set(h.project.manifest.stream_names)
    actual = set(conn.streams())
    if declared != actual:
        parts = []
        if actual - declared:
            parts.append(f"streams() has {sorted(actual - declared)} which connector.yaml does not declare")
        if declared - actual:
            parts.append(
                f"connector.yaml declares {sorted(declared - actual)} which streams() does not return"
            )
        raise AssertionError("; ".join(parts))


def run_read(h: Harness, stream: str) -> None:
    from cdk.testing.standard import check_records, read_stream

    with h.session_for(f"read[{stream}]") as (cassette, data, recording):
        conn = h.make_connector(data, stream=stream, recording=recording, now=cassette.now)
        result = read_stream(conn, stream, max_pages=h.max_pages)
        check_records(h.project, result)


def run_read_streaming(h: Harness, stream: str) -> None:
    from cdk.testing.standard import check_records, read_streaming_stream

    with h.session_for(f"read[{stream}]") as (cassette, data, recording):
        conn = h.make_connector(data, stream=stream, recording=recording, now=cassette.now)
        result = read_streaming_stream(conn, stream, max_records=h.max_records)
        check_records(h.project, result)


def run_incremental(h: Harness, stream: str, cursor_field: str) -> None:
    from cdk.testing.standard import check_incremental

    with h.session_for(f"incremental[{stream}]") as (cassette, data, recording):
        check_incremental(
            lambda: h.make_connector(
                data, stream=stream, recording=recording, incremental=True, now=cassette.now
            ),
            stream,
            cursor_field,
            max_pages=h.max_pages,
        )


# -- error paths, synthesised from the read recording ---------------------------------------------


@contextmanager
def _replayed(h: Harness, stream: str, faults: list[Fault]) -> Iterator[tuple[Any, Cassette, list[float]]]:
    """The read recording of ``stream`` with ``faults`` served first; a connector on a virtual clock."""
    waits: list[float] = []
    name = f"read[{stream}]"
    if not h.cassette_path(name).exists():
        raise CassetteFormatError(
            f"error-path tests replay the recording of {name}, and {h.project.rel(h.cassette_path(name))} "
            f"does not exist; {RECORD_HINT}"
        )
    with h.session_for(name, force_replay=True) as (cassette, data, _):
        target = cassette.main_endpoint()
        for fault in faults:
            if fault.status != 401:  # 401 answers everything; the others hit the data requests
                fault.target = target
        cassette.faults.extend(faults)
        yield (
            h.make_connector(data, stream=stream, recording=False, waits=waits, now=cassette.now),
            cassette,
            waits,
        )


def _auth_fault() -> Fault:
    return Fault(
        status=401,
        body=b'{"error": "invalid credentials"}',
        headers={"Content-Type": "application/json"},
        repeat=True,
    )


def err_401_check(h: Harness, stream: str) -> None:
    from cdk.testing.standard import message_is_about_auth

    with _replayed(h, stream, [_auth_fault()]) as (conn, cassette, _):
        # the session's AuthenticationError escaping check_connection is (False, its message)
        ok, reason = call_check_connection(conn)
    if cassette.fault_hits == 0:
        raise AssertionError(
            "check_connection() made no HTTP request, so it cannot notice refused credentials"
        )
    if ok:
        raise AssertionError(
            f"check_connection() returned ({ok!r}, {reason!r}) although the API answered 401"
        )
    if not message_is_about_auth(reason):
        raise AssertionError(
            f"check_connection() returned (False, {reason!r}): the message should say "
            "that authentication failed"
        )


def err_401_read(h: Harness, stream: str) -> None:
    from cdk.errors import AuthenticationError
    from cdk.testing.standard import read_stream

    with _replayed(h, stream, [_auth_fault()]) as (conn, _cassette, _):
        try:
            read_stream(conn, stream, max_pages=h.max_pages)
        except AuthenticationError:
            return
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(
                f"a read answered 401 raised {type(exc).__name__}: {exc}; expected "
                "AuthenticationError (use self.session, which raises it)"
            ) from None
    raise AssertionError("a read whose every request was answered 401 did not fail")


def _recovers(h: Harness, stream: str, fault: Fault, expected_waits: list[float] | None, what: str) -> None:
    from cdk.testing.standard import read_stream

    with _replayed(h, stream, [fault]) as (conn, cassette, waits):
        try:
            result = read_stream(conn, stream, max_pages=h.max_pages)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(
                f"after {what} on the first request the read failed instead of retrying: "
                f"{type(exc).__name__}: {exc}"
            ) from None
    if cassette.fault_hits != 1:
        raise AssertionError(f"the read made no request through the session ({what} never served)")
    if not result.records:
        raise AssertionError(f"after {what} and a retry the read returned no records")
    asked = list(getattr(conn.session.clock, "sleeps", []))
    if expected_waits is not None and (
        waits != expected_waits or not all(w in asked for w in expected_waits)
    ):
        raise AssertionError(
            f"after {what} the session waited {waits} s; expected {expected_waits} "
            "(the Retry-After of the response)"
        )
    if expected_waits is None and len(waits) != 1:
        raise AssertionError(f"after {what} expected one backoff wait, saw {waits}")


def err_429(h: Harness, stream: str) -> None:
    fault = Fault(
        status=429,
        headers={"Retry-After": "7", "Content-Type": "application/json"},
        body=b'{"error": "rate limited"}',
    )
    _recovers(h, stream, fault, [7.0], "429 Too Many Requests with Retry-After: 7")


def err_500_once(h: Harness, stream: str) -> None:
    _recovers(h, stream, Fault(status=500, body=b'{"error": "boom"}'), None, "one 500")


def err_500_repeated(h: Harness, stream: str) -> None:
    from cdk.errors import RateLimitedError, TransientError
    from cdk.testing.standard import read_stream

    with _replayed(h, stream, [Fault(status=500, body=b'{"error": "boom"}', repeat=True)]) as (
        conn,
        cassette,
        waits,
    ):
        budget = conn.session.retry.max_retries
        try:
            read_stream(conn, stream, max_pages=h.max_pages)
        except TransientError as exc:
            if isinstance(exc, RateLimitedError):
                raise AssertionError(f"repeated 500s raised RateLimitedError: {exc}") from None
            if cassette.fault_hits != budget + 1:
                raise AssertionError(
                    f"expected {budget + 1} attempts (1 + {budget} retries), saw {cassette.fault_hits}"
                ) from None
            if len(waits) != budget:
                raise AssertionError(f"expected {budget} backoff waits, saw {waits}") from None
            return
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(
                f"repeated 500s raised {type(exc).__name__}: {exc}; expected TransientError "
                "after the retry budget"
            ) from None
    raise AssertionError("a read whose every request was answered 500 did not fail")


def err_timeout(h: Harness, stream: str) -> None:
    import requests

    from cdk.errors import RequestTimeoutError
    from cdk.testing.standard import read_stream

    with _replayed(h, stream, [Fault(exception=requests.ReadTimeout, repeat=True)]) as (conn, _cassette, _):
        try:
            read_stream(conn, stream, max_pages=h.max_pages)
        except RequestTimeoutError as exc:
            if "timed out" not in str(exc):
                raise AssertionError(f"the timeout error does not say so: {exc}") from None
            return
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(
                f"a read that always timed out raised {type(exc).__name__}: {exc}; expected "
                "RequestTimeoutError"
            ) from None
    raise AssertionError("a read whose every request timed out did not fail")


ERROR_CASES: dict[str, Callable[[Harness, str], None]] = {
    "401-check": err_401_check,
    "401-read": err_401_read,
    "429-retry-after": err_429,
    "500-once": err_500_once,
    "500-repeated": err_500_repeated,
    "timeout": err_timeout,
}


# -- hooks --------------------------------------------------------------------------------------


def activate(pytest_config: Any, root: Path) -> None:
    """Register this module as a plugin for a run in connector folder ``root``."""
    import sys

    try:
        harness = Harness(pytest_config, root)
    except CdkError as exc:  # an invalid connector.yaml: say so once, no traceback
        raise pytest.UsageError(f"cdk: {exc}" + (f"\n  hint: {exc.hint}" if exc.hint else "")) from None
    if harness.mode is not RecordMode.NONE and not harness.real_config_path.is_file():
        raise pytest.UsageError(  # one error before any test runs, not one failure per test
            f"cdk: recording needs the real config (with live credentials), and "
            f"{harness.real_config_path} does not exist\n  hint: write it (secrets/ is git-ignored) "
            "or pass --config FILE"
        )
    pytest_config.stash[HARNESS_KEY] = harness
    pytest_config.pluginmanager.register(sys.modules[__name__], "cdk-connector")
    if pytest_config.stash[HARNESS_KEY].mode is RecordMode.NONE:
        # replay: retries and rate limits never really sleep. Set here, in the test process only — no
        # environment variable can turn waits off in production.
        from cdk.sdk.http import VirtualClock, set_default_clock

        pytest_config.stash[PREVIOUS_CLOCK_KEY] = set_default_clock(VirtualClock())


def pytest_unconfigure(config: Any) -> None:
    if PREVIOUS_CLOCK_KEY in config.stash:
        from cdk.sdk.http import set_default_clock

        set_default_clock(config.stash[PREVIOUS_CLOCK_KEY])


def pytest_collect_file(file_path: Path, parent: Any) -> Any:
    harness: Harness = parent.config.stash[HARNESS_KEY]
    if file_path.name == "connector.yaml" and file_path.parent.resolve() == harness.root:
        return ManifestFile.from_parent(parent, path=file_path)
    return None


def _record_mode_problems(pytest_config: Any, items: list[Any], session: Any) -> list[str]:
    problems = []
    harness: Harness = pytest_config.stash[HARNESS_KEY]
    if "record_mode" in harness.project.tool_settings:
        problems.append("pyproject.toml [tool.cdk] sets record_mode")
    option = (
        pytest_config.getoption("record_mode", None) if _has_option(pytest_config, "record_mode") else None
    )
    if option not in (None, "none"):
        problems.append(f"pytest option --record-mode={option}")
    for item in items:
        for mark in item.iter_markers("vcr"):
            if "record_mode" in mark.kwargs:
                problems.append(
                    f"{item.nodeid}: @pytest.mark.vcr(record_mode={mark.kwargs['record_mode']!r})"
                )
    for fixturedef in _fixturedefs(session, "vcr_config"):
        value = None
        if not fixturedef.argnames:
            value = _safe(fixturedef.func)
        if isinstance(value, dict) and "record_mode" in value:
            problems.append(
                f"fixture vcr_config ({fixturedef.baseid or 'conftest'}) sets "
                f"record_mode={value['record_mode']!r}"
            )
    return problems


def _fixturedefs(session: Any, name: str) -> list[Any]:
    """Every definition of fixture ``name`` (pytest's registry moved between versions)."""
    fm = session._fixturemanager
    if hasattr(fm, "_arg2fixturedefs"):  # pytest < 9
        return list(fm._arg2fixturedefs.get(name, []))
    by_node = getattr(fm, "_arg2node2fixturedefs", {}).get(name, {})
    return [fd for defs in by_node.values() for fd in defs]


def _has_option(pytest_config: Any, name: str) -> bool:
    try:
        pytest_config.getoption(name)
    except ValueError:
        return False
    return True


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    problems = _record_mode_problems(config, items, session)
    if problems:
        raise pytest.UsageError(
            "record_mode is set by the connector, which would override `cdk test` (and could go live in CI):\n  "
            + "\n  ".join(problems)
            + "\nremove it: `cdk test` replays by default; `cdk test --record` records"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    item.stash.setdefault(REPORT_KEY, {})[report.when] = report
    harness: Harness = item.config.stash[HARNESS_KEY]
    masker = harness.masker()
    if masker is not None and masker.secrets:
        mask_report(report, masker)
    if harness.unreachable and report.when == "teardown":
        # the live API is not there: stop now instead of failing (and retrying) every other test
        item.session.shouldstop = harness.unreachable
        writer = item.config.pluginmanager.get_plugin("cdk-report")
        if writer is not None:
            from cdk.testing.cassettes import UNREACHABLE_HINT

            writer.stop(harness.unreachable, hint=UNREACHABLE_HINT, exit_code=3)


def mask_report(report: Any, masker: Redactor) -> None:
    """Secrets out of a test's report before any reporter (terminal, junitxml, ours) sees it: the
    failure text (an API may echo a credential into an error message) and the captured sections."""
    longrepr = report.longrepr
    if longrepr is not None and not isinstance(longrepr, tuple):  # a tuple: a skip's (file, line, reason)
        text = str(longrepr)
        masked = masker.text(text)
        if masked != text:  # only then trade pytest's structured failure for plain text
            report.longrepr = masked
    report.sections = [(title, masker.text(content)) for title, content in report.sections]


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """After recording, scan the connector folder for the real secrets in any form."""
    harness: Harness = session.config.stash[HARNESS_KEY]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if harness.unreachable and reporter:
        from cdk.testing.cassettes import UNREACHABLE_HINT

        reporter.write_line(f"cdk: {harness.unreachable}\n  hint: {UNREACHABLE_HINT}", red=True)
    if not harness.recorded:
        return
    try:
        redactor = harness.redactor(harness.config_data(recording=True))
    except CdkError:
        return
    leaks = scan_tree(harness.root, redactor, skip={harness.real_config_path})
    if leaks:
        text = "secret scan after recording FAILED — secret values found on disk:\n  " + "\n  ".join(leaks)
        if reporter:
            reporter.write_line(text, red=True)
        for path in harness.recorded:
            path.unlink(missing_ok=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    written = write_sample_config(harness)
    if written and reporter:
        reporter.write_line(
            f"cdk: wrote {harness.project.rel(written)} for replay (the real config, secrets replaced by "
            "placeholders); review and commit it"
        )


FILL_ME = "..."  # what `cdk import source-spec` leaves in tests/sample_config.json for the user's values


def write_sample_config(harness: Harness) -> Path | None:
    """Write :func:`plan_sample_config`'s tests/sample_config.json, if it plans one."""
    from cdk.fsutil import atomic_write_text

    sample = harness.planned_sample()
    if sample is None:
        return None
    harness.sample_config_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(harness.sample_config_path, json.dumps(sample, indent=2) + "\n")
    return harness.sample_config_path


def plan_sample_config(harness: Harness) -> dict[str, Any] | None:
    """tests/sample_config.json for replay, from the real config with every secret replaced by a
    placeholder (the one secret vocabulary): when absent, or when it holds ``"..."`` values (left by
    the importer), which are filled in. Anything the user wrote stays as it is. None: nothing to write."""
    from cdk.connector import read_config_file
    from cdk.secrets import placeholder_config, secret_values

    try:
        real = read_config_file(harness.real_config_path)
    except CdkError:
        return None
    sample = placeholder_config(real, harness.config_schemas())
    if harness.sample_config_path.exists():
        try:
            current = json.loads(harness.sample_config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(current, dict):
            return None
        filled = _fill(current, sample)
        if filled == current:
            return None
        sample = filled
    real_secrets = secret_values(real, harness.config_schemas(), resolve=True, base=harness.root)
    if Redactor(real_secrets).scan(json.dumps(sample)):  # a secret the vocabulary missed: write nothing
        return None
    return sample


def _fill(current: dict[str, Any], real: dict[str, Any]) -> dict[str, Any]:
    """``current`` with each ``"..."`` (at any depth) replaced by the value at the same place in ``real``."""
    out: dict[str, Any] = {}
    for key, value in current.items():
        if value == FILL_ME and key in real:
            out[key] = real[key]
        elif isinstance(value, dict) and isinstance(real.get(key), dict):
            out[key] = _fill(value, real[key])
        else:
            out[key] = value
    return out


# -- fixtures for a connector's own tests ---------------------------------------------------------


def _own_cassette_path(request: Any) -> Path:
    harness: Harness = request.config.stash[HARNESS_KEY]
    module = Path(str(request.node.path)).stem
    inside = request.node.nodeid.split("::", 1)[-1].replace("::", "-")  # Class-test_name[param]
    return harness.cassette_path(f"{module}-{inside}")


@pytest.fixture
def cassette(request: Any) -> Iterator[Cassette]:
    """The test's cassette (tests/cassettes/<module>-<test>.json): replayed, or recorded with --record."""
    harness: Harness = request.config.stash[HARNESS_KEY]
    path = _own_cassette_path(request)
    recording = harness.records(path)
    data = harness.config_data(recording)
    cas = harness.open_cassette(path, recording, harness.redactor(data))
    try:
        with use_cassette(cas):
            yield cas
    finally:
        harness.note_unreachable(cas)
    reports = request.node.stash.get(REPORT_KEY, {})
    passed = "call" in reports and reports["call"].passed
    if passed:
        raise_misses(cas)
        if recording:
            harness.save(cas, path)


@pytest.fixture(autouse=True)
def _cdk_network_guard(request: Any) -> Iterator[None]:
    """Replay runs keep tests without a cassette off the network (loopback stays open for local fakes)."""
    harness: Harness = request.config.stash[HARNESS_KEY]
    if (
        harness.mode is not RecordMode.NONE
        or "cassette" in request.fixturenames
        or isinstance(request.node, StandardItem)
    ):
        yield
        return
    with use_cassette(Cassette(harness.cassette_dir / "(none)", mode=CassetteMode.BLOCK)):
        yield


@pytest.fixture
def config(request: Any) -> dict[str, Any]:
    """The config of the test: tests/sample_config.json in replay, the real config when recording."""
    harness: Harness = request.config.stash[HARNESS_KEY]
    return harness.config_data(harness.records(_own_cassette_path(request)))


@pytest.fixture
def connector(request: Any, config: dict[str, Any], cassette: Cassette) -> Any:
    """A ready connector on a ConnectorSession (virtual clock in replay), its HTTP going through ``cassette``."""
    harness: Harness = request.config.stash[HARNESS_KEY]
    return harness.make_connector(
        config, stream=None, recording=cassette.mode is CassetteMode.RECORD, now=cassette.now
    )
