"""Alembic environment: runs with the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from ingest.db.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: take the URL from the settings
    from ingest.db.engine import make_engine
    from ingest.settings import Settings

    engine = make_engine(Settings.from_env().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
