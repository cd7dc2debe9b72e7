"""Alembic environment of ``cdk serve``: runs on the connection :func:`cdk.server.db.migrate` passes."""

from __future__ import annotations

from alembic import context

from cdk.server.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
