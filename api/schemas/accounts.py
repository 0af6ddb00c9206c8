"""GET /v1/accounts/{account_id}."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import EvidenceItem


class Account(BaseModel):
    account_id: str
    name: str
    domain: str | None = None
    segment: str | None = None
    arr: float
    currency: str
    contract_start: date
    churned_at: date | None = None
    tracked_source: str | None = None
    source_file: str
    source_line: int


class TrajectoryPoint(BaseModel):
    month: date
    sentiment: float | None = None
    n_texts: int = 0


class HorizonRisk(BaseModel):
    p_churn: float
    p_churn_low: float
    p_churn_high: float
    revenue_at_risk: float


class Driver(BaseModel):
    model_config = ConfigDict(extra="allow")

    feature: str
    value: Any = None
    effect: float | None = Field(default=None, description="contribution to the log-hazard")
    text: str | None = None
    typical: float | None = Field(default=None, description="the training mean of the feature")
    cited: bool | None = Field(
        default=None, description="whether the reason names it (its words agree with its sign)"
    )


class AccountRisk(BaseModel):
    run_id: str
    as_of: date
    model_version: str
    sentiment_model_version: str | None = None
    sentiment: float | None = None
    sentiment_trend: float | None = None
    p_churn_90d: float
    horizons: dict[str, HorizonRisk] = Field(description="keyed by horizon in days: 90, 180, 365")
    expected_ltv: float
    reason: str | None = None
    drivers: list[Driver]
    texts_90d: int | None = None
    trend_weight: float | None = Field(
        default=None, description="share of the measured trend kept after shrinkage, 0..1"
    )
    p_expand_180d: float | None = Field(
        default=None, description="P(an expansion opportunity opens within 180 days)"
    )
    expansion_reason: str | None = None
    expansion_drivers: list[Driver] = Field(default_factory=list)


class AccountView(BaseModel):
    account: Account
    trajectory: list[TrajectoryPoint] = Field(description="monthly sentiment, oldest first")
    trajectory_source: Literal["snapshot", "texts"] = Field(
        description="snapshot: the trajectory the latest fit used; texts: computed from "
        "scored texts because no fit covers the account yet"
    )
    risk: AccountRisk | None = Field(
        default=None, description="null before a fit covers the account"
    )
    evidence: list[EvidenceItem] = Field(description="the account's most recent texts")
    provenance: dict[str, str] = Field(description="metric -> URL explaining the figure")
