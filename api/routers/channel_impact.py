"""GET /v1/channel-impact: what each channel is worth, every method side by side."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.channel_impact_payload import impact_payload
from api.deps import ApiKey, EngineDep, require_roles
from api.errors import AUTH_RESPONSES, error_doc
from marketing.measure import get_measurement, impact_of_period
from marketing.periods import check_period

router = APIRouter(
    prefix="/v1",
    tags=["marketing"],
    responses={**AUTH_RESPONSES, 409: error_doc("no measurement yet: run `undertow measure`")},
)
ImpactKey = Annotated[ApiKey, Depends(require_roles("marketing", "finance"))]


@router.get("/channel-impact")
def channel_impact(
    key: ImpactKey,
    engine: EngineDep,
    date_from: Annotated[date | None, Query(alias="from", description="first day, ISO")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="last day, ISO")] = None,
) -> dict[str, Any]:
    """Per channel: spend, the reconciled contribution and ROI (90% intervals), marginal
    ROI, what buyers say, what tracking saw and the lift tests, for the latest
    measurement's weeks of the period (a week belongs to the period of its first day)."""
    from api.schemas.channel_impact import ChannelImpact

    check_period(date_from, date_to)
    run = get_measurement(engine)
    payload = impact_payload(run, impact_of_period(engine, run, date_from, date_to))
    return ChannelImpact.model_validate(payload).model_dump()
