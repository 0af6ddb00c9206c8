"""The quarantine's retention: quarantined rows keep the original, unmasked content of
the rows that failed validation (the contract), so they are kept no longer than needed.

``purge(engine, older_than_days)`` deletes rows quarantined more than that many days ago
and returns how many. ``undertow quarantine purge --older-than DAYS`` calls it; with
``UNDERTOW_QUARANTINE_RETENTION_DAYS`` set, every ingest calls it too before it starts
(and ``purge`` without ``--older-than`` uses it). Only the CLI (database access) and no
HTTP route reads the quarantine: it is admin-only by construction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete

from ingest.db.schema import quarantine
from ingest.errors import InputError


def purge(engine: Engine, older_than_days: float, now: datetime | None = None) -> int:
    """Delete quarantined rows older than ``older_than_days``; returns how many."""
    if not older_than_days >= 0:
        raise InputError(f"--older-than must be 0 days or more, got {older_than_days}")
    now = now or datetime.now(UTC).replace(tzinfo=None)
    cutoff = now - timedelta(days=older_than_days)
    with engine.begin() as conn:
        result = conn.execute(delete(quarantine).where(quarantine.c.created_at < cutoff))
    return int(result.rowcount or 0)
