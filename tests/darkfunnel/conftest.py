"""A small hand-made world for the dark-funnel tests: 12 accounts, 10 answers, opportunities.

Answers are phrased so the rules settle them (no encoder needed): 5 of the 10 name a dark
channel. Two accounts never answer; one answer resolves to no account.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from ingest.pipeline import ingest_records
from ingest.settings import Settings

ACCOUNTS = [
    # account_id, segment, arr, tracked_source
    ("a1", "smb", 10_000, "direct"),
    ("a2", "smb", 12_000, "organic_search"),
    ("a3", "smb", 8_000, "referral"),
    ("a4", "mid", 40_000, "paid_search"),
    ("a5", "mid", 50_000, "direct"),
    ("a6", "mid", 45_000, "review_site"),
    ("a7", "ent", 200_000, "event"),
    ("a8", "ent", 250_000, "direct"),
    ("a9", "ent", 300_000, "organic_social"),
    ("a10", "smb", 9_000, "partner"),
    ("a11", "smb", 11_000, "direct"),
    ("a12", "ent", 220_000, "direct"),
]
ANSWERS = [
    # response_id, account_id, submitted_at, answer
    ("r1", "a1", "2025-01-10", "A friend recommended you"),  # peer (dark); tracked other
    ("r2", "a2", "2025-01-20", "Googled it"),  # search; tracked search
    ("r3", "a3", "2025-02-03", "my colleague told me"),  # peer; tracked peer
    ("r4", "a4", "2025-02-14", "asked ChatGPT for tools"),  # ai (dark); tracked paid
    ("r5", "a5", "2025-02-20", "podcast"),  # podcast (dark); tracked other
    ("r6", "a6", "2025-03-01", "G2"),  # review; tracked review
    ("r7", "a7", "2025-03-05", "saw your booth at a conference"),  # event; tracked event
    ("r8", "a8", "2025-03-09", "don't remember"),  # other
    ("r9", "a9", "2025-03-15", "Reddit thread and then G2"),  # community + review (dark)
    ("r10", "a10", "2025-03-20", "our implementation partner"),  # partner; tracked partner
    ("r11", "zzz", "2025-03-21", "LinkedIn"),  # unresolved, social (dark)
]
OPPS = [
    ("o1", "a1", "2025-01-05", 5_000.0, True),
    ("o2", "a4", "2025-02-10", 20_000.0, None),
    ("o3", "a4", "2025-02-11", 7_000.0, False),  # closed-lost: not pipeline
    ("o4", "a9", "2025-03-01", 100_000.0, None),
]


def _records() -> dict[str, list[dict[str, Any]]]:
    return {
        "accounts": [
            {
                "account_id": a,
                "name": f"Company {a}",
                "segment": s,
                "arr": arr,
                "contract_start": "2024-06-01",
                "tracked_source": t,
            }
            for a, s, arr, t in ACCOUNTS
        ],
        "attribution": [
            {"response_id": r, "account_id": a, "submitted_at": d, "answer": t}
            for r, a, d, t in ANSWERS
        ],
        "opportunities": [
            {
                "opportunity_id": o,
                "account_id": a,
                "created_at": d,
                "amount": amt,
                **({} if won is None else {"is_won": won, "closed_at": d}),
            }
            for o, a, d, amt, won in OPPS
        ],
    }


@pytest.fixture
def funnel_world(engine: Engine, settings: Settings) -> Engine:
    for kind, recs in _records().items():
        ingest_records(engine, kind, recs, settings=settings, source="test")
    return engine
