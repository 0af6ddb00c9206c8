"""GET /v1/signals."""

from __future__ import annotations

import builtins
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import EvidenceItem


class Signal(BaseModel):
    account_id: str
    name: str
    arr: float
    sentiment: float | None = Field(
        default=None, description="account sentiment at as_of, in [-1, 1]"
    )
    sentiment_trend: float = Field(description="change of account sentiment over 90 days")
    p_churn_90d: float
    reason: str | None = Field(default=None, description="the top drivers, in one sentence")
    evidence: list[EvidenceItem] = Field(description="the texts behind the trend")


class SignalPage(BaseModel):
    list: Literal["risk", "expansion"]
    run_id: str
    as_of: date
    model_version: str
    limit: int
    items: builtins.list[Signal]
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")
