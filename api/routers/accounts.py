"""GET /v1/accounts/{account_id}: one account for every role.

The id is the rest of the path: an account id holding "/" (``ACME/EU``) is fetched as
``/v1/accounts/ACME/EU`` or ``/v1/accounts/ACME%2FEU`` (the links given are the latter).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path

from api.deps import CurrentKey, EngineDep
from api.errors import AUTH_RESPONSES, NOT_FOUND_RESPONSES
from api.schemas.accounts import AccountView
from ingest.errors import NotFoundError
from nlp.evidence import account_texts, monthly_sentiment
from nlp.versions import sentiment_version
from risk.feeds import account_record, account_risk, latest_run

router = APIRouter(
    prefix="/v1", tags=["accounts"], responses={**AUTH_RESPONSES, **NOT_FOUND_RESPONSES}
)
ACCOUNT_METRICS = (
    "sentiment",
    "sentiment_trend",
    "p_churn",
    "revenue_at_risk",
    "expected_ltv",
    "p_expand_180d",
)


@router.get("/accounts/{account_id:path}", response_model=AccountView)
def get_account(
    account_id: Annotated[str, Path(max_length=128)],
    key: CurrentKey,
    engine: EngineDep,
) -> dict[str, Any]:
    """The account, its monthly sentiment trajectory, its risk and its recent texts.

    Works before the first fit too: the trajectory is then computed from scored texts
    and ``risk`` is null.
    """
    account = account_record(engine, account_id)
    if account is None:
        raise NotFoundError(f"unknown account '{account_id}'")
    run = latest_run(engine)
    risk = account_risk(engine, account_id, run_id=run["run_id"]) if run else None
    version = run["sentiment_model_version"] if run else None
    version = version or sentiment_version(engine)
    if risk and risk["trajectory"]:
        trajectory, source = risk["trajectory"], "snapshot"
    else:
        trajectory, source = monthly_sentiment(engine, account_id, model_version=version), "texts"
    _, evidence = account_texts(engine, account_id, model_version=version, limit=10, max_chars=600)
    ident = quote(account_id, safe="")
    return {
        "account": account,
        "trajectory": trajectory,
        "trajectory_source": source,
        "risk": risk,
        "evidence": evidence,
        "provenance": {
            m: f"/v1/provenance/{m}/{ident}"
            for m in ACCOUNT_METRICS
            if m != "p_expand_180d" or (risk and risk.get("p_expand_180d") is not None)
        },
    }
