"""Cassettes: recorded HTTP interactions, replayed by an indexed lookup.

Why not vcrpy's own player (see docs/cassettes.md for the figures): vcrpy finds the response of each
request by a linear scan over every interaction of the cassette, running all matchers on each, so a
1,000-page cassette costs ~57 s to replay. Here the recorded requests are indexed once by a normalised
signature (method, URL with sorted query, canonical body — each with secrets redacted), and each
signature maps to a queue of interactions: identical requests get their recordings once each, in
recorded order (vcrpy's semantics with ``allow_playback_repeats=False``), in O(1).

Interception happens at ``requests.adapters.HTTPAdapter.send``, the one place every requests call
(ConnectorSession, OAuth token refreshes, plain ``requests.get``) goes through, so retries, hooks and
cookie handling of requests stay real. During replay, sockets to anything but Unix paths are refused
too, so a client that bypasses requests cannot reach the network either.

The file format is JSON (indented, one field per line, JSON bodies stored as JSON so that reviews
diff fields, not megabyte-long strings) loaded with orjson. vcrpy YAML cassettes are read as well.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cdk.errors import (
    ApiUnreachableError,
    CassetteFormatError,
    NetworkBlockedError,
    SecretLeakError,
    UnrecordedRequestError,
)
from cdk.fsutil import atomic_write_bytes
from cdk.secrets import PLACEHOLDER
from cdk.secrets import hint as mask
from cdk.testing.modes import CassetteMode
from cdk.testing.redact import Redactor

FORMAT_VERSION = 1
RECORD_HINT = "run `cdk test --record` to record it (or `cdk test --record=missing` for new tests only)"
_DROP_RESPONSE_HEADERS = frozenset(
    {"content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive"}
)


# -- signatures ---------------------------------------------------------------------------------


def _default_port(scheme: str) -> int | None:
    return {"http": 80, "https": 443}.get(scheme)


def normalise_url(url: str, redactor: Redactor) -> str:
    """Scheme and host lower-cased, default port dropped, query sorted, secrets redacted."""
    parts = urlsplit(redactor.url(url))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, _default_port(scheme)) else f"{host}:{port}"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _as_bytes(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return None  # a generator or file: streamed upload, not matched on


def normalise_body(body: bytes | None, content_type: str, redactor: Redactor) -> str:
    """A canonical text of a request body: JSON with sorted keys, form fields sorted, secrets redacted."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace")
    ct = content_type.lower()
    if "json" in ct or text.lstrip()[:1] in ("{", "["):
        try:
            doc = json.loads(text)
        except ValueError:
            pass
        else:
            return json.dumps(redactor.json_value(doc), sort_keys=True, separators=(",", ":"))
    if "x-www-form-urlencoded" in ct:
        return urlencode(sorted(parse_qsl(redactor.form(text), keep_blank_values=True)))
    return redactor.text(text)


def signature(
    method: str, url: str, body: bytes | None, content_type: str, redactor: Redactor
) -> tuple[str, str, str]:
    """What a request is matched on: method, normalised URL, canonical body (headers are not matched)."""
    return method.upper(), normalise_url(url, redactor), normalise_body(body, content_type, redactor)


# -- bodies on disk -------------------------------------------------------------------------------


def json_lines(doc: Any) -> list[str]:
    """Compact JSON of ``doc`` cut into lines: one line per element of its top-level lists (the records).

    ``"".join(lines)`` is the JSON text. A changed record shows in a review as one changed line, and
    loading costs one string per record instead of one object per field (see docs/cassettes.md).
    """
    import orjson

    def dump(value: Any) -> str:
        return orjson.dumps(value).decode()

    def items(seq: list[Any], close: str) -> list[str]:
        out = [dump(v) + "," for v in seq]
        out[-1] = out[-1][:-1] + close
        return out

    if isinstance(doc, list) and len(doc) > 1:
        return ["[", *items(doc, "]")]
    if not isinstance(doc, dict) or not any(isinstance(v, list) and len(v) > 1 for v in doc.values()):
        return [dump(doc)]
    lines: list[str] = []
    head = "{"
    keys = list(doc)
    for n, key in enumerate(keys):
        sep = "," if n < len(keys) - 1 else "}"
        value = doc[key]
        if isinstance(value, list) and len(value) > 1:
            lines.append(head + dump(key) + ":[")
            lines.extend(items(value, "]" + sep))
            head = ""
        else:
            head += dump(key) + ":" + dump(value) + sep
    if head:
        lines.append(head)
    return lines


