"""Declarative sources: a source is Python code or a sourceSpec document.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("custom_sources") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="python"))
        batch.add_column(sa.Column("source_spec", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("custom_sources") as batch:
        batch.drop_column("source_spec")
        batch.drop_column("kind")
