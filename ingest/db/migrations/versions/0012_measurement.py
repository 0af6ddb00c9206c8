"""marketing: media-mix measurement runs, pipeline forecasts and their ledger

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measurement_runs",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("first_week", sa.Date(), nullable=False),
        sa.Column("last_week", sa.Date(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("diagnostics", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("posterior", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_measurement_runs")),
    )
    op.create_index(op.f("ix_measurement_runs_as_of"), "measurement_runs", ["as_of"])
    op.create_table(
        "forecast_runs",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("measurement_run_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("assumptions", sa.JSON(), nullable=False),
        sa.Column("definitions_version", sa.String(length=32), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["measurement_run_id"], ["measurement_runs.run_id"],
            name=op.f("fk_forecast_runs_measurement_run_id_measurement_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_forecast_runs")),
    )
    op.create_index(op.f("ix_forecast_runs_as_of"), "forecast_runs", ["as_of"])
    op.create_table(
        "forecast_weeks",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("p10", sa.Float(), nullable=False),
        sa.Column("p50", sa.Float(), nullable=False),
        sa.Column("p90", sa.Float(), nullable=False),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("judged_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["forecast_runs.run_id"],
            name=op.f("fk_forecast_weeks_run_id_forecast_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "week", name=op.f("pk_forecast_weeks")),
    )


def downgrade() -> None:
    op.drop_table("forecast_weeks")
    op.drop_index(op.f("ix_forecast_runs_as_of"), table_name="forecast_runs")
    op.drop_table("forecast_runs")
    op.drop_index(op.f("ix_measurement_runs_as_of"), table_name="measurement_runs")
    op.drop_table("measurement_runs")