def encode_body(
    raw: bytes | None, content_type: str, redactor: Redactor, *, response: bool
) -> dict[str, Any] | None:
    """A body for the cassette as ``{"lines": [...]}`` (JSON one record a line, text line by line), or base64."""
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(redactor.binary(raw)).decode()}
    ct = content_type.lower()
    if "json" in ct or text.lstrip()[:1] in ("{", "["):
        try:
            import orjson

            doc = orjson.loads(raw)
        except ValueError:
            pass
        else:
            return {"lines": json_lines(redactor.json_value(doc, response=response))}
    if "x-www-form-urlencoded" in ct:
        return {"lines": [redactor.form(text, response=response)]}
    return {"lines": redactor.text(text).splitlines(keepends=True)}


def decode_body(body: Any) -> bytes:
    """The bytes a stored body stands for (also vcrpy's ``{"string": ...}`` and plain strings)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if "lines" in body:
        return "".join(body["lines"]).encode("utf-8")
    if "base64" in body:
        return base64.b64decode(body["base64"])
    value = body.get("string")
    if value is None:
        return b""
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _header(headers: dict[str, list[str]], name: str) -> str:
    for key, values in headers.items():
        if key.lower() == name and values:
            return values[0] if isinstance(values, list) else str(values)
    return ""


# -- the cassette ---------------------------------------------------------------------------------


@dataclass
class Fault:
    """A synthetic answer served before the cassette: a status (with headers) or an exception."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    exception: type[BaseException] | None = None
    repeat: bool = False
    target: tuple[str, str] | None = None  # (METHOD, URL path) it applies to; None: every request

    def applies(self, method: str, url: str) -> bool:
        return self.target is None or (method.upper(), urlsplit(url).path) == self.target


