"""A small hand-made revenue funnel: 2 accounts, 7 leads, 6 opportunities (two of them of
prospects), ingested through the pipeline; its figures are counted by hand in the tests.

Period of the tests: 2025-01-01 .. 2025-03-31. The window of the definitions is 180 days.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from ingest.pipeline import ingest_records
from ingest.settings import Settings

ACCOUNTS = [
    {"account_id": "A1", "name": "Acme", "segment": "smb", "arr": 10_000,
     "contract_start": "2024-01-01", "tracked_source": "paid_search"},
    {"account_id": "A2", "name": "Globex", "segment": "ent", "arr": 90_000,
     "contract_start": "2024-01-01", "tracked_source": "event"},
]  # fmt: skip
LEADS = [
    # in the period: L1 L2 L3 L4 L6; L5 created before it, L7 after it
    {"lead_id": "L1", "account_id": "A1", "created_at": "2025-01-05", "mql_at": "2025-01-10",
     "sql_at": "2025-01-20", "opportunity_id": "O1", "tracked_source": "paid_search",
     "segment": "smb"},
    {"lead_id": "L2", "email": "x@prospect.example", "created_at": "2025-01-06",
     "mql_at": "2025-01-07", "tracked_source": "organic_search", "segment": "mid"},
    {"lead_id": "L3", "created_at": "2025-01-08"},
    {"lead_id": "L4", "account_id": "P-4", "created_at": "2025-01-09", "sql_at": "2025-01-15",
     "opportunity_id": "O4", "tracked_source": "Webinar", "segment": "ent"},
    {"lead_id": "L5", "created_at": "2024-12-30", "mql_at": "2025-01-03",
     "sql_at": "2025-02-01", "tracked_source": "paid_search", "segment": "smb"},
    {"lead_id": "L6", "created_at": "2025-02-10", "mql_at": "2025-09-30",
     "tracked_source": "content", "segment": "smb"},
    {"lead_id": "L7", "created_at": "2025-04-02", "tracked_source": "paid_search"},
]  # fmt: skip
OPPORTUNITIES = [
    {"opportunity_id": "O1", "account_id": "A1", "created_at": "2025-01-25", "amount": 10_000,
     "is_won": True, "closed_at": "2025-03-01", "tracked_source": "paid_search"},
    {"opportunity_id": "O2", "account_id": "A2", "created_at": "2025-02-01", "amount": 50_000,
     "is_won": False, "closed_at": "2025-03-15"},
    {"opportunity_id": "O4", "account_id": "P-4", "created_at": "2025-01-20", "amount": 20_000},
    {"opportunity_id": "O5", "account_id": "P-5", "created_at": "2025-03-10", "amount": 5_000,
     "is_won": True, "closed_at": "2025-03-20"},
    {"opportunity_id": "O6", "account_id": "A1", "created_at": "2024-11-01", "amount": 8_000,
     "is_won": True, "closed_at": "2025-01-15", "tracked_source": "paid_search"},
    {"opportunity_id": "O7", "account_id": "A2", "created_at": "2025-03-30", "amount": 1_000,
     "is_won": True, "closed_at": "2025-04-10", "tracked_source": "event"},
]  # fmt: skip


def records() -> dict[str, list[dict[str, Any]]]:
    return {"accounts": ACCOUNTS, "leads": LEADS, "opportunities": OPPORTUNITIES}


@pytest.fixture
def revenue_world(engine: Engine, settings: Settings) -> Engine:
    for kind, recs in records().items():
        out = ingest_records(engine, kind, recs, settings=settings, source="crm")
        assert out.rejected == 0, kind
    return engine
