"""GET /v1/signals: the sales lists (risk, expansion) with reasons and evidence."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.deps import EngineDep, PageCacheDep, SalesKey
from api.errors import AUTH_RESPONSES, SNAPSHOT_RESPONSES
from api.pagination import decode_cursor, encode_cursor
from api.schemas.signals import SignalPage
from ingest.errors import InputError
from nlp.evidence import evidence_for_accounts
from risk.feeds import get_run, signals_page

router = APIRouter(prefix="/v1", tags=["sales"], responses={**AUTH_RESPONSES, **SNAPSHOT_RESPONSES})
EVIDENCE_WINDOW = timedelta(days=90)  # the trend's window: the texts that moved it


def _after(key: object) -> tuple[float, str]:
    ok = (
        isinstance(key, list)
        and len(key) == 2
        and isinstance(key[0], int | float)
        and not isinstance(key[0], bool)
        and isinstance(key[1], str)
    )
    bad = InputError("cursor is not valid for this list: pass back next_cursor unchanged")
    if not ok:
        raise bad
    try:
        value = float(key[0])  # type: ignore[index]
    except OverflowError as exc:
        raise bad from exc
    if not math.isfinite(value):
        raise bad
    return value, key[1]  # type: ignore[index]


@router.get("/signals", response_model=SignalPage)
def list_signals(
    key: SalesKey,
    engine: EngineDep,
    cache: PageCacheDep,
    list_kind: Annotated[Literal["risk", "expansion"], Query(alias="list")] = "risk",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    evidence: Annotated[int, Query(ge=0, le=10, description="texts per account")] = 3,
) -> Response:
    """Accounts ranked by deteriorating (risk) or strengthening (expansion) sentiment.

    Evidence: the account's most negative (risk) or most positive (expansion) texts of
    the 90 days before the snapshot's as-of date.
    """
    query = f"signals:{list_kind}"
    run_id, after = None, None
    if cursor:
        run_id, raw = decode_cursor(cursor, query)
        after = _after(raw)
    run = get_run(engine, run_id, details=False)
    cache_key = (query, run["run_id"], after, limit, evidence)
    cached = cache.get(cache_key)
    if cached is not None:
        return Response(cached[0], media_type="application/json")
    run, rows = signals_page(engine, list_kind, after=after, limit=limit + 1, run=run)
    more, rows = len(rows) > limit, rows[:limit]
    texts = (
        evidence_for_accounts(
            engine,
            [r["account_id"] for r in rows],
            model_version=run["sentiment_model_version"],
            since=run["as_of"] - EVIDENCE_WINDOW,
            until=run["as_of"],
            order="negative" if list_kind == "risk" else "positive",
            per_account=evidence,
        )
        if evidence
        else {}
    )
    last = rows[-1] if rows else None
    page = SignalPage.model_validate(
        {
            "list": list_kind,
            "run_id": run["run_id"],
            "as_of": run["as_of"],
            "model_version": run["model_version"],
            "limit": limit,
            "items": [{**r, "evidence": texts.get(r["account_id"], [])} for r in rows],
            "next_cursor": encode_cursor(
                query, run["run_id"], [last["sentiment_trend"], last["account_id"]]
            )
            if more and last
            else None,
        }
    )
    body = page.model_dump_json().encode()
    cache.put(cache_key, body)
    return Response(body, media_type="application/json")
