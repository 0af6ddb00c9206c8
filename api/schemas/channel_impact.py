"""GET /v1/channel-impact: the contract's keys (CONTRACT.md section 5); extra keys of the
measurement (model lift of each test, recall, disagreements, warnings) pass through."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ChannelImpactRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    channel: str
    dark: bool
    spend: float | None = None
    contribution: float | None = None
    contribution_low: float | None = None
    contribution_high: float | None = None
    roi: float | None = None
    roi_low: float | None = None
    roi_high: float | None = None
    marginal_roi: float | None = None
    self_reported_share: float | None = None
    tracked_share: float | None = None
    experiment_lift: float | None = None
    experiment_lift_low: float | None = None
    experiment_lift_high: float | None = None


class Diagnostics(BaseModel):
    model_config = ConfigDict(extra="allow")

    r_hat_max: float | None = None
    divergences: int | None = None
    fit_mape: float | None = None


class ChannelImpact(BaseModel):
    model_config = ConfigDict(extra="allow")

    as_of: str
    outcome: str
    model_version: str
    channels: list[ChannelImpactRow]
    baseline: float | None = None
    baseline_low: float | None = None
    baseline_high: float | None = None
    dark_pipeline: float | None = None
    dark_pipeline_low: float | None = None
    dark_pipeline_high: float | None = None
    diagnostics: Diagnostics
