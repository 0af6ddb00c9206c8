"""GET /health: liveness plus what the service would serve (no key needed)."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Response
from sqlalchemy.exc import SQLAlchemyError

from api.deps import EngineDep
from api.schemas.health import Health
from risk.feeds import latest_run

router = APIRouter(tags=["health"])
log = logging.getLogger("undertow.api")


def _package_version() -> str:
    try:
        return version("undertow")
    except PackageNotFoundError:
        return "0+unknown"


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "the database cannot be reached"}},
)
def health(engine: EngineDep, response: Response) -> Health:
    """Status, whether the database answers, and the model versions being served."""
    try:
        run = latest_run(engine, details=False)
    except SQLAlchemyError as exc:
        log.warning("health: database unreachable: %s", exc)
        response.status_code = 503
        return Health(status="degraded", database=False, version=_package_version())
    return Health(
        status="ok",
        database=True,
        model_version=run["model_version"] if run else None,
        sentiment_model_version=run["sentiment_model_version"] if run else None,
        as_of=run["as_of"] if run else None,
        run_id=run["run_id"] if run else None,
        version=_package_version(),
    )