class Cassette:
    """The interactions of one test, indexed for replay or collected while recording.

    ``mode`` (a :class:`~cdk.testing.modes.CassetteMode` or its value) is ``replay``, ``record`` or
    ``block`` (no cassette: loopback only). In replay, requests are answered from the recordings and
    anything else raises :class:`UnrecordedRequestError`. In record, requests go to the network and
    their redacted interactions are kept for :meth:`save`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        mode: CassetteMode | str = CassetteMode.REPLAY,
        redactor: Redactor | None = None,
    ) -> None:
        self.path = Path(path)
        self.mode = CassetteMode(mode)
        self.redactor = redactor or Redactor()
        self.interactions: list[dict[str, Any]] = []
        self._index: dict[tuple[str, str, str], deque[int]] = {}
        self._by_path: dict[tuple[str, str], list[int]] = {}
        self.played: list[int] = []
        self.misses: list[str] = []
        self.faults: deque[Fault] = deque()
        self.fault_hits = 0
        self.requests = 0
        self.unreachable: str | None = None  # recording: why the live API could not be reached
        self.now: float | None = None  # the instant the connector's clock showed when this was recorded
        self._lock = threading.Lock()

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, *, redactor: Redactor | None = None) -> Cassette:
        cassette = cls(path, mode=CassetteMode.REPLAY, redactor=redactor)
        cassette.interactions, cassette.now = read_cassette(cassette.path)
        cassette._build_index()
        return cassette

    def _build_index(self) -> None:
        self._index.clear()
        self._by_path.clear()
        for i, inter in enumerate(self.interactions):
            req = inter["request"]
            body = decode_body(req.get("body"))
            sig = signature(
                req["method"],
                req["uri"],
                body,
                _header(req.get("headers") or {}, "content-type"),
                self.redactor,
            )
            self._index.setdefault(sig, deque()).append(i)
            self._by_path.setdefault((sig[0], sig[1].split("?", 1)[0]), []).append(i)

    def main_endpoint(self) -> tuple[str, str] | None:
        """(METHOD, path) requested most often — the data endpoint of a read, not its token refresh."""
        counts: dict[tuple[str, str], float] = {}
        for n, inter in enumerate(self.interactions):
            key = (inter["request"]["method"].upper(), urlsplit(inter["request"]["uri"]).path)
            counts[key] = counts.get(key, 0) + 1 + n / 1e6  # ties: the later one
        return max(counts, key=counts.__getitem__) if counts else None

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @property
    def unplayed(self) -> int:
        return len(self.interactions) - len(self.played)

    # -- replay -------------------------------------------------------------------------------
    def play(self, method: str, url: str, body: bytes | None, content_type: str) -> dict[str, Any]:
        """The next unplayed interaction recorded for this request, or UnrecordedRequestError."""
        sig = signature(method, url, body, content_type, self.redactor)
        with self._lock:
            queue = self._index.get(sig)
            if queue:
                i = queue.popleft()
                self.played.append(i)
                return self.interactions[i]
        message = self._miss_message(sig)
        self.misses.append(message)
        raise UnrecordedRequestError(message)

    def _miss_message(self, sig: tuple[str, str, str]) -> str:
        method, url, body = sig
        shown = url if len(url) < 300 else url[:300] + "…"
        text = f"unrecorded request {method} {shown}"
        if body:
            text += f" (body {body[:120]}{'…' if len(body) > 120 else ''})"
        where = _rel(self.path)
        if not self.path.exists() and not self.interactions:
            return f"{text}: cassette {where} does not exist; {RECORD_HINT}"
        same = [i for i in self._by_path.get((method, url.split("?", 1)[0]), [])]
        played_same = [i for i in same if i in set(self.played)]
        text += (
            f": not in cassette {where} ({len(self.interactions)} interactions, {len(self.played)} played)"
        )
        if same and len(played_same) == len(same) and sig in self._index:
            text += "; its recordings were all played already (the connector sends it more often than when recorded)"
        elif same:
            first = self.interactions[same[0]]["request"]["uri"]
            text += f"; recorded for this path: {first}"
        return f"{text}; {RECORD_HINT}"

    # -- recording ----------------------------------------------------------------------------
    def record(self, request: Any, response: Any) -> None:
        """Keep the redacted interaction of a live ``requests`` request/response pair."""
        r = self.redactor
        # response first: tokens it issues are learned before the request is stored
        resp_headers: dict[str, list[str]] = {}
        raw_headers = getattr(getattr(response, "raw", None), "headers", None)
        items = (
            raw_headers.items()
            if raw_headers is not None and hasattr(raw_headers, "getlist")
            else response.headers.items()
        )
        for name, value in items:
            if name.lower() in _DROP_RESPONSE_HEADERS:
                continue
            resp_headers.setdefault(name, []).append(value)
        content_type = response.headers.get("Content-Type", "")
        resp_body = encode_body(response.content, content_type, r, response=True)
        req_headers = {
            k: [v if isinstance(v, str) else v.decode("latin-1")] for k, v in request.headers.items()
        }
        req_ct = request.headers.get("Content-Type", "") or ""
        body = _as_bytes(request.body)
        interaction = {
            "request": {
                "method": request.method,
                "uri": r.url(request.url),
                "headers": _compact(r.headers(req_headers)),
                "body": encode_body(body, req_ct, r, response=False),
            },
            "response": {
                "status": response.status_code,
                "reason": response.reason or "",
                "headers": _compact(r.headers(resp_headers)),
                "body": resp_body,
            },
        }
        with self._lock:
            self.interactions.append(interaction)

    def dumps(self) -> bytes:
        """The cassette file's bytes (indented JSON), secrets redacted once more as a last pass."""
        import orjson

        doc: dict[str, Any] = {"cdk_cassette": FORMAT_VERSION}
        if self.now is not None:
            doc["clock"] = {"now": self.now, "utc": _iso(self.now)}
        doc["interactions"] = drop_retried(self.interactions)
        if self.redactor.secrets:  # tokens learned late may sit in earlier interactions
            doc = _mask_late(doc, self.redactor)
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"

    def save(self) -> None:
        """Write atomically after a scan; a surviving secret raises SecretLeakError and writes nothing."""
        data = self.dumps()
        leaks = self.redactor.scan(data.decode("utf-8"))
        if leaks:
            raise SecretLeakError(
                f"cassette {_rel(self.path)} not written: secret values survived redaction ({', '.join(leaks)})",
                hint="report this; mark the config field secret (writeOnly) so it is redacted",
            )
        atomic_write_bytes(self.path, data)


