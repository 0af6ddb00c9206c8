"""GET /v1/dark-funnel: marketing's measurement of what tracking misses."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import EngineDep, MarketingKey
from api.errors import AUTH_RESPONSES
from api.schemas.dark_funnel import DarkFunnel
from ingest.errors import InputError
from marketing.dark_funnel import measure

router = APIRouter(prefix="/v1", tags=["marketing"], responses={**AUTH_RESPONSES})


def measure_dark_funnel(
    engine: Any, date_from: date | None, date_to: date | None
) -> dict[str, Any]:
    """Delegate to ``marketing.dark_funnel.measure``."""
    if date_from and date_to and date_from > date_to:
        raise InputError(f"'from' ({date_from}) must not be after 'to' ({date_to})")
    return measure(engine, date_from, date_to)


@router.get("/dark-funnel", response_model=DarkFunnel)
def dark_funnel(
    key: MarketingKey,
    engine: EngineDep,
    date_from: Annotated[date | None, Query(alias="from", description="first day, ISO")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="last day, ISO")] = None,
) -> dict[str, Any]:
    """Self-reported vs tracked channel shares of the period's attribution answers."""
    return measure_dark_funnel(engine, date_from, date_to)
