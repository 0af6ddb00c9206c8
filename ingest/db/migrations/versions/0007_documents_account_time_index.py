"""documents: one (account_id, created_at) index instead of two single-column ones.

Every read of documents by account also filters or orders by created_at (evidence,
trajectories, the account view), so the composite index serves them at least as well,
and each ingested row maintains one index fewer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_account_id")
        batch_op.drop_index("ix_documents_created_at")
        batch_op.create_index(
            "ix_documents_account_created", ["account_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_account_created")
        batch_op.create_index("ix_documents_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_documents_account_id", ["account_id"], unique=False)
