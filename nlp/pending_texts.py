"""The stored texts a model version has not processed yet, read in keyset pages.

Sentiment scoring and aspect tagging both keep their results keyed on (text_hash,
model_version) and walk the distinct texts of ``documents`` that have no result for the
current version, ordered by hash. Paging by ``text_hash > last`` (not OFFSET) stays
correct while each page's results are committed, so a crashed run resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, Table, and_, exists, func, select

from ingest.db.schema import documents


def not_done(results: Table, version: str) -> Any:
    """Condition on ``documents``: no row in ``results`` for its text and ``version``."""
    return ~exists().where(
        and_(results.c.text_hash == documents.c.text_hash, results.c.model_version == version)
    )


def count_pending(
    engine: Engine, results: Table, version: str, kinds: Sequence[str] | None = None
) -> tuple[int, int]:
    """(distinct texts without a result for ``version``, distinct texts with one)."""
    base = select(func.count(func.distinct(documents.c.text_hash)))
    if kinds is not None:
        base = base.where(documents.c.kind.in_(kinds))
    with engine.connect() as conn:
        total = conn.execute(base).scalar_one()
        pending = conn.execute(base.where(not_done(results, version))).scalar_one()
    return int(pending), int(total) - int(pending)


def pending_pages(
    engine: Engine,
    results: Table,
    version: str,
    page_size: int,
    kinds: Sequence[str] | None = None,
) -> Iterator[list[tuple[str, str]]]:
    """Pages of (text_hash, text) without a result for ``version``, in hash order."""
    after = ""
    while True:
        q = select(documents.c.text_hash, func.min(documents.c.text)).where(
            documents.c.text_hash > after, not_done(results, version)
        )
        if kinds is not None:
            q = q.where(documents.c.kind.in_(kinds))
        q = q.group_by(documents.c.text_hash).order_by(documents.c.text_hash).limit(page_size)
        with engine.connect() as conn:
            page = [(h, t) for h, t in conn.execute(q)]
        if not page:
            return
        after = page[-1][0]
        yield page
