"""GET /v1/churn-risk and GET /v1/revenue-risk."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class ChurnRow(BaseModel):
    account_id: str
    arr: float
    p_churn: float
    p_churn_low: float
    p_churn_high: float
    revenue_at_risk: float = Field(description="arr x p_churn")
    expected_ltv: float
    as_of: date
    model_version: str
    name: str | None = None
    segment: str | None = None


class ChurnPage(BaseModel):
    horizon_days: int
    run_id: str
    as_of: date
    model_version: str
    limit: int
    items: list[ChurnRow]
    next_cursor: str | None = None


class RiskBand(BaseModel):
    arr: float
    expected_churned_arr: float
    low: float
    high: float
    accounts: int


class SegmentBand(RiskBand):
    segment: str


class RevenueRisk(BaseModel):
    horizon_days: int
    run_id: str
    as_of: date
    model_version: str
    method: str
    total: RiskBand
    segments: list[SegmentBand]
