"""GET /v1/signals: the sales lists (risk, expansion) with reasons, evidence, CSV."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import EngineDep, PageCacheDep, SalesKey
from api.errors import AUTH_RESPONSES, SNAPSHOT_RESPONSES
from api.feed_formats import CSV_MEDIA_TYPE, to_csv
from api.pagination import decode_cursor, encode_cursor
from api.schemas.signals import SignalPage
from ingest.errors import InputError
from nlp.evidence import evidence_for_accounts
from risk.feeds import SignalFilters, check_sort, get_run, list_calibration, signals_page

router = APIRouter(prefix="/v1", tags=["sales"], responses={**AUTH_RESPONSES, **SNAPSHOT_RESPONSES})
EVIDENCE_WINDOW = timedelta(days=90)  # the trend's window: the texts that moved it
CSV_COLUMNS = [
    "rank",
    "account_id",
    "name",
    "segment",
    "arr",
    "sentiment",
    "sentiment_trend",
    "trend_confident",
    "texts_90d",
    "p_churn_90d",
    "revenue_at_risk",
    "p_expand_180d",
    "reason",
]
FILE_CONTENT = {"text/csv": {"schema": {"type": "string"}}}


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


def signals_query(list_kind: str, sort: str, filters: SignalFilters) -> str:
    """What a cursor of this list belongs to: the list, its sort and its filters."""
    return f"signals:{list_kind}:{sort}:{filters.key()}"


def signals_csv_name(list_kind: str, sort: str, run: dict[str, Any]) -> str:
    return f"signals-{list_kind}-{sort}-{run['as_of'].isoformat()}.csv"


def signals_csv(rows: list[dict[str, Any]], offset: int = 0) -> bytes:
    """A ranked list as CSV (the sales view's download uses it too)."""
    return to_csv([{**r, "rank": offset + k + 1} for k, r in enumerate(rows)], CSV_COLUMNS)


@router.get(
    "/signals",
    response_model=SignalPage,
    responses={200: {"content": FILE_CONTENT, "description": "the list"}},
)
def list_signals(
    key: SalesKey,
    engine: EngineDep,
    cache: PageCacheDep,
    list_kind: Annotated[Literal["risk", "expansion"], Query(alias="list")] = "risk",
    sort: Annotated[
        Literal["p_churn_90d", "revenue_at_risk", "trend", "p_expand_180d"] | None,
        Query(
            description="risk: p_churn_90d (default), revenue_at_risk or trend; "
            "expansion: p_expand_180d (default) or trend"
        ),
    ] = None,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    min_arr: Annotated[float | None, Query(ge=0, le=1e15)] = None,
    min_texts: Annotated[
        int | None, Query(ge=0, le=100_000, description="at least N scored texts in 90 days")
    ] = None,
    format: Literal["json", "csv"] = "json",
    limit: Annotated[
        int | None, Query(ge=1, le=500, description="rows per page; json default 50, csv: all")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    evidence: Annotated[int, Query(ge=0, le=10, description="texts per account")] = 3,
) -> Response:
    """Accounts a rep should act on, ranked by the models: ``risk`` by the churn model's
    p_churn_90d (or revenue at risk, or the falling sentiment trend), ``expansion`` by
    the expansion model's p_expand_180d (or the rising trend).

    Evidence: the account's most negative (risk) or most positive (expansion) texts of
    the 90 days before the snapshot's as-of date; a neutral text is never evidence.
    ``format=csv`` returns the whole list (or ``limit`` rows, with ``X-Next-Cursor``).
    """
    order = check_sort(list_kind, sort)
    filters = SignalFilters(segment, min_arr, min_texts)
    query = signals_query(list_kind, order, filters)
    run_id, after = None, None
    if cursor:
        run_id, raw = decode_cursor(cursor, query)
        after = _after(raw)
    run = get_run(engine, run_id)
    page_size = limit or (50 if format == "json" else None)
    cache_key = (query, run["run_id"], after, page_size, evidence, format)
    cached = cache.get(cache_key)
    if cached is not None:
        media = "application/json" if format == "json" else CSV_MEDIA_TYPE
        return Response(cached[0], media_type=media, headers=cached[1])
    run, rows = signals_page(
        engine,
        list_kind,
        after=after,
        limit=None if page_size is None else page_size + 1,
        run=run,
        sort=order,
        filters=filters,
    )
    more = page_size is not None and len(rows) > page_size
    rows = rows[:page_size] if page_size is not None else rows
    last = rows[-1] if rows else None
    next_cursor = (
        encode_cursor(query, run["run_id"], [last["sort_value"], last["account_id"]])
        if more and last
        else None
    )
    if format == "csv":
        headers = {
            "Content-Disposition": f'attachment; filename="{signals_csv_name(list_kind, order, run)}"',
            "X-Run-Id": run["run_id"],
            "X-Model-Version": run["model_version"],
            **({"X-Next-Cursor": next_cursor} if next_cursor else {}),
        }
        body = signals_csv(rows)
        cache.put(cache_key, body, headers)
        return Response(body, media_type=CSV_MEDIA_TYPE, headers=headers)
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
    expansion = (run.get("metrics") or {}).get("expansion") or {}
    note = None
    if list_kind == "expansion" and order == "p_expand_180d" and expansion.get("status") != "ok":
        note = (
            "this snapshot has no expansion model"
            + (f" ({expansion['reason']})" if expansion.get("reason") else "")
            + ": ingest opportunities and refit; sort=trend ranks by rising sentiment meanwhile"
        )
    page = SignalPage.model_validate(
        {
            "list": list_kind,
            "sort": order,
            "filters": {"segment": segment, "min_arr": min_arr, "min_texts": min_texts},
            "run_id": run["run_id"],
            "as_of": run["as_of"],
            "model_version": run["model_version"],
            "expansion_model_version": expansion.get("model_version"),
            "limit": page_size,
            "items": [{**r, "evidence": texts.get(r["account_id"], [])} for r in rows],
            "calibration": None if after else list_calibration(run, list_kind, order, page_size),
            "note": note,
            "next_cursor": next_cursor,
        }
    )
    body = page.model_dump_json().encode()
    cache.put(cache_key, body)
    return Response(body, media_type="application/json")
