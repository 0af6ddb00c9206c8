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
    from ingest.db.engine import make_engine, upgrade

    settings = state().settings
    before, after = upgrade(make_engine(settings.database_url))
    emit(
        {"database": settings.database_url.split("@")[-1], "from": before, "to": after},
        as_json,
        f"database at revision {after} (was {before or 'empty'})",
    )


COMMANDS = [db_group]
