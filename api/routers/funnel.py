"""GET /v1/funnel: the revenue funnel by channel or segment (sales, marketing, finance).

``format=csv|parquet`` downloads one row per group and one for the total, the columns of
``marketing.funnel.ROW_COLUMNS``; CSV text cells that a spreadsheet would run as a formula
are neutralised as in the churn feed (``api.feed_formats``), and so are Parquet's.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.deps import EngineDep, require_roles
from api.errors import AUTH_RESPONSES
from api.feed_formats import CSV_MEDIA_TYPE, PARQUET_MEDIA_TYPE, to_csv, to_parquet
from api.keys import ApiKey
from api.schemas.funnel import Funnel
from marketing.funnel import ROW_COLUMNS, funnel, funnel_rows

router = APIRouter(prefix="/v1", tags=["funnel"], responses=AUTH_RESPONSES)
FunnelKey = Annotated[ApiKey, Depends(require_roles("sales", "marketing", "finance"))]
FILE_CONTENT = {
    CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
    PARQUET_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
}


class By(StrEnum):
    channel = "channel"
    segment = "segment"


def funnel_file(result: dict[str, Any], fmt: str) -> tuple[bytes, dict[str, str]]:
    """The funnel as a CSV or Parquet download, and its headers."""
    rows = funnel_rows(result)
    render = to_csv if fmt == "csv" else to_parquet  # Parquet: dates and numbers typed
    body = render(rows, ROW_COLUMNS)
    span = f"{result['from'] or 'start'}-{result['to'] or 'end'}"
    return body, {
        "Content-Disposition": f'attachment; filename="funnel-{result["by"]}-{span}.{fmt}"',
        "X-Definitions-Version": result["definitions_version"],
    }


@router.get(
    "/funnel",
    response_model=Funnel,
    responses={200: {"content": FILE_CONTENT, "description": "the funnel"}},
)
def get_funnel(
    key: FunnelKey,
    engine: EngineDep,
    date_from: Annotated[date | None, Query(alias="from", description="first day, ISO")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="last day, ISO")] = None,
    by: By = By.channel,
    format: Literal["json", "csv", "parquet"] = "json",
) -> Any:
    """Stage counts, cohort conversion rates (90% intervals), stage medians, win rate,
    average deal and pipeline velocity per channel or segment and in total; the figures
    follow the KPI definitions whose version they carry. Without ``from`` and ``to``: the
    whole store."""
    result = funnel(engine, date_from, date_to, by.value)
    if format == "json":
        return result
    body, headers = funnel_file(result, format)
    media = CSV_MEDIA_TYPE if format == "csv" else PARQUET_MEDIA_TYPE
    return Response(body, media_type=media, headers=headers)