def _mask_late(value: Any, redactor: Redactor) -> Any:
    """Every string masked again; a binary body masked on its decoded bytes, so that it stays
    byte-identical when no secret is inside (masking its base64 text would corrupt it)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "base64" and isinstance(v, str):
                raw = base64.b64decode(v)
                masked = redactor.binary(raw)
                out[k] = v if masked == raw else base64.b64encode(masked).decode()
            else:
                out[k] = _mask_late(v, redactor)
        return out
    if isinstance(value, list):
        return [_mask_late(v, redactor) for v in value]
    if isinstance(value, str):
        return redactor.text(value)
    return value


def _compact(headers: dict[str, list[str]]) -> dict[str, str | list[str]]:
    """One value as a string, repeated headers (Set-Cookie) as a list: short, readable diffs."""
    return {k: v[0] if len(v) == 1 else v for k, v in headers.items()}


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def drop_retried(interactions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The interactions without the failed attempts of requests that were sent again afterwards.

    A live API answers 429 or 5xx now and then; the session retries and the next attempt of the same
    request (method, URL, body) succeeds. Only that final exchange is kept, so the cassette holds what
    the API means, not what it did by chance while recording: the read replays without waiting and the
    error-path tests (which add their own 429s and 500s) see the same baseline every time. A failure
    that was never retried (or whose retries all failed) stays: it is the behaviour the test saw.
    """

    def key(inter: dict[str, Any]) -> str:
        req = inter["request"]
        return json.dumps(
            [str(req.get("method", "")).upper(), req.get("uri"), req.get("body")], sort_keys=True
        )

    keys = [key(i) for i in interactions]
    later: set[str] = set()
    keep: list[bool] = [True] * len(interactions)
    for n in range(len(interactions) - 1, -1, -1):
        status = interactions[n]["response"].get("status")
        if status in RETRIED_STATUSES and keys[n] in later:
            keep[n] = False
        later.add(keys[n])
    return [inter for inter, k in zip(interactions, keep, strict=True) if k]


