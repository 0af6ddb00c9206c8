"""ingest: resolution keys of unresolved records (documents.account_ref, surveys.account_ref),
the process that runs an ingest (ingest_runs.owner)

Records ingested before their account keep the keys they were resolved with, so that a
later accounts ingest resolves them. ``ingest_runs.owner`` ("host:pid") lets a later
ingest mark a run whose process was killed as 'interrupted'.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("account_ref", sa.JSON(), nullable=True))
    with op.batch_alter_table("surveys") as batch:
        batch.add_column(sa.Column("account_ref", sa.JSON(), nullable=True))
    with op.batch_alter_table("ingest_runs") as batch:
        batch.add_column(sa.Column("owner", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingest_runs") as batch:
        batch.drop_column("owner")
    with op.batch_alter_table("surveys") as batch:
        batch.drop_column("account_ref")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("account_ref")
