"""GET /v1/funnel: the contract's keys (CONTRACT.md section 5); extra keys of the funnel
(cohort sizes, pipeline, won amount, unresolved opportunities ...) pass through."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class FunnelGroup(BaseModel):
    model_config = ConfigDict(extra="allow")

    group: str = Field(description="taxonomy channel, segment, or 'total'")
    leads: int = Field(description="leads created in the period")
    mqls: int = Field(description="leads whose mql_at is in the period")
    sqls: int = Field(description="leads whose sql_at is in the period")
    opportunities: int = Field(description="opportunities created in the period, prospects' too")
    won: int = Field(description="opportunities won (is_won) with closed_at in the period")
    lost: int = Field(description="opportunities lost with closed_at in the period")
    lead_to_mql_rate: float | None = Field(None, description="of the period's cohort of leads")
    lead_to_mql_rate_low: float | None = None
    lead_to_mql_rate_high: float | None = None
    mql_to_sql_rate: float | None = None
    mql_to_sql_rate_low: float | None = None
    mql_to_sql_rate_high: float | None = None
    sql_to_opportunity_rate: float | None = None
    sql_to_opportunity_rate_low: float | None = None
    sql_to_opportunity_rate_high: float | None = None
    opportunity_to_won_rate: float | None = Field(
        None, description="of the opportunities created in the period"
    )
    opportunity_to_won_rate_low: float | None = None
    opportunity_to_won_rate_high: float | None = None
    median_days_lead_to_mql: float | None = None
    median_days_mql_to_sql: float | None = None
    median_days_sql_to_opportunity: float | None = None
    median_days_opportunity_to_close: float | None = None
    win_rate: float | None = Field(None, description="won / (won + lost)")
    average_deal: float | None = Field(None, description="mean amount won")
    pipeline_velocity: float | None = Field(
        None,
        description="opportunities x win_rate x average_deal / median days to close, per day",
    )


class Funnel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    date_from: date | None = Field(None, alias="from", description="first day (included)")
    date_to: date | None = Field(None, alias="to", description="last day (included)")
    by: str
    definitions_version: str = Field(
        description="version of marketing/definitions/kpi.yaml the figures follow"
    )
    groups: list[FunnelGroup]
    total: FunnelGroup
