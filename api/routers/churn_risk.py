"""GET /v1/churn-risk (the finance feed) and GET /v1/revenue-risk."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import EngineDep, FinanceKey, PageCacheDep
from api.errors import AUTH_RESPONSES, NOT_FOUND_RESPONSES, SNAPSHOT_RESPONSES
from api.feed_formats import MEDIA_TYPES, PARQUET_MEDIA_TYPE, render_feed
from api.pagination import decode_cursor, encode_cursor
from api.schemas.churn import ChurnPage, RevenueRisk
from ingest.errors import InputError
from risk.feeds import HORIZONS, churn_risk_page, get_run, revenue_risk

router = APIRouter(
    prefix="/v1",
    tags=["finance"],
    responses={**AUTH_RESPONSES, **SNAPSHOT_RESPONSES, **NOT_FOUND_RESPONSES},
)
JSON_DEFAULT_LIMIT = 100


Horizon = IntEnum("Horizon", {f"d{h}": h for h in HORIZONS})  # type: ignore[misc]
Horizon.__doc__ = "Churn horizons in days."


FILE_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    PARQUET_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
}


@router.get(
    "/churn-risk",
    response_model=ChurnPage,
    responses={200: {"content": FILE_CONTENT, "description": "the feed"}},
)
def churn_risk(
    key: FinanceKey,
    engine: EngineDep,
    cache: PageCacheDep,
    horizon_days: Horizon = Horizon(HORIZONS[0]),  # type: ignore[valid-type]
    format: Literal["json", "csv", "parquet"] = "json",
    limit: Annotated[
        int | None,
        Query(ge=1, le=10_000, description="rows per page; json default 100, files: all"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response:
    """Per account of the latest snapshot: p_churn within the horizon with its interval,
    revenue at risk (arr x p_churn) and expected LTV, ordered by account id.

    JSON pages carry ``next_cursor``; CSV and Parquet return the whole feed unless
    ``limit`` is given (then the next cursor is in the ``X-Next-Cursor`` header).
    """
    query = f"churn:{int(horizon_days)}"
    run_id, after = None, None
    if cursor:
        run_id, after = decode_cursor(cursor, query)
        if not isinstance(after, str):
            raise InputError("cursor is not valid for this list: pass back next_cursor unchanged")
    run = get_run(engine, run_id, details=False)
    page = limit or (JSON_DEFAULT_LIMIT if format == "json" else None)
    cache_key = (query, run["run_id"], after, page, format)
    cached = cache.get(cache_key)
    if cached is not None:
        return Response(cached[0], media_type=MEDIA_TYPES[format], headers=cached[1])
    run, rows = churn_risk_page(
        engine, int(horizon_days), after=after, limit=None if page is None else page + 1, run=run
    )
    more = page is not None and len(rows) > page
    rows = rows[:page] if page is not None else rows
    next_cursor = encode_cursor(query, run["run_id"], rows[-1]["account_id"]) if more else None
    headers: dict[str, str] = {}
    if format == "json":
        body = (
            ChurnPage.model_validate(
                {
                    "horizon_days": int(horizon_days),
                    "run_id": run["run_id"],
                    "as_of": run["as_of"],
                    "model_version": run["model_version"],
                    "limit": page or JSON_DEFAULT_LIMIT,
                    "items": rows,
                    "next_cursor": next_cursor,
                }
            )
            .model_dump_json()
            .encode()
        )
    else:
        name = f"churn-risk-{int(horizon_days)}d-{run['as_of'].isoformat()}.{format}"
        headers = {
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Run-Id": run["run_id"],
            "X-Model-Version": run["model_version"],
        }
        if next_cursor:
            headers["X-Next-Cursor"] = next_cursor
        body = render_feed(rows, format)
    cache.put(cache_key, body, headers)
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


@router.get("/revenue-risk", response_model=RevenueRisk)
def get_revenue_risk(
    key: FinanceKey,
    engine: EngineDep,
    horizon_days: Horizon = Horizon(HORIZONS[0]),  # type: ignore[valid-type]
) -> dict[str, Any]:
    """Expected churned ARR within the horizon with an interval, in total and by segment."""
    return revenue_risk(engine, int(horizon_days))
