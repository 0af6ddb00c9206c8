"""GET /v1/signals."""

from __future__ import annotations

import builtins
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.accounts import Driver
from api.schemas.common import EvidenceItem


class Signal(BaseModel):
    account_id: str
    name: str
    arr: float
    sentiment: float | None = Field(
        default=None, description="account sentiment at as_of, in [-1, 1]"
    )
    sentiment_trend: float = Field(
        description="change of mean text sentiment, last 90 days vs the 90 before, shrunk "
        "toward 0 by the evidence behind it (0 without texts on either side)"
    )
    p_churn_90d: float
    p_expand_180d: float | None = Field(
        default=None,
        description="P(an expansion opportunity opens within 180 days), from the expansion "
        "model; null when the snapshot has none (no expansions in the store)",
    )
    reason: str | None = Field(
        default=None, description="the list's model's top drivers, in one sentence"
    )
    evidence: list[EvidenceItem] = Field(
        description="the account's most negative (risk) or most positive (expansion) texts of "
        "the 90 days before as_of; neutral texts are never evidence"
    )
    segment: str | None = None
    revenue_at_risk: float | None = Field(default=None, description="arr x p_churn_90d")
    texts_90d: int | None = Field(default=None, description="scored texts in the last 90 days")
    trend_weight: float | None = Field(
        default=None, description="share of the measured trend kept after shrinkage, 0..1"
    )
    trend_confident: bool | None = Field(
        default=None, description="trend_weight >= 0.5: the trend rests on enough texts"
    )
    drivers: list[Driver] = Field(
        default_factory=list, description="the drivers the reason cites (the list's model)"
    )


class ListCalibration(BaseModel):
    """How lists ranked like this one fared out of time (from the fit's back-test)."""

    horizon_days: int
    origin: date
    top_n: int
    rate: float = Field(description="outcome rate of the top_n accounts ranked at origin")
    base_rate: float = Field(description="outcome rate of all accounts active at origin")
    accounts: int
    origins_pooled: int
    pooled_rate: float
    pooled_base_rate: float
    text: str


class SignalFilters(BaseModel):
    segment: str | None = None
    min_arr: float | None = None
    min_texts: int | None = None


class SignalPage(BaseModel):
    list: Literal["risk", "expansion"]
    sort: str = Field(description="what ranks the list")
    filters: SignalFilters = Field(default_factory=SignalFilters)
    run_id: str
    as_of: date
    model_version: str
    expansion_model_version: str | None = None
    limit: int
    items: builtins.list[Signal]
    calibration: ListCalibration | None = Field(
        default=None, description="on the first page: 'of accounts ranked like these ...'"
    )
    note: str | None = None
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")
