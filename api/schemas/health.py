"""GET /health."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when the database cannot be reached")
    database: bool = Field(description="the database answered a query")
    model_version: str | None = Field(default=None, description="risk model of the latest snapshot")
    sentiment_model_version: str | None = None
    as_of: date | None = Field(default=None, description="as-of date of the latest snapshot")
    run_id: str | None = None
    version: str = Field(description="Undertow package version")
