"""POST /v1/ingest/{kind} and its scoring status."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Scoring(BaseModel):
    status: str = Field(description="scheduled (texts are being scored) or not_needed")
    status_url: str | None = Field(
        default=None,
        description="GET it (admin key) until ready is true to know the texts are scored",
    )


class IngestResult(BaseModel):
    kind: str
    read: int
    inserted: int
    duplicates: int
    rejected: int
    unresolved: int
    updated: int = Field(
        default=0,
        description="of duplicates (never of inserted): stored records corrected in place "
        "(accounts, leads, spend, experiments restated under the same key)",
    )
    ingest_run_id: int | None = None
    scoring: Scoring


class IngestStatus(BaseModel):
    ingest_run_id: int
    kind: str
    status: str
    texts: int = Field(description="documents this ingest stored")
    scored: int = Field(description="of those, scored by the current sentiment model")
    pending: int
    ready: bool = Field(description="every text of this ingest is scored")
    model_version: str | None = None
