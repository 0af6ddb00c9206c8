"""GET /v1/forecast (the pipeline forecast under spend assumptions) and GET /v1/forecasts
(the recorded forecasts and how they turned out).

``format=csv|parquet`` downloads the forecast (one row per week and one for the total,
``api.forecast_file``); JSON stays the default."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.deps import ApiKey, EngineDep, require_roles
from api.errors import AUTH_RESPONSES, error_doc
from api.forecast_file import MEDIA_TYPES, forecast_file
from marketing.forecast_ledger import ledger, run_forecast

router = APIRouter(
    prefix="/v1",
    tags=["finance", "marketing"],
    responses={**AUTH_RESPONSES, 409: error_doc("no measurement yet: run `undertow measure`")},
)
ForecastKey = Annotated[ApiKey, Depends(require_roles("finance", "marketing"))]


FILE_CONTENT = {
    MEDIA_TYPES["csv"]: {"schema": {"type": "string"}},
    MEDIA_TYPES["parquet"]: {"schema": {"type": "string", "format": "binary"}},
}


@router.get(
    "/forecast",
    response_model=dict[str, Any],
    responses={200: {"content": FILE_CONTENT, "description": "the forecast"}},
)
def get_forecast(
    key: ForecastKey,
    engine: EngineDep,
    weeks: Annotated[int, Query(ge=1, le=52)] = 13,
    assumption: Annotated[list[str] | None, Query(max_length=20, description="e.g. channel=paid_ads:spend*=1.2")] = None,
    as_of: Annotated[date | None, Query(description="forecast from the latest measurement as of this date")] = None,
    format: Literal["json", "csv", "parquet"] = "json",
) -> Any:
    """Weekly outcome after the measured weeks (P10/P50/P90 of the predictive
    distribution, noise included) and the total; under assumptions, beside the base
    plan. Every forecast is recorded (asking again returns the recorded one)."""
    texts = [a[:300] for a in (assumption or [])]
    result = run_forecast(engine, weeks=weeks, assumptions=texts, as_of=as_of)
    if format == "json":
        return result
    body, headers = forecast_file(result, format)
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


@router.get("/forecasts")
def list_forecasts(
    key: ForecastKey,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Recorded forecasts, newest first: assumptions, totals, and once their weeks have
    passed, how many fell inside P10-P90 and the P50 error (the forecast ledger)."""
    return {"forecasts": ledger(engine, limit)}
