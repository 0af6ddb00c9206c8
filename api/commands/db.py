"""`undertow db upgrade`: apply pending schema migrations."""

from __future__ import annotations

import click

from api.cli_support import emit, handle_errors, json_option, state


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@json_option
@handle_errors
def upgrade_cmd(as_json: bool) -> None:
    """Create or migrate the schema of UNDERTOW_DATABASE_URL to the latest revision."""
    from ingest.bulk import ensure_indexes
    from ingest.db.engine import make_engine, upgrade

    settings = state().settings
    engine = make_engine(settings.database_url)
    before, after = upgrade(engine)
    ensure_indexes(engine)  # what an ingest killed in a bulk load left unbuilt
    emit(
        {"database": settings.database_url.split("@")[-1], "from": before, "to": after},
        as_json,
        f"database at revision {after} (was {before or 'empty'})",
    )


COMMANDS = [db_group]
