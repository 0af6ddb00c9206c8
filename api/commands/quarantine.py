"""`undertow quarantine purge [--older-than DAYS]`: the quarantine's retention."""

from __future__ import annotations

import click

from api.cli_support import emit, handle_errors, json_option, state
from ingest.errors import InputError


@click.group("quarantine")
def quarantine_group() -> None:
    """Rows that failed validation, kept with their original content (admins only)."""


@quarantine_group.command("purge")
@click.option("--older-than", "days", type=click.FloatRange(min=0), default=None,
              metavar="DAYS", help="Delete rows quarantined more than DAYS days ago "
              "(default: UNDERTOW_QUARANTINE_RETENTION_DAYS).")  # fmt: skip
@json_option
@handle_errors
def purge_command(days: float | None, as_json: bool) -> None:
    """Delete old quarantined rows (they hold unmasked customer content)."""
    from ingest.quarantine import purge

    st = state()
    days = days if days is not None else st.settings.quarantine_retention_days
    if days is None:
        raise InputError("give --older-than DAYS, or set UNDERTOW_QUARANTINE_RETENTION_DAYS")
    deleted = purge(st.engine(), days)
    emit(
        {"deleted": deleted, "older_than_days": days},
        as_json,
        f"deleted {deleted} quarantined row(s) older than {days:g} days",
    )


COMMANDS: list[click.Command] = [quarantine_group]