def _iso(stamp: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat()


def read_interactions(path: Path) -> list[dict[str, Any]]:
    """Interactions of a cassette file: our JSON (orjson) or vcrpy's YAML, normalised to our shape."""
    return read_cassette(path)[0]


def read_cassette(path: Path) -> tuple[list[dict[str, Any]], float | None]:
    """Interactions of a cassette file (our JSON or vcrpy's YAML, normalised to our shape) and the
    recorded clock instant ("now" while recording; None in cassettes recorded before it was kept).

    Read with cdk's safe reads: regular files only, the one YAML loader with cassette limits."""
    from cdk.errors import InputError
    from cdk.fsutil import read_input_bytes
    from cdk.yamlio import CASSETTE_LIMITS, parse_yaml

    if not path.exists() and not path.is_symlink():
        raise CassetteFormatError(f"cassette {path} does not exist", hint=RECORD_HINT)
    try:
        raw = read_input_bytes(path, max_bytes=CASSETTE_LIMITS.max_bytes)
        if path.suffix in (".yaml", ".yml"):
            doc = parse_yaml(raw.decode("utf-8"), str(path), limits=CASSETTE_LIMITS)[0]
    except InputError as exc:
        raise CassetteFormatError(str(exc), hint=exc.hint or RECORD_HINT) from None
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(f"{path}: not UTF-8 at byte {exc.start}", hint=RECORD_HINT) from None
    if path.suffix not in (".yaml", ".yml"):
        import orjson

        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise CassetteFormatError(
                f"{path}: not valid JSON: {exc}", hint="re-record it with `cdk test --record`"
            ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise CassetteFormatError(f"{path}: not a cassette (no 'interactions' list)")
    out = []
    for i, inter in enumerate(doc["interactions"]):
        if not (
            isinstance(inter, dict)
            and isinstance(inter.get("request"), dict)
            and isinstance(inter.get("response"), dict)
        ):
            raise CassetteFormatError(
                f"{path}: interaction {i} is not a mapping with 'request' and 'response' mappings",
                hint=RECORD_HINT,
            )
        resp = inter["response"]
        status = resp.get("status")
        if isinstance(status, dict):  # vcrpy: {"code": 200, "message": "OK"}
            resp = {**resp, "status": status.get("code"), "reason": status.get("message", "")}
        out.append({"request": inter["request"], "response": resp})
    clock = doc.get("clock")
    now = clock.get("now") if isinstance(clock, dict) else None
    return out, float(now) if isinstance(now, (int, float)) and not isinstance(now, bool) else None


# -- interception ---------------------------------------------------------------------------------

_active: list[Cassette] = []
_patch_lock = threading.Lock()
_original_send: Any = None
_original_connect: Any = None
_original_connect_ex: Any = None


def _build_response(
    adapter: Any, request: Any, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
) -> Any:
    from urllib3 import HTTPResponse
    from urllib3._collections import HTTPHeaderDict

    hd = HTTPHeaderDict()
    for k, v in headers:
        if k.lower() not in _DROP_RESPONSE_HEADERS:
            hd.add(k, v)
    hd["Content-Length"] = str(len(body))
    raw = HTTPResponse(
        body=io.BytesIO(body),
        headers=hd,
        status=status,
        reason=reason,
        preload_content=False,
        decode_content=False,
        request_method=request.method,
        request_url=request.url,
    )
    return adapter.build_response(request, raw)


def _patched_send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
    cassette = _active[-1] if _active else None
    if cassette is None:
        return _original_send(adapter, request, *args, **kwargs)
    cassette.requests += 1
    if cassette.faults and cassette.faults[0].applies(request.method, request.url):
        fault = cassette.faults[0]
        if not fault.repeat:
            cassette.faults.popleft()
        cassette.fault_hits += 1
        if fault.exception is not None:
            raise fault.exception(
                f"synthetic {fault.exception.__name__} for {request.method} {_masked(cassette, request.url)}"
            )
        return _build_response(
            adapter, request, int(fault.status or 500), "", list(fault.headers.items()), fault.body
        )
    body = _as_bytes(request.body)
    content_type = request.headers.get("Content-Type", "") or ""
    if cassette.mode is CassetteMode.BLOCK:  # no cassette in this test: only to loopback (socket guard)
        return _original_send(adapter, request, *args, **kwargs)
    if cassette.mode is CassetteMode.RECORD:
        try:
            response = _original_send(adapter, request, *args, **kwargs)
        except Exception as exc:
            if _unreachable(exc):
                cassette.unreachable = _unreachable_message(cassette, request, exc)
                raise ApiUnreachableError(
                    cassette.unreachable, hint=UNREACHABLE_HINT
                ) from None  # not a requests error: the session does not retry it
            raise
        response.content  # noqa: B018 - read it now so it can be stored and still be read by the caller
        cassette.record(request, response)
        return response
    inter = cassette.play(request.method, request.url, body, content_type)
    resp = inter["response"]
    headers = [
        (k, v)
        for k, values in (resp.get("headers") or {}).items()
        for v in (values if isinstance(values, list) else [values])
    ]
    return _build_response(
        adapter,
        request,
        int(resp["status"]),
        resp.get("reason") or "",
        headers,
        decode_body(resp.get("body")),
    )


UNREACHABLE_HINT = (
    "start the API (or fix its URL in the real config) and record again; "
    "every existing cassette was left as it was"
)


def _unreachable(exc: BaseException) -> bool:
    """A connection that could not be made at all: refused, unknown host, connect timeout.

    Not a read timeout or a reset mid-answer (the API is there, a retry may help)."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.ReadTimeout):
        return False
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:  # requests wraps urllib3's MaxRetryError, which wraps the NewConnectionError
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, (NewConnectionError, ConnectionRefusedError, socket.gaierror)):
            return True
        todo += [getattr(cur, "reason", None), *(a for a in cur.args if isinstance(a, BaseException))]
        todo += [cur.__cause__, cur.__context__]
    return False


def _unreachable_message(cassette: Cassette, request: Any, exc: BaseException) -> str:
    parts = urlsplit(request.url or "")
    where = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
    text = str(exc)
    why = next(
        (m for m in ("Connection refused", "Name or service not known", "No route to host") if m in text),
        "connect timed out" if "timed out" in text.lower() else type(exc).__name__,
    )
    return (
        f"cannot reach the API at {where} ({request.method} {cassette.redactor.url(parts.path or '/')}): "
        f"{why}; recording needs the live API"
    )


def _masked(cassette: Cassette, url: str) -> str:
    return cassette.redactor.url(url)


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _guard(original: Any) -> Any:
    def connect(sock: socket.socket, address: Any, *args: Any) -> Any:
        cassette = _active[-1] if _active else None
        if (
            cassette is not None
            and cassette.mode in (CassetteMode.REPLAY, CassetteMode.BLOCK)
            and sock.family != getattr(socket, "AF_UNIX", None)
        ):
            host = str(address[0]) if isinstance(address, tuple) else str(address)
            if cassette.mode is CassetteMode.REPLAY or not _is_loopback(host):
                target = f"{host}:{address[1]}" if isinstance(address, tuple) else host
                how = (
                    RECORD_HINT
                    if cassette.mode is CassetteMode.REPLAY
                    else (
                        "this test has no cassette: request the `cassette` fixture to record and replay its HTTP"
                    )
                )
                raise NetworkBlockedError(
                    f"network access is blocked during replay (connection to {target}); {how}"
                )
        return original(sock, address, *args)

    return connect


def _install() -> None:
    global _original_send, _original_connect, _original_connect_ex
    import requests.adapters

    if _original_send is None:
        _original_send = requests.adapters.HTTPAdapter.send
        # ignored below: a cassette swaps requests' transport and socket connects for its own (a monkeypatch;
        # _patched_send takes the adapter's arguments as *args/**kwargs)
        requests.adapters.HTTPAdapter.send = _patched_send  # type: ignore[method-assign, assignment]
        _original_connect = socket.socket.connect
        _original_connect_ex = socket.socket.connect_ex
        socket.socket.connect = _guard(_original_connect)  # type: ignore[method-assign]
        socket.socket.connect_ex = _guard(_original_connect_ex)  # type: ignore[method-assign]


def _uninstall() -> None:
    global _original_send, _original_connect, _original_connect_ex
    import requests.adapters

    if _original_send is not None:
        # ignored below: undoing the monkeypatch of _install()
        requests.adapters.HTTPAdapter.send = _original_send  # type: ignore[method-assign]
        socket.socket.connect = _original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]
        _original_send = _original_connect = _original_connect_ex = None


@contextmanager
def use_cassette(cassette: Cassette) -> Iterator[Cassette]:
    """Route every requests call (and block sockets, in replay) through ``cassette`` for the block."""
    with _patch_lock:
        _install()
        _active.append(cassette)
    try:
        yield cassette
    finally:
        with _patch_lock:
            _active.remove(cassette)
            if not _active:
                _uninstall()


__all__ = [
    "PLACEHOLDER",
    "Cassette",
    "Fault",
    "decode_body",
    "mask",
    "read_interactions",
    "signature",
    "use_cassette",
]
