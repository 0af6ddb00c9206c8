"""Engine factory and schema migrations.

``open_store(settings)`` is what the composition roots call: it builds the engine for
``settings.database_url`` and applies any pending Alembic migration (first use creates
the schema). ``upgrade(engine)`` is ``undertow db upgrade``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from ingest.bulk import ensure_indexes
from ingest.errors import StoreError
from ingest.settings import Settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


# Page size of a new SQLite store (an existing one keeps its own). A bulk load into 16 KiB
# pages cost about a quarter less CPU than into SQLite's default 4 KiB (benchmarks/RESULTS.md):
# fewer, fuller B-tree pages for the random-keyed unique indexes to split and rewrite.
SQLITE_PAGE_SIZE = 16_384


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout, foreign keys and (when the
    file is new) ``SQLITE_PAGE_SIZE`` pages."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # no-op once the file has pages
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(make_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every pending migration; returns (revision before, revision after)."""
    try:
        before = current_revision(engine)
        cfg = _alembic_config(engine)
        head = ScriptDirectory.from_config(cfg).get_current_head()
        if before != head:
            command.upgrade(cfg, "head")
        return before, current_revision(engine) or ""
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the database at {engine.url!r}: {exc}") from exc


def open_store(settings: Settings) -> Engine:
    """The engine for the configured database, its schema brought up to date."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    ensure_indexes(engine)  # an ingest killed in a bulk load left some unbuilt
    return engine
