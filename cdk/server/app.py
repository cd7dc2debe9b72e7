"""The custom-sources HTTP API (``cdk serve``): FastAPI over the storage of :mod:`cdk.server.db`.

Every request carries an API key (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``); the key's
workspace scopes every query, so another workspace's source is answered 404 exactly like one that
does not exist. Validation runs the code suites of ``cdk validate``
(:func:`cdk.workflows.custom_sources.check_source`); preview and test-connection run the code only
in the sandbox (:mod:`cdk.sandbox`), and the credentials they carry are used once: never stored,
never logged, masked in any message that comes back.

Errors are JSON ``{"error": code, "message": text, ...}`` with a 4xx status: malformed JSON (400),
wrong types (422), oversize code (413), missing or bad key (401), unknown id (404), invalid code
on create or update (400 with the findings), no sandbox (503).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from cdk.errors import RequestRefused, SandboxUnavailable
from cdk.sandbox import Limits, SandboxResult
from cdk.server import db as store
from cdk.workflows.custom_sources import (
    DECLARATIVE,
    MAX_CODE_BYTES,
    SourceCheck,
    check_source,
    check_source_spec,
    describe_source,
    materialise_spec,
)

log = logging.getLogger("cdk.server")

API = "/api/v1/custom-sources"
MAX_BODY_BYTES = MAX_CODE_BYTES + 256 * 1024


def _json_error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


# -- request bodies -------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidateBody(_Body):
    code: str | None = None
    source_spec: dict[str, Any] | None = None  # a declarative sourceSpec document, instead of code
    allowed_hosts: list[str] | None = None


class CreateBody(_Body):
    name: str = Field(min_length=1, max_length=200)
    code: str | None = None
    source_spec: dict[str, Any] | None = None
    source_name: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]{1,63}$")
    description: str | None = Field(None, max_length=10_000)
    allowed_hosts: list[str] = Field(default_factory=list)


class UpdateBody(_Body):
    name: str | None = Field(None, min_length=1, max_length=200)
    code: str | None = None
    source_spec: dict[str, Any] | None = None
    source_name: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]{1,63}$")
    description: str | None = Field(None, max_length=10_000)
    allowed_hosts: list[str] | None = None


class Authentication(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class PreviewBody(_Body):
    source_id: str | None = None
    code: str | None = None
    source_spec: dict[str, Any] | None = None
    stream: str | None = None
    authentication: Authentication | None = None
    config: dict[str, Any] | None = None
    max_records: int = Field(10, ge=1, le=1000)
    allowed_hosts: list[str] | None = None


class TestConnectionBody(_Body):
    authentication: Authentication | None = None
    config: dict[str, Any] | None = None


# -- the application ------------------------------------------------------------------------------


@dataclass
class Principal:
    workspace_id: str
    key_id: str


@dataclass
class ServiceConfig:
    database_url: str
    unsafe_sandbox: bool = False
    static_validation: bool = True  # tests switch it off to prove the sandbox alone holds
    limits: Limits = Limits()
    max_concurrent_runs: int = 4


def _slug(name: str) -> str:
    import re

    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return slug if re.match(r"^[a-z][a-z0-9_-]{1,63}$", slug) else "custom"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _summary(src: store.CustomSource) -> dict[str, Any]:
    return {
        "id": src.id,
        "name": src.name,
        "source_name": src.source_name,
        "streams": list(src.streams or []),
        "description": src.description,
        "created_at": _iso(src.created_at),
    }


def _full(src: store.CustomSource) -> dict[str, Any]:
    out = _summary(src)
    declarative = src.kind == DECLARATIVE
    out["code"] = None if declarative else src.code
    out["kind"] = src.kind
    if declarative:
        out["source_spec"] = src.source_spec
    out["updated_at"] = _iso(src.updated_at)
    out["allowed_hosts"] = list(src.allowed_hosts or [])
    out["config_schema"] = src.config_schema
    return out


def _check_size(code: str | dict[str, Any]) -> None:
    import json

    size = len((code if isinstance(code, str) else json.dumps(code)).encode("utf-8"))
    if size > MAX_CODE_BYTES:
        raise RequestRefused(
            413,
            "code_too_large",
            f"code is {size} bytes; the limit is {MAX_CODE_BYTES} bytes (one source file)",
        )


def _db(request: Request) -> Iterator[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        yield session


def _principal(
    session: Annotated[Session, Depends(_db)],
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    key = x_api_key
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            key = value.strip()
    if not key:
        raise RequestRefused(
            401, "unauthorized", "an API key is required: Authorization: Bearer KEY or X-API-Key: KEY"
        )
    row = store.verify_key(session, key)
    if row is None:
        raise RequestRefused(401, "unauthorized", "the API key is not valid (unknown or revoked)")
    return Principal(workspace_id=row.workspace_id, key_id=row.id)


Db = Annotated[Session, Depends(_db)]
Who = Annotated[Principal, Depends(_principal)]


def create_app(config: ServiceConfig) -> FastAPI:
    sessions: sessionmaker[Session] = store.open_database(config.database_url)
    runs = threading.BoundedSemaphore(config.max_concurrent_runs)
    app = FastAPI(
        title="connector-cdk custom sources",
        version="1",
        description="Validate, store, preview and test custom source connectors.",
    )
    app.state.sessions = sessions
    app.state.config = config
    if config.unsafe_sandbox:
        log.warning(
            "cdk serve started with --unsafe-sandbox: where bubblewrap is unavailable, user code runs "
            "WITHOUT operating-system isolation"
        )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return _json_error(413, "body_too_large", f"request body over {MAX_BODY_BYTES} bytes")
        response: Response = await call_next(request)
        return response

    @app.exception_handler(RequestRefused)
    async def api_error(_: Request, exc: RequestRefused) -> JSONResponse:
        return _json_error(exc.status, exc.code, exc.message, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        for e in errors:
            if e.get("type") == "json_invalid":
                ctx = e.get("ctx") or {}
                return _json_error(
                    400,
                    "malformed_json",
                    f"request body is not valid JSON: {ctx.get('error', 'parse error')}",
                )
        problems = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "(body)",
                "message": e.get("msg", "invalid"),
                "type": e.get("type"),
            }
            for e in errors
        ]
        message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return _json_error(422, "invalid_request", message, problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _json_error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__, exc_info=exc)
        return _json_error(500, "internal_error", "internal error; the server log has the details")

    def owned(session: Session, who: Principal, source_id: str) -> store.CustomSource:
        src = session.scalar(
            select(store.CustomSource).where(
                store.CustomSource.id == source_id, store.CustomSource.workspace_id == who.workspace_id
            )
        )
        if src is None:
            raise RequestRefused(404, "not_found", f"no custom source {source_id!r}")
        return src

    def checked(code: str, allowed_hosts: list[str] | None) -> SourceCheck:
        _check_size(code)
        return check_source(code, allowed_hosts=allowed_hosts)

    def checked_any(
        code: str | None, spec: dict[str, Any] | None, hosts: list[str] | None, name: str | None = None
    ) -> SourceCheck:
        """Code or a sourceSpec (exactly one of them), checked by the suites of cdk validate."""
        if (code is None) == (spec is None):
            raise RequestRefused(422, "invalid_request", "give either code or source_spec (one of them)")
        if spec is not None:
            _check_size(spec)
            return check_source_spec(spec, name=name)
        assert code is not None
        return checked(code, hosts)

    def invalid(check: SourceCheck) -> RequestRefused:
        body = check.to_dict()
        n = len(body["errors"])
        return RequestRefused(
            400, "invalid_code", f"the code has {n} error{'s' * (n != 1)}; nothing was saved", **body
        )

    @app.post(f"{API}/validate", summary="Validate custom source code without saving")
    def validate(body: ValidateBody, who: Who) -> dict[str, Any]:
        return checked_any(body.code, body.source_spec, body.allowed_hosts, "custom").to_dict()

    @app.post(
        f"{API}", status_code=201, summary="Create a custom source (400 with the findings when invalid)"
    )
    def create(body: CreateBody, who: Who, session: Db) -> dict[str, Any]:
        check = checked_any(
            body.code, body.source_spec, body.allowed_hosts, body.source_name or _slug(body.name)
        )
        if not check.valid:
            raise invalid(check)
        declarative = body.source_spec is not None
        src = store.CustomSource(
            id=store.new_id(),
            workspace_id=who.workspace_id,
            name=body.name,
            source_name=body.source_name or check.source_name or "custom",
            description=body.description,
            code=body.code or "",
            kind=DECLARATIVE if declarative else "python",
            source_spec=body.source_spec,
            class_name=check.class_name or "",
            streams=check.streams,
            config_schema=check.config_schema,
            allowed_hosts=body.allowed_hosts or (check.allowed_hosts or [] if declarative else []),
            created_at=store.now(),
        )
        session.add(src)
        store.audit(
            session,
            "source.create",
            workspace_id=who.workspace_id,
            key_id=who.key_id,
            target=src.id,
            detail={"name": body.name},
        )
        session.commit()
        return _full(src)

    @app.get(f"{API}", summary="List custom sources (metadata only, no code)")
    def list_sources(who: Who, session: Db) -> list[dict[str, Any]]:
        rows = session.scalars(
            select(store.CustomSource)
            .where(store.CustomSource.workspace_id == who.workspace_id)
            .order_by(store.CustomSource.created_at, store.CustomSource.id)
        )
        return [_summary(r) for r in rows]

    @app.get(f"{API}/{{source_id}}", summary="Get a custom source with its code")
    def get_source(source_id: str, who: Who, session: Db) -> dict[str, Any]:
        return _full(owned(session, who, source_id))

    @app.put(f"{API}/{{source_id}}", summary="Update a custom source")
    def update(source_id: str, body: UpdateBody, who: Who, session: Db) -> dict[str, Any]:
        src = owned(session, who, source_id)
        changed = sorted(body.model_fields_set)
        if body.code is not None and body.source_spec is not None:
            raise RequestRefused(422, "invalid_request", "give either code or source_spec (one of them)")
        if body.code is not None or body.source_spec is not None or body.allowed_hosts is not None:
            hosts = body.allowed_hosts if body.allowed_hosts is not None else list(src.allowed_hosts or [])
            declarative = body.source_spec is not None or (body.code is None and src.kind == DECLARATIVE)
            if declarative:
                spec = body.source_spec if body.source_spec is not None else src.source_spec
                check = checked_any(None, spec, hosts, body.source_name or src.source_name)
            else:
                check = checked(body.code if body.code is not None else src.code, hosts)
            if not check.valid:
                raise invalid(check)
            if declarative:
                src.kind, src.code = DECLARATIVE, ""
                src.source_spec = body.source_spec if body.source_spec is not None else src.source_spec
                if body.allowed_hosts is None and body.source_spec is not None:
                    hosts = check.allowed_hosts or []
            else:
                src.kind, src.source_spec = "python", None
                src.code = body.code if body.code is not None else src.code
            src.class_name = check.class_name or src.class_name
            src.streams = check.streams
            src.config_schema = check.config_schema
            src.allowed_hosts = hosts
        if body.name is not None:
            src.name = body.name
        if body.description is not None:
            src.description = body.description
        if body.source_name is not None:
            src.source_name = body.source_name
        src.updated_at = store.now()
        store.audit(
            session,
            "source.update",
            workspace_id=who.workspace_id,
            key_id=who.key_id,
            target=src.id,
            detail={"fields": changed},
        )
        session.commit()
        return _full(src)

    @app.delete(f"{API}/{{source_id}}", status_code=204, summary="Delete a custom source")
    def delete(source_id: str, who: Who, session: Db) -> Response:
        src = owned(session, who, source_id)
        session.delete(src)
        store.audit(
            session, "source.delete", workspace_id=who.workspace_id, key_id=who.key_id, target=source_id
        )
        session.commit()
        return Response(status_code=204)

    def sandboxed(action: str, spec: dict[str, Any] | None = None, **kwargs: Any) -> SandboxResult:
        """Run in the sandbox: code, or the connector folder a sourceSpec makes (only a manifest and
        schemas are written outside the sandbox; the declarative engine runs inside it)."""
        import tempfile
        from pathlib import Path

        from cdk import sandbox

        with runs, tempfile.TemporaryDirectory(prefix="cdk-serve-spec-") as d:
            if spec is not None:
                folder = Path(d) / "connector"
                materialise_spec(spec, folder, name=kwargs.get("source_name") or None)
                kwargs = {**kwargs, "folder": folder, "code": "", "class_name": ""}
            try:
                return sandbox.run(action, limits=config.limits, unsafe=config.unsafe_sandbox, **kwargs)
            except SandboxUnavailable as exc:
                raise RequestRefused(503, "sandbox_unavailable", exc.message, hint=exc.hint) from None

    @app.post(f"{API}/preview", summary="Preview records of a saved source or of code, in the sandbox")
    def preview(body: PreviewBody, who: Who, session: Db) -> dict[str, Any]:
        given = [x for x in (body.source_id, body.code, body.source_spec) if x is not None]
        if len(given) != 1:
            raise RequestRefused(422, "invalid_request", "give one of source_id, code or source_spec")
        spec: dict[str, Any] | None = None
        if body.source_id is not None:
            src = owned(session, who, body.source_id)
            code, class_name, source_name = src.code, src.class_name, src.source_name
            streams, hosts = list(src.streams or []), list(src.allowed_hosts or [])
            spec = src.source_spec if src.kind == DECLARATIVE else None
        elif body.source_spec is not None:
            check = checked_any(None, body.source_spec, None, "custom")
            if not check.valid:
                raise invalid(check)
            spec, code, class_name, source_name = (
                body.source_spec,
                "",
                DECLARATIVE,
                check.source_name or "custom",
            )
            streams, hosts = check.streams, list(body.allowed_hosts or check.allowed_hosts or [])
        else:
            assert body.code is not None
            code, hosts = body.code, list(body.allowed_hosts or [])
            if config.static_validation:
                check = checked(code, hosts)
            else:
                _check_size(code)
                check = describe_source(code)
            if config.static_validation and not check.valid:
                raise invalid(check)
            if check.class_name is None:
                raise invalid(check)
            class_name, source_name, streams = check.class_name, check.source_name or "custom", check.streams
        stream = body.stream or (streams[0] if streams else None)
        result = sandboxed(
            "preview",
            spec,
            code=code,
            class_name=class_name,
            source_name=source_name,
            stream=stream,
            streams=streams or ([stream] if stream else []),
            authentication=body.authentication.model_dump() if body.authentication else None,
            config=body.config,
            max_records=body.max_records,
            allowed_hosts=hosts,
        )
        store.audit(
            session,
            "source.preview",
            workspace_id=who.workspace_id,
            key_id=who.key_id,
            target=body.source_id,
            detail={"stream": stream, "success": result.success},
        )
        session.commit()
        return {
            "success": result.success,
            "records": result.records,
            "total_count": result.total_count,
            "error": result.error,
            "execution_time_ms": result.execution_time_ms,
            "http_log": result.http_log,
        }

    @app.post(f"{API}/{{source_id}}/test-connection", summary="Test the connection of a saved source")
    def test_connection(source_id: str, body: TestConnectionBody, who: Who, session: Db) -> dict[str, Any]:
        src = owned(session, who, source_id)
        streams = list(src.streams or [])
        result = sandboxed(
            "check",
            src.source_spec if src.kind == DECLARATIVE else None,
            code=src.code,
            class_name=src.class_name,
            source_name=src.source_name,
            stream=streams[0] if streams else None,
            streams=streams,
            authentication=body.authentication.model_dump() if body.authentication else None,
            config=body.config,
            allowed_hosts=list(src.allowed_hosts or []),
        )
        store.audit(
            session,
            "source.test_connection",
            workspace_id=who.workspace_id,
            key_id=who.key_id,
            target=source_id,
            detail={"success": result.success},
        )
        session.commit()
        message = (
            result.message if result.success else (result.message or result.error or "Connection failed")
        )
        return {"success": result.success, "message": message or "Connection successful"}

    return app


__all__ = ["API", "ServiceConfig", "create_app"]
