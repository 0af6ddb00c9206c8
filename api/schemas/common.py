"""Shapes shared by several routes: errors, runs, evidence items."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The store keeps naive UTC; on the wire every timestamp is RFC 3339 with its zone.
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class ErrorBody(BaseModel):
    """Every non-2xx answer: a machine code, a sentence that says what to do, the request id."""

    error: str = Field(description="machine-readable code, e.g. not_found, forbidden")
    detail: str | list[Any] = Field(description="what went wrong and what to do")
    request_id: str | None = None


class RunInfo(BaseModel):
    """The risk snapshot a figure comes from."""

    run_id: str
    as_of: date
    created_at: UtcDatetime
    model_version: str
    sentiment_model_version: str | None = None
    status: str
    metrics: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)


class EvidenceItem(BaseModel):
    """A stored text with its provenance: where to find it in the source file."""

    document_id: int
    account_id: str | None = None
    kind: str
    source: str | None = None
    source_id: str
    created_at: UtcDatetime
    title: str | None = None
    text: str = Field(description="PII-masked text as stored (cut when text_cut is true)")
    text_cut: bool = False
    rating: float | None = None
    sentiment: float | None = Field(
        default=None, description="P(positive) - P(negative) under the snapshot's sentiment model"
    )
    source_file: str
    source_line: int
    channel_weight: float | None = None
    channel_confidence: float | None = None
    channel_method: str | None = None
