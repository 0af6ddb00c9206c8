"""api: index for the sales signal lists (risk_predictions by run and sentiment trend).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_risk_predictions_run_trend",
        "risk_predictions",
        ["run_id", "sentiment_trend", "account_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_risk_predictions_run_trend", table_name="risk_predictions")
