"""Storage of the custom-sources service: workspaces, API keys (salted hashes only), sources, audit log.

SQLAlchemy 2 models; the schema is created and upgraded by the Alembic migrations in
``cdk/server/migrations`` (applied by :func:`open_database` at start), never by ``create_all``.
SQLite under ``$CDK_HOME`` by default; any SQLAlchemy URL (``postgresql+psycopg://...``) otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from cdk.errors import ServiceError

MIGRATIONS = Path(__file__).with_name("migrations")
KEY_PREFIX = "cdk_"
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ApiKey(Base):
    """A key is ``cdk_<key_id>_<secret>``; only ``key_id`` (to find the row) and a salted scrypt hash of
    the whole key are stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    salt: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(128))
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CustomSource(Base):
    __tablename__ = "custom_sources"
    __table_args__ = (Index("ix_custom_sources_workspace", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    code: Mapped[str] = mapped_column(Text)  # "" for a declarative source
    kind: Mapped[str] = mapped_column(
        String(16), default="python", server_default="python"
    )  # or "declarative"
    source_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    class_name: Mapped[str] = mapped_column(String(200))
    streams: Mapped[list[str]] = mapped_column(JSON, default=list)
    config_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    allowed_hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """Who (workspace and key id), what (action and target id), when. Never code or secrets."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    workspace_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


def default_url(home: str | Path) -> str:
    path = Path(home).expanduser() / "serve.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied (``alembic upgrade head``) on ``engine``."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(url: str, *, upgrade: bool = True) -> sessionmaker[Session]:
    """An engine on ``url`` with the schema migrated to the newest version; returns a session factory."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ServiceError(
            f"cannot use database URL {mask_url(url)}: {exc}",
            hint="e.g. sqlite:////path/serve.sqlite3 or postgresql+psycopg://user:pass@host/db",
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if upgrade:
        try:
            migrate(engine)
        except OperationalError as exc:
            raise ServiceError(f"cannot open database {mask_url(url)}: {exc.orig}") from None
    return sessionmaker(engine, expire_on_commit=False)


def mask_url(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without anything after the scheme
        return url.split("://", 1)[0] + "://..."


# -- API keys -----------------------------------------------------------------------------------------


def _hash(key: str, salt: bytes) -> str:
    return hashlib.scrypt(key.encode(), salt=salt, **SCRYPT).hex()


def create_key(db: Session, workspace: str, *, label: str | None = None) -> tuple[str, ApiKey]:
    """A new key for ``workspace`` (created when new). Returns the key (shown once) and its row."""
    ws = db.scalar(select(Workspace).where(Workspace.name == workspace))
    if ws is None:
        ws = Workspace(id=new_id(), name=workspace)
        db.add(ws)
        db.flush()
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    salt = secrets.token_bytes(16)
    row = ApiKey(id=key_id, workspace_id=ws.id, salt=salt.hex(), hash=_hash(key, salt), label=label)
    db.add(row)
    audit(db, "key.create", workspace_id=ws.id, key_id=None, target=key_id, detail={"by": "cli"})
    return key, row


# keys this process has verified with scrypt (~170 ms each): sha256(key) -> the stored hash it matched.
# Only in memory; every request still reads the key's row, so a revocation (from another process too)
# takes effect at once, and a changed row needs scrypt again.
_VERIFIED: dict[str, str] = {}
_VERIFIED_MAX = 10_000


def verify_key(db: Session, key: str) -> ApiKey | None:
    """The live key row for ``key``, or None (unknown, malformed, revoked or wrong secret)."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, sep, _ = key[len(KEY_PREFIX) :].partition("_")
    if not sep or len(key_id) > 16:
        return None
    row = db.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    fast = hashlib.sha256(key.encode()).hexdigest()
    cached = _VERIFIED.get(fast)
    if cached is not None and hmac.compare_digest(cached, row.hash):
        return row
    if not hmac.compare_digest(_hash(key, bytes.fromhex(row.salt)), row.hash):
        return None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[fast] = row.hash
    return row


def revoke_key(db: Session, key_id: str) -> bool:
    row = db.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now()
    audit(db, "key.revoke", workspace_id=row.workspace_id, key_id=None, target=key_id, detail={"by": "cli"})
    return True


def list_keys(db: Session, workspace: str | None = None) -> list[tuple[ApiKey, str]]:
    query = select(ApiKey, Workspace.name).join(Workspace).order_by(Workspace.name, ApiKey.created_at)
    if workspace is not None:
        query = query.where(Workspace.name == workspace)
    return [(k, name) for k, name in db.execute(query).all()]


def audit(
    db: Session,
    action: str,
    *,
    workspace_id: str | None,
    key_id: str | None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    db.add(
        AuditEntry(
            at=now(), workspace_id=workspace_id, key_id=key_id, action=action, target=target, detail=detail
        )
    )
