"""The migrations build exactly the schema the code declares, on every back end."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from ingest.db.engine import current_revision, head_revision, upgrade
from ingest.db.schema import documents, ingest_runs, metadata, sentiment_scores
from ingest.settings import Settings


def test_first_use_migrates_to_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    assert {"accounts", "documents", "quarantine", "ingest_runs"} <= set(
        inspect(engine).get_table_names()
    )


def test_migrations_match_declared_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    before, after = upgrade(engine)
    assert before == after == head_revision()


def test_hashes_stored_before_0008_are_cut_and_still_match(
    database_url: str, tmp_path: Path
) -> None:
    """A store of full sha256 hashes (revision 0007) keeps deduplicating re-ingests and
    keeps its sentiment scores attached once its hashes are cut to 32 characters."""
    from alembic import command

    from ingest.db.engine import _alembic_config, make_engine
    from ingest.pipeline import ingest_paths
    from ingest.rows import HASH_CHARS

    path = tmp_path / "t.csv"
    path.write_text(
        "ticket_id,created_at,body\nT1,2025-03-01,Export fails again\nT2,2025-03-02,ok\n"
    )
    settings = Settings(database_url=database_url, data_dir=tmp_path / "d")
    engine = make_engine(database_url)
    try:
        command.upgrade(_alembic_config(engine), "0007")
        full = {
            "ticket": hashlib.sha256(b"ticket\x1f\x1f2025-03-01T00:00:00\x1fExport fails again")
        }
        with engine.begin() as conn:
            run = conn.execute(
                ingest_runs.insert().values(
                    kind="tickets", source="csv", file_name="old", file_hash="0" * 64,
                    mapping="canonical", status="done", started_at=datetime(2025, 3, 1),
                    read=1, inserted=1, duplicates=0, rejected=0, unresolved=0,
                )
            ).inserted_primary_key[0]  # fmt: skip
            text_hash = hashlib.sha256(b"Export fails again").hexdigest()
            conn.execute(
                documents.insert().values(
                    kind="ticket", source="csv", source_id="T-old", created_at=datetime(2025, 3, 1),
                    text="Export fails again", text_hash=text_hash,
                    content_hash=full["ticket"].hexdigest(), text_chars=18, truncated=False,
                    source_file="old", source_line=2, row_hash="f" * 64, ingest_run_id=run,
                )
            )  # fmt: skip
            conn.execute(
                sentiment_scores.insert().values(
                    text_hash=text_hash, model_version="m", p_negative=0.8, p_neutral=0.1,
                    p_positive=0.1, sentiment=-0.7, scored_at=datetime(2025, 3, 2),
                )
            )  # fmt: skip
        upgrade(engine)
        with engine.connect() as conn:
            doc = conn.execute(select(documents.c.text_hash, documents.c.content_hash,
                                      documents.c.row_hash)).one()  # fmt: skip
            assert [len(h) for h in doc] == [HASH_CHARS] * 3
            joined = conn.execute(
                select(sentiment_scores.c.sentiment).where(
                    sentiment_scores.c.text_hash == documents.c.text_hash
                )
            ).all()
            assert joined == [(-0.7,)]
        # the same text, time and (empty) author key under a new id is a duplicate
        out = ingest_paths(engine, "tickets", [path], settings=settings)
        assert (out.inserted, out.duplicates) == (1, 1)
    finally:
        engine.dispose()


def test_0009_marks_the_opportunities_stored_before_it(database_url: str) -> None:
    """Opportunities stored before 0009 carry no resolution: those of a stored account
    are marked resolved, a prospect's stays unresolved."""
    from alembic import command

    from ingest.db.engine import _alembic_config, make_engine
    from ingest.db.schema import accounts, opportunities

    engine = make_engine(database_url)
    try:
        command.upgrade(_alembic_config(engine), "0008")
        prov = {"source_file": "f", "source_line": 2, "row_hash": "h", "source": "csv"}
        with engine.begin() as conn:
            conn.execute(
                accounts.insert().values(
                    account_id="A1", name="Acme", name_norm="acme", arr=1.0, currency="USD",
                    contract_start=datetime(2024, 1, 1).date(), updated_at=datetime(2025, 1, 1),
                    **prov,
                )
            )  # fmt: skip
            for oid, acc in (("O1", "A1"), ("O2", "P-1")):
                conn.execute(
                    opportunities.insert().values(
                        opportunity_id=oid, account_id=acc, created_at=datetime(2025, 1, 1),
                        amount=10.0, **prov,
                    )
                )  # fmt: skip
        upgrade(engine)
        with engine.connect() as conn:
            got = dict(conn.execute(select(opportunities.c.opportunity_id,
                                           opportunities.c.resolved_by)).all())  # fmt: skip
        assert got == {"O1": "account_id", "O2": None}
    finally:
        engine.dispose()


def test_snapshots_stored_before_0010_keep_their_lists(database_url: str) -> None:
    """A run stored at revision 0008 still sorts by revenue at risk after 0010 (filled in
    as arr x p_churn_90d); what it never computed (p_expand_180d, texts_90d) stays NULL."""
    from alembic import command
    from sqlalchemy import column, table

    from ingest.db.engine import _alembic_config, make_engine
    from ingest.db.schema import risk_predictions, risk_runs

    engine = make_engine(database_url)
    try:
        command.upgrade(_alembic_config(engine), "0008")
        old = table("risk_predictions", *(column(c.name) for c in risk_predictions.c
                    if c.name not in ("revenue_at_risk_90d", "texts_90d", "trend_weight",
                                      "p_expand_180d", "expansion_reason", "expansion_drivers")))  # fmt: skip
        probabilities = {
            f"p_churn_{h}d{s}": 0.25 for h in (90, 180, 365) for s in ("", "_low", "_high")
        }
        with engine.begin() as conn:
            conn.execute(risk_runs.insert().values(
                run_id="r-old", as_of=datetime(2026, 1, 31).date(), created_at=datetime(2026, 2, 1),
                model_version="pem-v1-old", status="complete", n_accounts=1,
            ))  # fmt: skip
            conn.execute(old.insert().values(
                run_id="r-old", account_id="A1", arr=40_000.0, expected_ltv=1.0, **probabilities,
            ))  # fmt: skip
        upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(select(risk_predictions)).mappings().one()
        assert row["revenue_at_risk_90d"] == 10_000.0
        assert row["p_expand_180d"] is None and row["texts_90d"] is None
    finally:
        engine.dispose()
