"""GET /v1/dark-funnel: the contract's keys; extra keys of the measurement pass through."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ChannelFigures(BaseModel):
    model_config = ConfigDict(extra="allow")

    channel: str
    dark: bool
    responses: float
    self_reported_share: float | None = None
    self_reported_share_low: float | None = None
    self_reported_share_high: float | None = None
    tracked_share: float | None = None
    influenced_arr: float | None = None
    pipeline: float | None = None


class DarkFunnel(BaseModel):
    model_config = ConfigDict(extra="allow")

    channels: list[ChannelFigures]
    dark_share: float | None = None
    dark_share_low: float | None = None
    dark_share_high: float | None = None
    tracked_dark_share: float | None = None
    undercount_points: float | None = None
    misattributed_share: float | None = None
    response_rate: float | None = None
