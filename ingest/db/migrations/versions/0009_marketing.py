"""marketing: leads, spend and experiments; opportunities.resolved_by; documents.email_hash

The new input kinds of CONTRACT.md section 5 get their tables. Opportunities of prospects
(an account_id no stored account has) were stored as given and counted; they are now
marked: ``resolved_by`` is 'account_id' once the id names a stored account, None while
it is a prospect's (the opportunities stored so far are marked here). Attribution
answers keep the hash of the respondent's e-mail address (``email_hash``), which links
an answer to the lead of the same address.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("experiment_id", sa.String(length=256), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("channel_given", sa.String(length=128), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("spend_delta", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("lift", sa.Float(), nullable=False),
        sa.Column("lift_low", sa.Float(), nullable=True),
        sa.Column("lift_high", sa.Float(), nullable=True),
        sa.Column("design", sa.String(length=16), nullable=True),
        sa.Column("source_file", sa.String(length=512), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("ingest_run_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingest_run_id"],
            ["ingest_runs.id"],
            name=op.f("fk_experiments_ingest_run_id_ingest_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("source", "experiment_id", name="uq_experiments_source_id"),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.String(length=256), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("resolved_by", sa.String(length=16), nullable=True),
        sa.Column("account_ref", sa.JSON(), nullable=True),
        sa.Column("email_hash", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("mql_at", sa.DateTime(), nullable=True),
        sa.Column("sql_at", sa.DateTime(), nullable=True),
        sa.Column("opportunity_id", sa.String(length=256), nullable=True),
        sa.Column("tracked_source", sa.String(length=128), nullable=True),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("source_file", sa.String(length=512), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("ingest_run_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingest_run_id"], ["ingest_runs.id"], name=op.f("fk_leads_ingest_run_id_ingest_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("source", "lead_id", name="uq_leads_source_id"),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leads_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_email_hash"), ["email_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_leads_opportunity_id"), ["opportunity_id"], unique=False
        )

    op.create_table(
        "spend",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("natural_key", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("channel_given", sa.String(length=128), nullable=False),
        sa.Column("spend", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("campaign", sa.String(length=512), nullable=True),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("impressions", sa.Float(), nullable=True),
        sa.Column("clicks", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.String(length=512), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("ingest_run_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingest_run_id"], ["ingest_runs.id"], name=op.f("fk_spend_ingest_run_id_ingest_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend")),
        sa.UniqueConstraint("natural_key", name="uq_spend_natural_key"),
    )
    with op.batch_alter_table("spend", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spend_date"), ["date"], unique=False)

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_hash", sa.String(length=32), nullable=True))

    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=16), nullable=True))
    opportunities = sa.table("opportunities", sa.column("account_id"), sa.column("resolved_by"))
    accounts = sa.table("accounts", sa.column("account_id"))
    op.execute(
        opportunities.update()
        .where(opportunities.c.account_id.in_(sa.select(accounts.c.account_id)))
        .values(resolved_by="account_id")
    )


def downgrade() -> None:
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_column("resolved_by")

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("email_hash")

    with op.batch_alter_table("spend", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spend_date"))

    op.drop_table("spend")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leads_opportunity_id"))
        batch_op.drop_index(batch_op.f("ix_leads_email_hash"))
        batch_op.drop_index(batch_op.f("ix_leads_created_at"))
        batch_op.drop_index(batch_op.f("ix_leads_account_id"))

    op.drop_table("leads")
    op.drop_table("experiments")
