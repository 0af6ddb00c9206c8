"""The migrations build exactly the schema the code declares, on every back end."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from ingest.db.engine import current_revision, head_revision, upgrade
from ingest.db.schema import metadata


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
