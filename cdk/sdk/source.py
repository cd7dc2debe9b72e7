"""The connector contracts: sources, streaming sources, destinations, and the adapter of the custom-sources API's contract.

Method names and signatures follow the Python source guide so that authors of such sources feel at home. The SDK's
abstract stubs carry ``__cdk_stub__`` so that ``cdk validate`` can tell a stub from a real method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cdk.sdk.config import DestinationConfig, SourceConfig
from cdk.sdk.records import SourceIncrementalState, SourceIteration, SourceRecord, WriteResult

if TYPE_CHECKING:
    from requests.auth import AuthBase

    from cdk.sdk.http import ConnectorSession


class _Connector:
    """What sources and destinations share: config, session and authenticator."""

    config: Any

    def __init__(self, config: Any, session: ConnectorSession | None = None) -> None:
        self.config = config
        if session is None:
            from cdk.sdk.http import ConnectorSession

            session = ConnectorSession()
        self.session = session
        if self.session.auth is None:
            self.session.auth = self.get_authenticator()
        bind = getattr(self.session.auth, "bind_session", None)
        if callable(bind):  # token refreshes go through this guarded session, never a bare one
            bind(self.session)

    def get_authenticator(self) -> AuthBase | None:
        """The requests authenticator; by default built from ``config.authentication``."""
        auth = getattr(self.config, "authentication", None)
        if auth is None:
            return None
        from cdk.sdk.auth import AuthBuilder

        return AuthBuilder.from_config(auth)


class _Source(_Connector, ABC):
    """What every source declares: its streams, its config class, and a connection check."""

    config: SourceConfig

    @staticmethod
    @abstractmethod
    def streams() -> list[str]:
        """Names of the streams this source can read."""

    @staticmethod
    @abstractmethod
    def get_config_class() -> type[SourceConfig]:
        """The pydantic config class (a SourceConfig subclass)."""

    @abstractmethod
    def check_connection(self) -> tuple[bool, str | None]:
        """Test connectivity and credentials: (True, None) or (False, reason)."""


class AbstractSource(_Source):
    """A batch source: ``get`` returns one page at a time; the runner loops over ``next_pagination``."""

    def get_total_records_count(self) -> int | None:
        """Total records of ``config.stream`` if the API tells; used for progress."""
        return None

    def discover(self) -> list[dict[str, Any]] | dict[str, dict[str, Any]] | None:
        """Dynamic discovery: the streams the API offers now, each ``{"name", "schema"[, "primary_key",
        "cursor_field"]}`` (or a mapping name -> JSON Schema). ``cdk discover`` prefers it to the
        manifest. None (the default): not implemented."""
        return None

    def get_json_schema(self, stream: str) -> dict[str, Any] | None:
        """The JSON Schema of one stream's records, when the API describes it (None: use the manifest)."""
        return None

    @abstractmethod
    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        """Fetch one page of ``config.stream``; ``pagination`` is the previous ``next_pagination``."""

    def get_records_after(
        self, source_state: SourceIncrementalState, pagination: dict[str, Any] | None = None
    ) -> SourceIteration:
        """Incremental read: one page of records changed after ``source_state.last_run``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_records_after (incremental)")

    # ignored below: a marker attribute on the function, read by the capability checks
    get_records_after.__cdk_stub__ = True  # type: ignore[attr-defined]


class StreamingSource(_Source):
    """A streaming source: ``read_stream`` yields records from a checkpoint; ``commit`` acknowledges one."""

    @abstractmethod
    def read_stream(self, stream: str, checkpoint: dict[str, Any] | None) -> Iterator[SourceRecord]:
        """Yield records of ``stream`` after ``checkpoint`` (None: from the start)."""

    @abstractmethod
    def commit(self, checkpoint: dict[str, Any]) -> None:
        """Acknowledge everything up to ``checkpoint`` (called after the runner saved it)."""

    def checkpoint_for(self, record: SourceRecord) -> dict[str, Any]:
        """The checkpoint that resumes right after ``record``; override for offsets or LSNs."""
        out: dict[str, Any] = {"last_id": record.id}
        if record.timestamp is not None:
            out["last_timestamp"] = record.timestamp.isoformat()
        return out


class AbstractDestination(_Connector, ABC):
    """A destination (capability ``load``): the runner calls ``write`` per batch, then ``finalize``."""

    config: DestinationConfig

    @staticmethod
    @abstractmethod
    def get_config_class() -> type[DestinationConfig]:
        """The pydantic config class (a DestinationConfig subclass)."""

    @abstractmethod
    def check_connection(self) -> tuple[bool, str | None]:
        """Test connectivity and credentials."""

    @abstractmethod
    def write(self, stream: str, records: list[SourceRecord]) -> WriteResult:
        """Write one batch of records of ``stream``."""

    def finalize(self) -> None:
        """Called once after the last batch (flush, commit, swap tables)."""


for _cls in (_Source, AbstractSource, StreamingSource, AbstractDestination):
    for _name in _cls.__abstractmethods__:
        if _name in _cls.__dict__:
            _fn = _cls.__dict__[_name]
            getattr(_fn, "__func__", _fn).__cdk_stub__ = True


def is_simple_contract(cls: type[Any]) -> bool:
    """True for a class written to the custom-sources API's simpler contract: ``get_streams``,
    ``check_connection`` and ``get_records(stream)``, and no real ``get``/``read_stream`` — whether or not
    it inherits :class:`AbstractSource` (the API's example does)."""
    if not all(callable(getattr(cls, m, None)) for m in ("get_streams", "check_connection", "get_records")):
        return False
    for method in ("get", "read_stream"):
        fn = getattr(cls, method, None)
        if fn is not None and not getattr(fn, "__cdk_stub__", False):
            return False
    return True


def _simple_instance(simple_class: type[Any], config: Any, session: Any) -> Any:
    """An instance of a simple-contract class. A subclass of our AbstractSource still has abstract
    stubs (it implements the other contract), so a concrete subclass fills them before instantiating."""
    if not issubclass(simple_class, _Connector):
        obj = simple_class()
        for name, value in (("config", config), ("session", session)):
            try:
                setattr(obj, name, value)
            except AttributeError:
                pass
        return obj

    def stub(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the simple contract has get_records(stream); cdk adapts it")

    filled: dict[str, Any] = {name: stub for name in getattr(simple_class, "__abstractmethods__", ())}
    concrete = type(simple_class.__name__, (simple_class,), filled)
    if config is None:  # streams() without a config: no __init__ needed to list names
        return object.__new__(concrete)
    return concrete(config, session=session)


class SimpleSourceAdapter(AbstractSource):
    """Runs a source written to the custom-sources API's simpler contract as an AbstractSource.

    That contract is ``get_streams()``, ``check_connection() -> bool`` and ``get_records(stream)``
    yielding records. The adapter pages the generator ``page_size`` records at a time; resuming at
    page k skips the records of the pages already delivered.
    """

    page_size = 1000
    simple_class: type[Any]

    def __init__(self, config: SourceConfig, session: ConnectorSession | None = None) -> None:
        super().__init__(config, session)
        self.simple = _simple_instance(self.simple_class, config, self.session)
        self._iter: Iterator[Any] | None = None
        self._page = 0

    @classmethod
    def wrap(cls, simple_class: type[Any]) -> type[SimpleSourceAdapter]:
        """A subclass of the adapter bound to ``simple_class``."""
        return type(simple_class.__name__, (cls,), {"simple_class": simple_class})

    # ignored below: AbstractSource.streams is a staticmethod; the adapter lists its simple class's streams
    @classmethod
    def streams(cls) -> list[str]:
        return list(_simple_instance(cls.simple_class, None, None).get_streams())

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return SourceConfig

    def check_connection(self) -> tuple[bool, str | None]:
        result = self.simple.check_connection()
        if isinstance(result, tuple):
            return bool(result[0]), result[1] if len(result) > 1 else None
        return (True, None) if result else (False, "check_connection returned False")

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        page = int((pagination or {}).get("page", 0))
        if self._iter is None:
            self._iter = iter(self.simple.get_records(self.config.stream))
            for _ in range(page * self.page_size):  # resume: skip delivered pages
                next(self._iter, None)
            self._page = page
        records: list[SourceRecord] = []
        for item in self._iter:
            records.append(item if isinstance(item, SourceRecord) else _coerce_record(item))
            if len(records) >= self.page_size:
                self._page += 1
                return SourceIteration(records=records, next_pagination={"page": self._page})
        return SourceIteration(records=records, next_pagination={})


def _coerce_record(item: Any) -> SourceRecord:
    if isinstance(item, dict):
        return SourceRecord(id=str(item.get("id", "")), data=item)
    rid = getattr(item, "id", None)
    data = getattr(item, "data", None)
    if data is not None:
        return SourceRecord(id=str(rid), data=dict(data))
    raise TypeError(f"get_records yielded {type(item).__name__}, expected a SourceRecord or a dict")
