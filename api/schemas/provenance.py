"""GET /v1/provenance/{metric}/{id}."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import EvidenceItem, RunInfo


class Provenance(BaseModel):
    metric: str
    id: str
    value: float | None = Field(default=None, description="the figure, as the feeds serve it")
    method: str = Field(description="how the figure was computed")
    model_version: str | None = None
    run: RunInfo | None = None
    inputs: dict[str, Any] = Field(description="the numbers the figure was computed from")
    source_texts: list[EvidenceItem] = Field(description="the texts behind it, file and line")
    source_texts_total: int
    next_cursor: str | None = None
