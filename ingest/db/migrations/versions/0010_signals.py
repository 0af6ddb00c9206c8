"""signals: the sales lists' sort keys, filters and the expansion model on risk_predictions.

The risk list ranks by ``p_churn_90d`` (or ``revenue_at_risk_90d``), the expansion list by
``p_expand_180d``; each sort walks its own (run, key, account) index, so keyset
pagination stays an index range scan (the p_churn_90d index gains the account id).
``texts_90d`` backs the ``min_texts`` filter and ``trend_weight`` says how much of the
measured sentiment trend survived shrinkage. Runs stored before have NULLs there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS: list[sa.Column] = [
    sa.Column("revenue_at_risk_90d", sa.Float(), nullable=True),
    sa.Column("texts_90d", sa.Integer(), nullable=True),
    sa.Column("trend_weight", sa.Float(), nullable=True),
    sa.Column("p_expand_180d", sa.Float(), nullable=True),
    sa.Column("expansion_reason", sa.Text(), nullable=True),
    sa.Column("expansion_drivers", sa.JSON(), nullable=True),
]
INDEXES = {
    "ix_risk_predictions_run_p90": ["run_id", "p_churn_90d", "account_id"],
    "ix_risk_predictions_run_rar90": ["run_id", "revenue_at_risk_90d", "account_id"],
    "ix_risk_predictions_run_expand": ["run_id", "p_expand_180d", "account_id"],
}


def upgrade() -> None:
    with op.batch_alter_table("risk_predictions") as batch:
        for column in COLUMNS:
            batch.add_column(column)
    op.drop_index("ix_risk_predictions_run_p90", table_name="risk_predictions")
    for name, columns in INDEXES.items():
        op.create_index(name, "risk_predictions", columns)
    rp = sa.table(
        "risk_predictions",
        sa.column("arr", sa.Float()),
        sa.column("p_churn_90d", sa.Float()),
        sa.column("revenue_at_risk_90d", sa.Float()),
    )
    op.execute(rp.update().values(revenue_at_risk_90d=rp.c.arr * rp.c.p_churn_90d))


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="risk_predictions")
    op.create_index("ix_risk_predictions_run_p90", "risk_predictions", ["run_id", "p_churn_90d"])
    with op.batch_alter_table("risk_predictions") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column.name)
