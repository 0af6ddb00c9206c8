"""What an ingest stored, in a form two stores can be compared by: documents (without
row ids, run ids and file names) and quarantined rows, each sorted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from ingest.db.schema import documents, quarantine


def stored_contents(engine: Engine) -> tuple[list[Any], list[Any]]:
    skip = {"id", "ingest_run_id", "source_file"}
    with engine.connect() as conn:
        docs = sorted(
            tuple(r) for r in conn.execute(select(*[c for c in documents.c if c.name not in skip]))
        )
        bad = sorted(
            tuple(r)
            for r in conn.execute(
                select(quarantine.c.source_line, quarantine.c.raw, quarantine.c.reason)
            )
        )
    return docs, bad
