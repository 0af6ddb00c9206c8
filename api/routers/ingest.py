"""POST /v1/ingest/{kind} (admin) and the scoring status of what it stored.

The records go through ``ingest.pipeline.ingest_records`` (same validation, quarantine
and accounting as the CLI). New texts are scored after the response is sent (FastAPI
background task calling ``nlp.scoring.score_store``); the response's
``scoring.status_url`` (``GET /v1/ingest/runs/{id}``) says when every text of the ingest
is scored. The status is read from the store, so any worker can answer it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Path
from sqlalchemy import Engine, select

from api.deps import (
    AdminKey,
    ApiSettingsDep,
    BackgroundScorerDep,
    EngineDep,
    SentimentVersionDep,
    SettingsDep,
)
from api.errors import AUTH_RESPONSES, BODY_RESPONSES, NOT_FOUND_RESPONSES, ApiError
from api.schemas.ingest import IngestResult, IngestStatus
from ingest.db.schema import ingest_runs
from ingest.errors import NotFoundError
from ingest.settings import Settings
from nlp.evidence import ingest_run_texts

router = APIRouter(
    prefix="/v1",
    tags=["admin"],
    responses={**AUTH_RESPONSES, **BODY_RESPONSES, **NOT_FOUND_RESPONSES},
)
log = logging.getLogger("undertow.api")


class Kind(StrEnum):
    accounts = "accounts"
    reviews = "reviews"
    tickets = "tickets"
    surveys = "surveys"
    attribution = "attribution"
    opportunities = "opportunities"
    spend = "spend"
    leads = "leads"
    experiments = "experiments"


TEXT_KINDS = {Kind.reviews, Kind.tickets, Kind.surveys, Kind.attribution}


def _run_scorer(
    scorer: Callable[[Engine, Settings, str], Any], engine: Engine, settings: Settings, kind: str
) -> None:
    try:
        result = scorer(engine, settings, kind)
        log.info("background scoring after ingest of %s: %s", kind, result)
    except Exception as exc:  # a failed background job must not take the worker down
        log.error("background scoring after ingest of %s failed: %s", kind, exc, exc_info=exc)


def _ingest_run_id(summary: Any, engine: Engine, kind: str, started: datetime) -> int | None:
    run_ids = getattr(summary, "run_ids", None)
    if run_ids:
        return int(run_ids[-1])
    c = ingest_runs.c
    stmt = (
        select(c.id)
        .where(c.kind == kind, c.source == "api", c.started_at >= started)
        .order_by(c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(stmt).scalar()


@router.post("/ingest/{kind}", response_model=IngestResult)
def ingest(
    kind: Kind,
    records: Annotated[list[dict[str, Any]], Body(description="canonical records of the kind")],
    key: AdminKey,
    engine: EngineDep,
    settings: SettingsDep,
    api_settings: ApiSettingsDep,
    background: BackgroundTasks,
    scorer: BackgroundScorerDep,
) -> IngestResult:
    """Ingest a JSON array of canonical records; the summary is the CLI's."""
    if len(records) > api_settings.max_records:
        raise ApiError(
            413,
            "payload_too_large",
            f"{len(records)} records; send at most {api_settings.max_records} per request",
        )
    from ingest.pipeline import ingest_records

    started = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    summary = ingest_records(engine, kind.value, records, settings=settings, source="api")
    counts = summary.as_dict()
    run_id = _ingest_run_id(summary, engine, kind.value, started)
    scheduled = kind in TEXT_KINDS and counts.get("inserted", 0) > 0
    if scheduled:
        background.add_task(_run_scorer, scorer, engine, settings, kind.value)
    status_url = f"/v1/ingest/runs/{run_id}" if run_id is not None else None
    return IngestResult(
        kind=kind.value,
        read=counts["read"],
        inserted=counts["inserted"],
        duplicates=counts["duplicates"],
        rejected=counts["rejected"],
        unresolved=counts["unresolved"],
        updated=counts["updated"],
        ingest_run_id=run_id,
        scoring={
            "status": "scheduled" if scheduled else "not_needed",
            "status_url": status_url if scheduled else None,
        },  # type: ignore[arg-type]
    )


@router.get("/ingest/runs/{ingest_run_id}", response_model=IngestStatus)
def ingest_status(
    ingest_run_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    key: AdminKey,
    engine: EngineDep,
    model_version: SentimentVersionDep,
) -> IngestStatus:
    """Whether the texts of an ingest are scored yet (``ready``)."""
    c = ingest_runs.c
    with engine.connect() as conn:
        run = conn.execute(select(c.kind, c.status).where(c.id == ingest_run_id)).first()
    if run is None:
        raise NotFoundError(f"no ingest run {ingest_run_id}")
    counts = ingest_run_texts(engine, ingest_run_id, model_version=model_version)
    return IngestStatus(
        ingest_run_id=ingest_run_id,
        kind=run.kind,
        status=run.status,
        ready=counts["pending"] == 0,
        model_version=model_version,
        **counts,
    )
